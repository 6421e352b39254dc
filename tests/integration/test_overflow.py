"""max_depth with the REJECT_NEW and DROP_OLDEST overflow policies (SPEC §2)."""

from __future__ import annotations

import grpc
from integration_helpers import MS, code, payloads
from rpc_helpers import ack, create_queue, pull, send, stats, status

from conveyor.v1 import types_pb2


def test_reject_new_fails_only_the_overflowing_messages(broker_stub, admin_stub, qname):
    create_queue(
        admin_stub, qname, max_depth=2, overflow_policy=types_pb2.OVERFLOW_POLICY_REJECT_NEW
    )
    results = send(broker_stub, qname, "m1", "m2", "m3", "m4", expect_ok=False)
    assert [r.HasField("error") for r in results] == [False, False, True, True]
    for r in results[2:]:
        assert r.error.code == code(grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert r.error.message
    s = stats(admin_stub, qname)
    assert (s.depth, s.sent) == (2, 2)

    # Room again once one is consumed.
    [d] = pull(broker_stub, qname, max_messages=1, wait=1)
    assert ack(broker_stub, [d.ack_id]) == []
    send(broker_stub, qname, "m5")
    got = pull(broker_stub, qname, max_messages=10, wait=1)
    assert payloads(got) == ["m2", "m5"]


def test_default_overflow_policy_rejects_new(broker_stub, admin_stub, qname):
    q = create_queue(admin_stub, qname, max_depth=1)
    assert q.overflow_policy in (
        types_pb2.OVERFLOW_POLICY_UNSPECIFIED,
        types_pb2.OVERFLOW_POLICY_REJECT_NEW,
    )
    ok, full = send(broker_stub, qname, "a", "b", expect_ok=False)
    assert not ok.HasField("error")
    assert full.error.code == code(grpc.StatusCode.RESOURCE_EXHAUSTED)


def test_in_flight_messages_count_towards_depth(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, max_depth=1)
    send(broker_stub, qname, "held")
    [d] = pull(broker_stub, qname, wait=1)
    [r] = send(broker_stub, qname, "no-room", expect_ok=False)
    assert r.error.code == code(grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert ack(broker_stub, [d.ack_id]) == []


def test_drop_oldest_drops_the_oldest_and_accepts_the_new(broker_stub, admin_stub, qname):
    create_queue(
        admin_stub, qname, max_depth=2, overflow_policy=types_pb2.OVERFLOW_POLICY_DROP_OLDEST
    )
    ids = [r.message_id for r in send(broker_stub, qname, "old", "mid")]
    [new] = send(broker_stub, qname, "new")
    assert not new.HasField("error")
    s = stats(admin_stub, qname)
    assert (s.dropped, s.depth, s.sent) == (1, 2, 3)
    assert status(broker_stub, qname, ids[0]).state == MS.MESSAGE_STATE_DROPPED
    assert status(broker_stub, qname, ids[1]).state == MS.MESSAGE_STATE_PENDING

    got = pull(broker_stub, qname, max_messages=10, wait=1)
    assert payloads(got) == ["mid", "new"]
    assert ack(broker_stub, [d.ack_id for d in got]) == []
