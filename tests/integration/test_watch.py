"""WatchMessage and GetMessageStatus: a publisher follows its message without polling."""

from __future__ import annotations

import time

import grpc
from rpc_helpers import ack, create_queue, dur, message, pull, rpc_code, send
from stream_helpers import StreamPump

from conveyor.v1 import admin_pb2, broker_pb2, types_pb2

S = types_pb2  # MessageState values live in types_pb2


def watch(broker_stub, queue: str, message_id: str) -> StreamPump:
    return StreamPump(
        broker_stub.WatchMessage(broker_pb2.WatchMessageRequest(queue=queue, message_id=message_id))
    )


def next_status(pump: StreamPump, timeout: float = 5.0) -> types_pb2.MessageStatus:
    status = pump.next(timeout)
    assert status is not None, f"no status update within {timeout}s (error: {pump.error})"
    return status


def until_state(pump: StreamPump, state: int, timeout: float = 5.0) -> list:
    """Statuses up to and including the first in ``state``."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = next_status(pump, deadline - time.monotonic())
        seen.append(status)
        if status.state == state:
            return seen
    raise AssertionError(f"never reached state {state}: {[s.state for s in seen]}")


def get_status(broker_stub, queue: str, message_id: str) -> types_pb2.MessageStatus:
    return broker_stub.GetMessageStatus(
        broker_pb2.GetMessageStatusRequest(queue=queue, message_id=message_id), timeout=5
    )


def test_watch_follows_pending_in_flight_delivered(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    [r] = send(broker_stub, qname, b"follow me")
    pump = watch(broker_stub, qname, r.message_id)
    try:
        first = next_status(pump)
        assert first.state == S.MESSAGE_STATE_PENDING
        assert (first.queue, first.message_id, first.attempts) == (qname, r.message_id, 0)
        assert first.guarantee in (S.GUARANTEE_UNSPECIFIED, S.GUARANTEE_AT_LEAST_ONCE)

        [d] = pull(broker_stub, qname, "s", lease=30)
        in_flight = until_state(pump, S.MESSAGE_STATE_IN_FLIGHT)[-1]
        assert in_flight.attempts == 1

        assert ack(broker_stub, [d.ack_id]) == []
        done = until_state(pump, S.MESSAGE_STATE_DELIVERED)[-1]
        assert list(done.acked_by) == ["s"]
        assert done.attempts == 1
        # A final state ends the stream, cleanly.
        assert pump.ended(5), "WatchMessage did not end after the final state"
        assert pump.next(0.1) is None
        assert pump.error is None
    finally:
        pump.cancel()

    status = get_status(broker_stub, qname, r.message_id)
    assert status.state == S.MESSAGE_STATE_DELIVERED
    assert list(status.acked_by) == ["s"]
    assert status.attempts == 1


def test_watch_shows_redelivery_attempts(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    [r] = send(broker_stub, qname, b"retry")
    pump = watch(broker_stub, qname, r.message_id)
    try:
        assert next_status(pump).state == S.MESSAGE_STATE_PENDING
        [d1] = pull(broker_stub, qname, "s", lease=0.2)
        assert d1.attempt == 1
        [d2] = pull(broker_stub, qname, "s", wait=3.0, lease=30)  # after the lease ran out
        assert d2.attempt == 2
        assert ack(broker_stub, [d2.ack_id]) == []
        seen = until_state(pump, S.MESSAGE_STATE_DELIVERED)
        attempts_in_flight = [s.attempts for s in seen if s.state == S.MESSAGE_STATE_IN_FLIGHT]
        assert 2 in attempts_in_flight
        assert seen[-1].attempts == 2
        assert pump.ended(5)
    finally:
        pump.cancel()


def test_watch_broadcast_shows_acked_by_growing(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    subs = ["s1", "s2", "s3"]
    for s in subs:
        assert pull(broker_stub, qname, s) == []
    [r] = send(broker_stub, qname, message(b"all", guarantee=S.GUARANTEE_BROADCAST))
    pump = watch(broker_stub, qname, r.message_id)
    try:
        first = next_status(pump)
        assert first.state == S.MESSAGE_STATE_PENDING
        assert first.required_acks == 3
        assert list(first.acked_by) == []
        assert sorted(c.subscription for c in first.subscriptions) == subs

        deliveries = {s: pull(broker_stub, qname, s, lease=30) for s in subs}
        assert all(len(d) == 1 for d in deliveries.values())
        acked: list[str] = []
        for s in subs:
            assert ack(broker_stub, [deliveries[s][0].ack_id]) == []
            acked.append(s)
            deadline = time.monotonic() + 5
            while True:
                status = next_status(pump, deadline - time.monotonic())
                if sorted(status.acked_by) == sorted(acked):
                    break
                # acked_by only ever grows, and only with subscriptions that acked.
                assert set(status.acked_by) <= set(acked)
            if len(acked) < 3:
                assert status.state in (S.MESSAGE_STATE_PENDING, S.MESSAGE_STATE_IN_FLIGHT)
            else:
                assert status.state == S.MESSAGE_STATE_DELIVERED
        assert pump.ended(5)
        assert pump.error is None
    finally:
        pump.cancel()
    final = get_status(broker_stub, qname, r.message_id)
    assert final.state == S.MESSAGE_STATE_DELIVERED
    assert sorted(final.acked_by) == subs


def test_watch_ends_dead_lettered_with_nack_reason(broker_stub, admin_stub, qname):
    dlq = f"{qname}-dlq"
    create_queue(admin_stub, dlq)
    create_queue(admin_stub, qname, dead_letter_queue=dlq)
    [r] = send(broker_stub, qname, b"poison")
    pump = watch(broker_stub, qname, r.message_id)
    try:
        assert next_status(pump).state == S.MESSAGE_STATE_PENDING
        [d] = pull(broker_stub, qname, "s", lease=30)
        failed = broker_stub.Nack(
            broker_pb2.NackRequest(ack_ids=[d.ack_id], dead_letter=True, reason="bad json"),
            timeout=5,
        ).failed_ack_ids
        assert list(failed) == []
        last = until_state(pump, S.MESSAGE_STATE_DEAD_LETTERED)[-1]
        assert "bad json" in last.reason
        assert pump.ended(5)
    finally:
        pump.cancel()
    letters = admin_stub.ListDeadLetters(
        admin_pb2.ListDeadLettersRequest(queue=dlq), timeout=5
    ).messages
    assert [m.payload for m in letters] == [b"poison"]
    assert letters[0].dead_letter.source_queue == qname
    assert letters[0].dead_letter.source_message_id == r.message_id
    assert "bad json" in letters[0].dead_letter.reason


def test_watch_ends_dead_lettered_after_max_deliveries(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, max_deliveries=2)
    [r] = send(broker_stub, qname, b"flaky")
    pump = watch(broker_stub, qname, r.message_id)
    try:
        assert next_status(pump).state == S.MESSAGE_STATE_PENDING
        assert len(pull(broker_stub, qname, "s", lease=0.2)) == 1
        [d2] = pull(broker_stub, qname, "s", wait=3.0, lease=0.2)
        assert d2.attempt == 2
        last = until_state(pump, S.MESSAGE_STATE_DEAD_LETTERED)[-1]
        assert "max deliveries" in last.reason
        assert last.attempts == 2
        assert pump.ended(5)
    finally:
        pump.cancel()
    assert pull(broker_stub, qname, "s", wait=0.3) == []


def test_watch_of_finished_message_answers_once_and_ends(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    [r] = send(broker_stub, qname, b"done")
    [d] = pull(broker_stub, qname, "s", lease=30)
    assert ack(broker_stub, [d.ack_id]) == []
    pump = watch(broker_stub, qname, r.message_id)
    try:
        assert next_status(pump).state == S.MESSAGE_STATE_DELIVERED
        assert pump.ended(5)
        assert pump.next(0.1) is None
        assert pump.error is None
    finally:
        pump.cancel()


def test_watch_unknown_message_is_not_found(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    pump = watch(broker_stub, qname, "no-such-message")
    assert pump.ended(5)
    assert pump.code() == grpc.StatusCode.NOT_FOUND
    pump = watch(broker_stub, f"{qname}-missing", "no-such-message")
    assert pump.ended(5)
    assert pump.code() == grpc.StatusCode.NOT_FOUND
    code = rpc_code(lambda: get_status(broker_stub, qname, "no-such-message"))
    assert code == grpc.StatusCode.NOT_FOUND


def test_status_of_delayed_message_is_pending(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    [r] = send(broker_stub, qname, message(b"later", delay=dur(30)))
    status = get_status(broker_stub, qname, r.message_id)
    assert status.state == S.MESSAGE_STATE_PENDING
    assert status.attempts == 0
    assert pull(broker_stub, qname, "s") == []
