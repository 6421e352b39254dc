"""Delayed messages and CancelMessage (SPEC §4, §5)."""

from __future__ import annotations

import time

import grpc
from integration_helpers import MS, send_one
from rpc_helpers import ack, create_queue, message, nack, peek, pull, rpc_code, secs, stats, status

from conveyor.v1 import broker_pb2

TWO_DAYS = 2 * 24 * 3600.0


def _cancel(broker_stub, queue: str, message_id: str):
    req = broker_pb2.CancelMessageRequest(queue=queue, message_id=message_id)
    return broker_stub.CancelMessage(req, timeout=10)


def test_delayed_message_is_invisible_until_due(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    sent_at = time.monotonic()
    mid = send_one(broker_stub, qname, message("later", delay=0.6))
    assert pull(broker_stub, qname, wait=0) == []
    s = stats(admin_stub, qname)
    assert (s.delayed, s.ready, s.depth) == (1, 0, 1)
    [p] = peek(admin_stub, qname)
    assert p.message.id == mid
    assert p.state == MS.MESSAGE_STATE_PENDING
    assert 0 < secs(p.due_in) <= 0.6

    [d] = pull(broker_stub, qname, wait=3)
    assert time.monotonic() - sent_at >= 0.5
    assert d.message.id == mid
    assert d.attempt == 1
    assert ack(broker_stub, [d.ack_id]) == []


def test_queue_default_delay_applies_and_message_delay_overrides_it(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, default_delay=30.0)
    delayed = send_one(broker_stub, qname, "default-delay")
    now = send_one(broker_stub, qname, message("no-delay", delay=0.0))
    got = pull(broker_stub, qname, max_messages=10, wait=0.5)
    assert [d.message.id for d in got] == [now]
    assert stats(admin_stub, qname).delayed == 1
    assert status(broker_stub, qname, delayed).state == MS.MESSAGE_STATE_PENDING


def test_two_day_delay_is_accepted_and_shown_by_peek(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    mid = send_one(broker_stub, qname, message("in two days", delay=TWO_DAYS))
    [p] = peek(admin_stub, qname)
    assert p.message.id == mid
    assert TWO_DAYS - 60 < secs(p.due_in) <= TWO_DAYS
    assert stats(admin_stub, qname).delayed == 1
    assert pull(broker_stub, qname, wait=0.1) == []


def test_cancel_delayed_message_is_never_delivered(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    mid = send_one(broker_stub, qname, message("scheduled", delay=0.3))
    resp = _cancel(broker_stub, qname, mid)
    assert resp.status.state == MS.MESSAGE_STATE_CANCELLED
    assert resp.status.message_id == mid
    assert status(broker_stub, qname, mid).state == MS.MESSAGE_STATE_CANCELLED
    # Past its deliver time: still nothing.
    assert pull(broker_stub, qname, wait=0.6) == []
    s = stats(admin_stub, qname)
    assert (s.depth, s.delayed, s.delivered) == (0, 0, 0)


def test_cancel_ready_message(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    gone = send_one(broker_stub, qname, "cancel-me")
    kept = send_one(broker_stub, qname, "keep-me")
    assert _cancel(broker_stub, qname, gone).status.state == MS.MESSAGE_STATE_CANCELLED
    got = pull(broker_stub, qname, max_messages=10, wait=0.5)
    assert [d.message.id for d in got] == [kept]
    # Cancelling twice: it is no longer pending.
    code = rpc_code(_cancel, broker_stub, qname, gone)
    assert code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION)


def test_cancel_in_flight_message_fails_precondition(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    mid = send_one(broker_stub, qname, "busy")
    [d] = pull(broker_stub, qname, wait=1)
    assert rpc_code(_cancel, broker_stub, qname, mid) == grpc.StatusCode.FAILED_PRECONDITION
    assert status(broker_stub, qname, mid).state == MS.MESSAGE_STATE_IN_FLIGHT
    # Once nacked back (pending again) it can be cancelled.
    assert nack(broker_stub, [d.ack_id], delay=30) == []
    assert _cancel(broker_stub, qname, mid).status.state == MS.MESSAGE_STATE_CANCELLED


def test_cancel_unknown_message_is_not_found(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    assert rpc_code(_cancel, broker_stub, qname, "no-such-id") == grpc.StatusCode.NOT_FOUND
    assert (
        rpc_code(_cancel, broker_stub, f"{qname}-missing", "no-such-id")
        == grpc.StatusCode.NOT_FOUND
    )
