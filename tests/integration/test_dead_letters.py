"""Dead letters (SPEC §2, §3, §5): max deliveries, nack to DLQ, list, redrive, validation."""

from __future__ import annotations

import grpc
from integration_helpers import MS, G, payloads, send_one
from rpc_helpers import (
    ack,
    create_queue,
    dead_letters,
    message,
    nack,
    pull,
    rpc_code,
    stats,
    status,
    wait_until,
)

from conveyor.v1 import admin_pb2, types_pb2


def _redrive(admin_stub, dlq: str, destination: str = "", max_messages: int = 0):
    req = admin_pb2.RedriveDeadLettersRequest(
        queue=dlq, destination=destination, max_messages=max_messages
    )
    return admin_stub.RedriveDeadLetters(req, timeout=10)


def _queues(admin_stub, qname: str) -> tuple[str, str]:
    dlq = f"{qname}-dlq"
    create_queue(admin_stub, dlq)
    create_queue(admin_stub, qname, max_deliveries=2, dead_letter_queue=dlq)
    return qname, dlq


def _dead_letter_by_nack(broker_stub, queue: str, payload: str, reason: str) -> str:
    mid = send_one(broker_stub, queue, payload)
    got = pull(broker_stub, queue, max_messages=10, wait=1)
    [d] = [d for d in got if d.message.id == mid]
    assert nack(broker_stub, [d.ack_id], dead_letter=True, reason=reason) == []
    return mid


def test_max_deliveries_moves_message_to_dead_letter_queue(broker_stub, admin_stub, qname):
    q, dlq = _queues(admin_stub, qname)
    mid = send_one(broker_stub, q, "poison")
    for attempt in (1, 2):
        [d] = pull(broker_stub, q, wait=1)
        assert d.attempt == attempt
        assert nack(broker_stub, [d.ack_id]) == []
    # No third delivery from the source queue.
    assert pull(broker_stub, q, wait=0.2) == []

    [dead] = wait_until(lambda: dead_letters(admin_stub, dlq), timeout=2, what="dead letter")
    assert dead.payload == b"poison"
    assert dead.dead_letter.reason == "max deliveries exceeded"
    assert dead.dead_letter.source_queue == q
    assert dead.dead_letter.attempts == 2
    assert dead.dead_letter.source_message_id == mid
    assert dead.dead_letter.dead_letter_time.seconds > 0

    st = status(broker_stub, q, mid)
    assert st.state == MS.MESSAGE_STATE_DEAD_LETTERED
    s = stats(admin_stub, q)
    assert (s.dead_lettered, s.depth) == (1, 0)
    # The dead letter is an ordinary, consumable message of the DLQ.
    [from_dlq] = pull(broker_stub, dlq, wait=1)
    assert from_dlq.message.payload == b"poison"
    assert from_dlq.message.dead_letter.source_queue == q
    assert ack(broker_stub, [from_dlq.ack_id]) == []


def test_max_deliveries_counts_lease_expiries(broker_stub, admin_stub, qname):
    q, dlq = _queues(admin_stub, qname)
    send_one(broker_stub, q, "slow-poison")
    [d1] = pull(broker_stub, q, wait=1, lease=0.2)
    [d2] = pull(broker_stub, q, wait=2, lease=0.2)
    assert (d1.attempt, d2.attempt) == (1, 2)
    [dead] = wait_until(lambda: dead_letters(admin_stub, dlq), timeout=3, what="dead letter")
    assert dead.dead_letter.reason == "max deliveries exceeded"
    assert dead.dead_letter.attempts == 2


def test_nack_straight_to_dead_letters_with_reason(broker_stub, admin_stub, qname):
    q, dlq = _queues(admin_stub, qname)
    mid = _dead_letter_by_nack(broker_stub, q, "bad", "cannot parse payload")
    [dead] = wait_until(lambda: dead_letters(admin_stub, dlq), timeout=2, what="dead letter")
    assert dead.payload == b"bad"
    assert dead.dead_letter.reason == "cannot parse payload"
    assert dead.dead_letter.source_queue == q
    assert dead.dead_letter.attempts == 1
    assert dead.dead_letter.source_message_id == mid
    assert status(broker_stub, q, mid).state == MS.MESSAGE_STATE_DEAD_LETTERED
    assert pull(broker_stub, q, wait=0.1) == []


def test_redrive_back_to_source_queue(broker_stub, admin_stub, qname):
    q, dlq = _queues(admin_stub, qname)
    _dead_letter_by_nack(broker_stub, q, "again-1", "transient")
    _dead_letter_by_nack(broker_stub, q, "again-2", "transient")
    assert len(dead_letters(admin_stub, dlq)) == 2

    resp = _redrive(admin_stub, dlq, max_messages=1)
    assert (resp.redriven, resp.skipped) == (1, 0)
    assert len(dead_letters(admin_stub, dlq)) == 1

    resp = _redrive(admin_stub, dlq)
    assert resp.redriven == 1
    assert dead_letters(admin_stub, dlq) == []
    assert stats(admin_stub, dlq).depth == 0

    got = pull(broker_stub, q, max_messages=10, wait=1)
    if len(got) < 2:
        got += pull(broker_stub, q, max_messages=10, wait=1)
    assert sorted(payloads(got)) == ["again-1", "again-2"]
    assert all(d.message.queue == q for d in got)
    assert ack(broker_stub, [d.ack_id for d in got]) == []


