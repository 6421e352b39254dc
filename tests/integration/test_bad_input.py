"""Bad input of every kind gets the right status code, and never harms other messages.

Per-message problems in a Send batch fail that message alone (its SendResult.error); the good
messages of the same batch are stored, deliverable and counted. Problems with the request
itself fail the whole call and store nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import code_pb2
from rpc_helpers import ack, create_queue, dur, pull, rpc_code, send, stats, wait_until
from stream_helpers import StreamPump, numbered, rpc_error

from conveyor.v1 import admin_pb2, broker_pb2, types_pb2

YEAR_AND_MORE = 400 * 24 * 3600.0


def neg(seconds: int = 1) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=-seconds)


def good(i: int) -> types_pb2.Message:
    return types_pb2.Message(topic=f"good.m{i}", payload=f"good-{i}".encode())


def assert_whole_request_fails(
    call: Callable[[], broker_pb2.SendResponse], code: grpc.StatusCode, n: int
) -> None:
    """The request fails as a whole: an RPC error, or (equivalently) every message with it."""
    error: grpc.RpcError | None = None
    try:
        resp = call()
    except grpc.RpcError as exc:
        error = exc
    if error is not None:
        assert error.code() == code, error.details()
        assert error.details()
        return
    assert len(resp.results) == n
    for r in resp.results:
        assert r.HasField("error")
        assert r.error.code == code.value[0], r.error
        assert not r.message_id


def check_batch(
    broker_stub,
    admin_stub,
    queue: str,
    bad: list[tuple[types_pb2.Message, int]],
) -> None:
    """Sends good and bad messages interleaved; checks each result and what was stored."""
    messages: list[types_pb2.Message] = []
    expect: list[int | None] = []
    for i, (msg, code) in enumerate(bad):
        messages += [good(i), msg]
        expect += [None, code]
    messages.append(good(len(bad)))
    expect.append(None)
    before = stats(admin_stub, queue)
    resp = broker_stub.Send(broker_pb2.SendRequest(queue=queue, messages=messages), timeout=10)
    assert len(resp.results) == len(messages)
    good_ids = []
    for msg, want, r in zip(messages, expect, resp.results, strict=True):
        if want is None:
            assert not r.HasField("error"), (msg.topic, r.error)
            assert r.message_id
            good_ids.append(r.message_id)
        else:
            assert r.HasField("error"), f"bad message {msg} was accepted"
            assert r.error.code == want, (msg.topic[:40], r.error)
            assert r.error.message, "an error needs a message a person can act on"
            assert not r.message_id
    after = stats(admin_stub, queue)
    assert after.sent - before.sent == len(good_ids)
    assert after.ready - before.ready == len(good_ids)
    got = pull(broker_stub, queue, "s", max_messages=1000)
    assert sorted(d.message.id for d in got) == sorted(good_ids)
    assert {d.message.payload for d in got} == {
        m.payload for m, w in zip(messages, expect, strict=True) if w is None
    }
    assert ack(broker_stub, [d.ack_id for d in got]) == []
    assert wait_until(lambda: stats(admin_stub, queue).acked - before.acked == len(good_ids))


# -- per-message problems -------------------------------------------------------------------


def test_invalid_topics_fail_alone(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    bad = [
        types_pb2.Message(topic="a..b", payload=b"x"),
        types_pb2.Message(topic="a b", payload=b"x"),
        types_pb2.Message(topic="t" * 300, payload=b"x"),
        types_pb2.Message(topic=".a", payload=b"x"),
        types_pb2.Message(topic="a.", payload=b"x"),
        types_pb2.Message(topic="a.*", payload=b"x"),  # wildcards are for patterns, not topics
        types_pb2.Message(topic="a.#", payload=b"x"),
    ]
    check_batch(broker_stub, admin_stub, qname, [(m, code_pb2.INVALID_ARGUMENT) for m in bad])


def test_payload_over_queue_limit_fails_alone(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, max_payload_bytes=100)
    check_batch(
        broker_stub,
        admin_stub,
        qname,
        [
            (types_pb2.Message(payload=b"x" * 101), code_pb2.RESOURCE_EXHAUSTED),
            (types_pb2.Message(payload=b"y" * 5000), code_pb2.RESOURCE_EXHAUSTED),
        ],
    )
    # Exactly at the limit is fine.
    send(broker_stub, qname, b"z" * 100)


def test_unknown_guarantee_fails_alone(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    check_batch(
        broker_stub,
        admin_stub,
        qname,
        [
            (types_pb2.Message(payload=b"x", guarantee=99), code_pb2.INVALID_ARGUMENT),
            (types_pb2.Message(payload=b"x", guarantee=-1), code_pb2.INVALID_ARGUMENT),
        ],
    )


def test_bad_durations_fail_alone(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    year = dur(YEAR_AND_MORE)
    check_batch(
        broker_stub,
        admin_stub,
        qname,
        [
            (types_pb2.Message(payload=b"x", delay=neg()), code_pb2.INVALID_ARGUMENT),
            (types_pb2.Message(payload=b"x", ttl=neg()), code_pb2.INVALID_ARGUMENT),
            (
                types_pb2.Message(payload=b"x", delay=duration_pb2.Duration(nanos=-5)),
                code_pb2.INVALID_ARGUMENT,
            ),
            (types_pb2.Message(payload=b"x", delay=year), code_pb2.INVALID_ARGUMENT),
            (types_pb2.Message(payload=b"x", ttl=year), code_pb2.INVALID_ARGUMENT),
        ],
    )


def test_quorum_with_zero_required_acks_fails_alone(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    pull(broker_stub, qname, "s")  # one subscription exists, so quorum 1 would be possible
    check_batch(
        broker_stub,
        admin_stub,
        qname,
        [
            (
                types_pb2.Message(payload=b"q", guarantee=types_pb2.GUARANTEE_QUORUM),
                code_pb2.INVALID_ARGUMENT,
            ),
            (
                types_pb2.Message(
                    payload=b"q", guarantee=types_pb2.GUARANTEE_QUORUM, required_acks=5
                ),
                code_pb2.FAILED_PRECONDITION,
            ),
        ],
    )


def test_mixed_bad_batch_keeps_good_messages(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, max_payload_bytes=64)
    check_batch(
        broker_stub,
        admin_stub,
        qname,
        [
            (types_pb2.Message(topic="a..b"), code_pb2.INVALID_ARGUMENT),
            (types_pb2.Message(payload=b"p" * 65), code_pb2.RESOURCE_EXHAUSTED),
            (types_pb2.Message(guarantee=42), code_pb2.INVALID_ARGUMENT),
            (types_pb2.Message(ttl=neg(3)), code_pb2.INVALID_ARGUMENT),
            (
                types_pb2.Message(guarantee=types_pb2.GUARANTEE_QUORUM, required_acks=0),
                code_pb2.INVALID_ARGUMENT,
            ),
        ],
    )


# -- problems with the whole request ----------------------------------------------------------


def test_missing_queue_is_not_found(broker_stub, admin_stub, qname):
    assert_whole_request_fails(
        lambda: broker_stub.Send(
            broker_pb2.SendRequest(queue=qname, messages=[good(0), good(1)]), timeout=5
        ),
        grpc.StatusCode.NOT_FOUND,
        2,
    )
    # The failed Send did not create the queue as a side effect.
    code = rpc_code(lambda: admin_stub.GetQueue(admin_pb2.GetQueueRequest(queue=qname), timeout=5))
    assert code == grpc.StatusCode.NOT_FOUND
    for call in (
        lambda: pull(broker_stub, qname, "s"),
        lambda: stats(admin_stub, qname),
        lambda: admin_stub.PurgeQueue(admin_pb2.PurgeQueueRequest(queue=qname), timeout=5),
        lambda: admin_stub.DeleteQueue(admin_pb2.DeleteQueueRequest(queue=qname), timeout=5),
        lambda: admin_stub.PeekMessages(admin_pb2.PeekMessagesRequest(queue=qname), timeout=5),
    ):
        assert rpc_code(call) == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("name", ["bad name", "a/b", "q" * 256, "a:b", ""])
def test_invalid_queue_name_is_invalid_argument(broker_stub, admin_stub, name):
    err = rpc_error(
        lambda: admin_stub.CreateQueue(
            admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=name)), timeout=5
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details()
    if name:
        # A malformed name is a bad argument wherever it appears, not a missing queue.
        assert_whole_request_fails(
            lambda: broker_stub.Send(
                broker_pb2.SendRequest(queue=name, messages=[good(0)]), timeout=5
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            1,
        )


def test_empty_send_is_invalid(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    code = rpc_code(lambda: broker_stub.Send(broker_pb2.SendRequest(queue=qname), timeout=5))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert stats(admin_stub, qname).sent == 0


def test_too_many_messages_in_one_send_is_invalid(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    messages = [types_pb2.Message(payload=b"m") for _ in range(1001)]
    err = rpc_error(
        lambda: broker_stub.Send(broker_pb2.SendRequest(queue=qname, messages=messages), timeout=10)
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "max_batch_messages" in err.details()
    assert "1000" in err.details()
    s = stats(admin_stub, qname)
    assert (s.sent, s.ready, s.depth) == (0, 0, 0)
    # 1000 is allowed.
    resp = broker_stub.Send(
        broker_pb2.SendRequest(queue=qname, messages=messages[:1000]), timeout=10
    )
    assert all(not r.HasField("error") for r in resp.results)
    assert stats(admin_stub, qname).ready == 1000


def test_unknown_wait_for_is_invalid(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    assert_whole_request_fails(
        lambda: broker_stub.Send(
            broker_pb2.SendRequest(queue=qname, messages=[good(0)], wait_for=7), timeout=5
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        1,
    )
    assert stats(admin_stub, qname).sent == 0


@pytest.mark.parametrize(
    ("fields", "what"),
    [
        ({"kind": 99}, "unknown kind"),
        ({"overflow_policy": 17}, "unknown overflow policy"),
        ({"lease": duration_pb2.Duration(seconds=-1)}, "negative lease"),
        ({"lease": duration_pb2.Duration(seconds=int(YEAR_AND_MORE))}, "lease over a year"),
        ({"message_ttl": duration_pb2.Duration(seconds=-5)}, "negative ttl"),
        ({"default_delay": duration_pb2.Duration(seconds=-5)}, "negative delay"),
        ({"dedup_window": duration_pb2.Duration(nanos=-1)}, "negative dedup window"),
    ],
)
def test_bad_queue_config_is_invalid(admin_stub, qname, fields: dict[str, Any], what: str):
    err = rpc_error(lambda: create_queue(admin_stub, qname, **fields))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, what
    assert (
        rpc_code(lambda: admin_stub.GetQueue(admin_pb2.GetQueueRequest(queue=qname), timeout=5))
        == grpc.StatusCode.NOT_FOUND
    )


# -- consuming with bad arguments ------------------------------------------------------------


def test_bad_leases_and_waits_are_invalid(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    send(broker_stub, qname, *numbered(1))
    bad_pulls = [
        broker_pb2.PullRequest(queue=qname, subscription="s", lease=dur(YEAR_AND_MORE)),
        broker_pb2.PullRequest(queue=qname, subscription="s", lease=neg()),
        broker_pb2.PullRequest(queue=qname, subscription="s", wait=neg()),
    ]
    for req in bad_pulls:
        assert rpc_code(lambda r=req: broker_stub.Pull(r, timeout=5)) == (
            grpc.StatusCode.INVALID_ARGUMENT
        ), req
    # Nothing was leased by the failed calls.
    s = stats(admin_stub, qname)
    assert (s.ready, s.in_flight, s.delivered) == (1, 0, 0)

    pump = StreamPump(
        broker_stub.Receive(
            broker_pb2.ReceiveRequest(queue=qname, subscription="s", lease=dur(YEAR_AND_MORE))
        )
    )
    assert pump.ended(5)
    assert pump.code() == grpc.StatusCode.INVALID_ARGUMENT

    [d] = pull(broker_stub, qname, "s", lease=30)
    for req in (
        broker_pb2.ModifyLeaseRequest(ack_ids=[d.ack_id], lease=dur(YEAR_AND_MORE)),
        broker_pb2.ModifyLeaseRequest(ack_ids=[d.ack_id], lease=neg()),
    ):
        code = rpc_code(lambda r=req: broker_stub.ModifyLease(r, timeout=5))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
    code = rpc_code(
        lambda: broker_stub.Nack(broker_pb2.NackRequest(ack_ids=[d.ack_id], delay=neg()), timeout=5)
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    # The delivery is untouched by the rejected calls and still acks.
    assert ack(broker_stub, [d.ack_id]) == []
    s = stats(admin_stub, qname)
    assert (s.acked, s.nacked, s.in_flight, s.depth) == (1, 0, 0, 0)


def test_unknown_ack_ids_are_reported_not_fatal(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    send(broker_stub, qname, *numbered(2))
    d1, d2 = pull(broker_stub, qname, "s", max_messages=2, lease=30)
    assert ack(broker_stub, ["nope", d1.ack_id, ""]) == ["nope", ""]
    failed = broker_stub.Nack(
        broker_pb2.NackRequest(ack_ids=[d1.ack_id, "zzz"]), timeout=5
    ).failed_ack_ids
    assert list(failed) == [d1.ack_id, "zzz"]  # d1 was already acked
    failed = broker_stub.ModifyLease(
        broker_pb2.ModifyLeaseRequest(ack_ids=["gone", d2.ack_id], lease=dur(60)), timeout=5
    ).failed_ack_ids
    assert list(failed) == ["gone"]
    assert ack(broker_stub, [d2.ack_id]) == []
    s = stats(admin_stub, qname)
    assert (s.acked, s.nacked, s.depth) == (2, 0, 0)
