"""Dedup window and message TTL (SPEC §4)."""

from __future__ import annotations

import time

from integration_helpers import MS, payloads, send_one
from rpc_helpers import (
    ack,
    create_queue,
    dead_letters,
    message,
    pull,
    send,
    stats,
    status,
    wait_until,
)


def test_duplicate_inside_window_returns_first_id_and_stores_nothing(
    broker_stub, admin_stub, qname
):
    create_queue(admin_stub, qname)
    [first] = send(broker_stub, qname, message("one", dedup_id="order-42"))
    assert not first.duplicate
    before = stats(admin_stub, qname)

    [again] = send(broker_stub, qname, message("one-retry", dedup_id="order-42"))
    assert again.duplicate
    assert again.message_id == first.message_id
    after = stats(admin_stub, qname)
    assert (after.sent, after.depth, after.ready) == (before.sent, before.depth, before.ready)
    assert after.duplicates == before.duplicates + 1

    # A different dedup id is a different message.
    [other] = send(broker_stub, qname, message("two", dedup_id="order-43"))
    assert not other.duplicate
    assert other.message_id != first.message_id

    got = pull(broker_stub, qname, max_messages=10, wait=1)
    assert payloads(got) == ["one", "two"]
    assert ack(broker_stub, [d.ack_id for d in got]) == []


def test_duplicates_within_one_batch(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    results = send(
        broker_stub,
        qname,
        message("a", dedup_id="same"),
        message("b", dedup_id="same"),
    )
    assert [r.duplicate for r in results] == [False, True]
    assert results[1].message_id == results[0].message_id
    assert stats(admin_stub, qname).depth == 1


def test_dedup_id_accepted_again_after_the_window(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, dedup_window=0.5)
    [first] = send(broker_stub, qname, message("x", dedup_id="d"))
    [dup] = send(broker_stub, qname, message("x", dedup_id="d"))
    assert dup.duplicate
    time.sleep(0.7)
    [later] = send(broker_stub, qname, message("x", dedup_id="d"))
    assert not later.duplicate
    assert later.message_id != first.message_id
    s = stats(admin_stub, qname)
    assert (s.sent, s.depth) == (2, 2)


def test_dedup_still_applies_after_the_first_message_was_acked(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    [first] = send(broker_stub, qname, message("x", dedup_id="done-already"))
    [d] = pull(broker_stub, qname, wait=1)
    assert ack(broker_stub, [d.ack_id]) == []
    [dup] = send(broker_stub, qname, message("x", dedup_id="done-already"))
    assert dup.duplicate
    assert dup.message_id == first.message_id
    assert pull(broker_stub, qname, wait=0.2) == []


def test_ttl_expiry_dead_letters_with_reason_expired(broker_stub, admin_stub, qname):
    dlq = f"{qname}-dlq"
    create_queue(admin_stub, dlq)
    create_queue(admin_stub, qname, dead_letter_queue=dlq)
    mid = send_one(broker_stub, qname, message("short-lived", ttl=0.3))
    keep = send_one(broker_stub, qname, message("long-lived"))

    [dead] = wait_until(lambda: dead_letters(admin_stub, dlq), timeout=3, what="expired message")
    assert dead.payload == b"short-lived"
    assert dead.dead_letter.reason == "expired"
    assert dead.dead_letter.source_queue == qname
    assert dead.dead_letter.source_message_id == mid

    st = status(broker_stub, qname, mid)
    assert st.state == MS.MESSAGE_STATE_EXPIRED
    s = stats(admin_stub, qname)
    assert s.expired == 1
    assert s.depth == 1
    got = pull(broker_stub, qname, max_messages=10, wait=1)
    assert [d.message.id for d in got] == [keep]


def test_ttl_expiry_without_dead_letter_queue_is_counted(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, message_ttl=0.3)
    mid = send_one(broker_stub, qname, "queue-default-ttl")
    wait_until(lambda: stats(admin_stub, qname).expired == 1, timeout=3, what="expired count")
    s = stats(admin_stub, qname)
    assert (s.depth, s.ready) == (0, 0)
    assert status(broker_stub, qname, mid).state == MS.MESSAGE_STATE_EXPIRED
    assert pull(broker_stub, qname, wait=0.1) == []


def test_ttl_runs_while_in_flight_unacked(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    mid = send_one(broker_stub, qname, message("held", ttl=0.4))
    [d] = pull(broker_stub, qname, wait=1, lease=30)
    wait_until(
        lambda: status(broker_stub, qname, mid).state == MS.MESSAGE_STATE_EXPIRED,
        timeout=3,
        what="expiry of an unacked message",
    )
    # Its ack no longer counts.
    assert ack(broker_stub, [d.ack_id]) == [d.ack_id]
    assert stats(admin_stub, qname).expired == 1