def test_redrive_to_an_explicit_destination(broker_stub, admin_stub, qname):
    q, dlq = _queues(admin_stub, qname)
    elsewhere = f"{qname}-fixed"
    create_queue(admin_stub, elsewhere)
    _dead_letter_by_nack(broker_stub, q, "to-elsewhere", "needs manual fix")
    assert _redrive(admin_stub, dlq, destination=elsewhere).redriven == 1
    [d] = pull(broker_stub, elsewhere, wait=1)
    assert d.message.payload == b"to-elsewhere"
    assert pull(broker_stub, q, wait=0.2) == []
    assert dead_letters(admin_stub, dlq) == []
    assert ack(broker_stub, [d.ack_id]) == []


def test_redrive_leaves_what_a_full_destination_cannot_take(broker_stub, admin_stub, qname):
    q, dlq = _queues(admin_stub, qname)
    small = f"{qname}-small"
    create_queue(admin_stub, small, max_depth=1)
    _dead_letter_by_nack(broker_stub, q, "first", "x")
    _dead_letter_by_nack(broker_stub, q, "second", "x")
    result = _redrive(admin_stub, dlq, destination=small)
    assert (result.redriven, result.skipped) == (1, 1)
    assert len(dead_letters(admin_stub, dlq)) == 1
    assert stats(admin_stub, small).depth == 1


def test_redrive_to_a_missing_destination_is_not_found(broker_stub, admin_stub, qname):
    q, dlq = _queues(admin_stub, qname)
    _dead_letter_by_nack(broker_stub, q, "stays", "x")
    assert (
        rpc_code(_redrive, admin_stub, dlq, destination=f"{qname}-missing")
        == grpc.StatusCode.NOT_FOUND
    )
    assert len(dead_letters(admin_stub, dlq)) == 1


def test_dead_letter_queue_must_exist(admin_stub, qname):
    req = admin_pb2.CreateQueueRequest(
        queue=types_pb2.Queue(name=qname, dead_letter_queue=f"{qname}-nowhere")
    )
    assert rpc_code(admin_stub.CreateQueue, req) == grpc.StatusCode.FAILED_PRECONDITION
    # Nothing was created.
    get = admin_pb2.GetQueueRequest(queue=qname)
    assert rpc_code(admin_stub.GetQueue, get) == grpc.StatusCode.NOT_FOUND

    create_queue(admin_stub, qname)
    upd = admin_pb2.UpdateQueueRequest(
        queue=types_pb2.Queue(name=qname, dead_letter_queue=f"{qname}-nowhere"),
        update_mask={"paths": ["dead_letter_queue"]},
    )
    assert rpc_code(admin_stub.UpdateQueue, upd) == grpc.StatusCode.FAILED_PRECONDITION
    assert admin_stub.GetQueue(get).queue.dead_letter_queue == ""


def test_queue_cannot_be_its_own_dead_letter_queue(admin_stub, qname):
    req = admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=qname, dead_letter_queue=qname))
    assert rpc_code(admin_stub.CreateQueue, req) == grpc.StatusCode.INVALID_ARGUMENT

    create_queue(admin_stub, qname)
    upd = admin_pb2.UpdateQueueRequest(
        queue=types_pb2.Queue(name=qname, dead_letter_queue=qname),
        update_mask={"paths": ["dead_letter_queue"]},
    )
    assert rpc_code(admin_stub.UpdateQueue, upd) == grpc.StatusCode.INVALID_ARGUMENT


def test_deleting_a_queue_used_as_dead_letter_queue_fails(admin_stub, qname):
    q, dlq = _queues(admin_stub, qname)
    delete = admin_pb2.DeleteQueueRequest(queue=dlq)
    assert rpc_code(admin_stub.DeleteQueue, delete) == grpc.StatusCode.FAILED_PRECONDITION
    assert admin_stub.GetQueue(admin_pb2.GetQueueRequest(queue=dlq)).queue.name == dlq

    # Once no queue points at it, it can go.
    admin_stub.UpdateQueue(
        admin_pb2.UpdateQueueRequest(
            queue=types_pb2.Queue(name=q), update_mask={"paths": ["dead_letter_queue"]}
        )
    )
    admin_stub.DeleteQueue(delete)
    get = admin_pb2.GetQueueRequest(queue=dlq)
    assert rpc_code(admin_stub.GetQueue, get) == grpc.StatusCode.NOT_FOUND


def test_broadcast_copy_dead_letter_names_its_subscription(broker_stub, admin_stub, qname):
    q, dlq = _queues(admin_stub, qname)
    for sub in ("a", "b"):
        assert pull(broker_stub, q, sub) == []
    mid = send_one(broker_stub, q, message("fan", guarantee=G.GUARANTEE_BROADCAST))
    [da] = pull(broker_stub, q, "a", wait=1)
    [db] = pull(broker_stub, q, "b", wait=1)
    assert nack(broker_stub, [da.ack_id], dead_letter=True, reason="a rejects it") == []
    assert ack(broker_stub, [db.ack_id]) == []

    [dead] = wait_until(lambda: dead_letters(admin_stub, dlq), timeout=2, what="dead letter")
    assert dead.dead_letter.subscription == "a"
    assert dead.dead_letter.reason == "a rejects it"
    assert dead.dead_letter.source_message_id == mid
    st = status(broker_stub, q, mid)
    assert list(st.acked_by) == ["b"]
    assert st.state == MS.MESSAGE_STATE_DEAD_LETTERED
    per_sub = {s.subscription: s.state for s in st.subscriptions}
    assert per_sub == {
        "a": MS.MESSAGE_STATE_DEAD_LETTERED,
        "b": MS.MESSAGE_STATE_DELIVERED,
    }
