"""Leases, acks, nacks and retry backoff (SPEC §2, §3, §5)."""

from __future__ import annotations

import time

from integration_helpers import MS, backoff, modify_lease, send_one
from rpc_helpers import ack, create_queue, nack, peek, pull, secs, stats, status, wait_until


def test_lease_expiry_redelivers_with_next_attempt_and_stale_ack_is_reported(
    broker_stub, admin_stub, qname
):
    create_queue(admin_stub, qname)
    mid = send_one(broker_stub, qname, "work")
    [first] = pull(broker_stub, qname, wait=1, lease=0.3)
    assert first.attempt == 1
    assert first.message.id == mid
    assert first.lease_deadline.seconds > 0
    # Still leased: nobody else gets it.
    assert pull(broker_stub, qname, "other", wait=0.1) == []

    [second] = pull(broker_stub, qname, wait=3, lease=10)
    assert second.message.id == mid
    assert second.attempt == 2
    assert second.ack_id != first.ack_id

    # The first attempt's ack id is stale now: reported, not silently accepted.
    assert ack(broker_stub, [first.ack_id]) == [first.ack_id]
    assert status(broker_stub, qname, mid).state == MS.MESSAGE_STATE_IN_FLIGHT
    assert ack(broker_stub, [second.ack_id]) == []
    st = status(broker_stub, qname, mid)
    assert st.state == MS.MESSAGE_STATE_DELIVERED
    assert st.attempts == 2
    s = stats(admin_stub, qname)
    assert (s.delivered, s.redelivered, s.acked) == (2, 1, 1)


def test_modify_lease_extends_past_the_original_deadline(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    send_one(broker_stub, qname, "slow")
    [d] = pull(broker_stub, qname, wait=1, lease=0.4)
    assert modify_lease(broker_stub, [d.ack_id], 5.0) == []
    # Well past the original 0.4 s deadline: not redelivered.
    assert pull(broker_stub, qname, wait=0.8) == []
    assert stats(admin_stub, qname).in_flight == 1
    assert ack(broker_stub, [d.ack_id]) == []
    assert stats(admin_stub, qname).redelivered == 0


def test_modify_lease_zero_releases_at_once(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, retry_backoff=backoff(delays=[5.0]))
    mid = send_one(broker_stub, qname, "give-back")
    [d] = pull(broker_stub, qname, wait=1, lease=30)
    assert modify_lease(broker_stub, [d.ack_id], 0) == []
    # Released without the queue's 5 s backoff: at once.
    started = time.monotonic()
    [again] = pull(broker_stub, qname, wait=2)
    assert time.monotonic() - started < 1.5
    assert again.message.id == mid
    assert again.attempt == 2
    assert ack(broker_stub, [d.ack_id]) == [d.ack_id]
    assert ack(broker_stub, [again.ack_id]) == []


def test_unknown_ack_ids_are_reported_and_good_ones_still_count(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    mid = send_one(broker_stub, qname, "x")
    [d] = pull(broker_stub, qname, wait=1)
    assert nack(broker_stub, ["no-such-ack"]) == ["no-such-ack"]
    assert modify_lease(broker_stub, ["bogus-1", d.ack_id], 10) == ["bogus-1"]
    assert ack(broker_stub, ["nope", d.ack_id, "nope-2"]) == ["nope", "nope-2"]
    assert status(broker_stub, qname, mid).state == MS.MESSAGE_STATE_DELIVERED
    # Acking twice: the second one did not count.
    assert ack(broker_stub, [d.ack_id]) == [d.ack_id]


def test_nack_with_delay_hides_the_message_for_that_delay(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    mid = send_one(broker_stub, qname, "later")
    [d] = pull(broker_stub, qname, wait=1)
    nacked_at = time.monotonic()
    assert nack(broker_stub, [d.ack_id], delay=0.6) == []
    assert pull(broker_stub, qname, wait=0) == []
    s = stats(admin_stub, qname)
    assert (s.delayed, s.ready, s.in_flight, s.nacked) == (1, 0, 0, 1)
    [again] = pull(broker_stub, qname, wait=3)
    assert time.monotonic() - nacked_at >= 0.5
    assert again.message.id == mid
    assert again.attempt == 2
    assert ack(broker_stub, [again.ack_id]) == []


def _nack_and_time_return(broker_stub, admin_stub, qname, ack_id: str) -> tuple[float, object]:
    """Nacks (queue backoff applies), checks it is delayed, returns (seconds hidden, delivery)."""
    nacked_at = time.monotonic()
    assert nack(broker_stub, [ack_id]) == []
    s = stats(admin_stub, qname)
    assert (s.delayed, s.ready) == (1, 0), "a backed-off message must count as delayed"
    [p] = peek(admin_stub, qname)
    assert p.state == MS.MESSAGE_STATE_PENDING
    assert secs(p.due_in) > 0
    assert pull(broker_stub, qname, wait=0) == []
    [d] = pull(broker_stub, qname, wait=5)
    return time.monotonic() - nacked_at, d


def test_retry_backoff_explicit_delays(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, retry_backoff=backoff(delays=[0.4, 0.9]))
    send_one(broker_stub, qname, "retry")
    [d] = pull(broker_stub, qname, wait=1)
    t1, d = _nack_and_time_return(broker_stub, admin_stub, qname, d.ack_id)
    assert d.attempt == 2
    t2, d = _nack_and_time_return(broker_stub, admin_stub, qname, d.ack_id)
    assert d.attempt == 3
    assert t1 >= 0.35
    assert t2 >= 0.8
    assert t2 > t1
    assert ack(broker_stub, [d.ack_id]) == []


def test_retry_backoff_exponential_with_cap(broker_stub, admin_stub, qname):
    # 0.3 s, then 0.9 s, then 2.7 s capped to 1.0 s.
    create_queue(
        admin_stub,
        qname,
        retry_backoff=backoff(initial=0.3, multiplier=3.0, max_=1.0),
    )
    send_one(broker_stub, qname, "retry")
    [d] = pull(broker_stub, qname, wait=1)
    times = []
    for _ in range(3):
        t, d = _nack_and_time_return(broker_stub, admin_stub, qname, d.ack_id)
        times.append(t)
    assert d.attempt == 4
    assert times[0] >= 0.25
    assert times[1] >= 0.8
    assert times[1] > times[0]
    assert 0.9 <= times[2] < 2.2, f"cap not applied: {times}"
    assert ack(broker_stub, [d.ack_id]) == []


def test_lease_expiry_also_uses_the_queue_backoff(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, retry_backoff=backoff(delays=[0.6]))
    mid = send_one(broker_stub, qname, "expires")
    [d] = pull(broker_stub, qname, wait=1, lease=0.2)
    # Lease ends at ~0.2 s, then the message waits out its backoff as "delayed".
    wait_until(
        lambda: stats(admin_stub, qname).delayed == 1, timeout=2, what="delayed after expiry"
    )
    assert stats(admin_stub, qname).in_flight == 0
    assert pull(broker_stub, qname, wait=0) == []
    [again] = pull(broker_stub, qname, wait=3)
    assert again.message.id == mid
    assert again.attempt == 2
    assert ack(broker_stub, [d.ack_id]) == [d.ack_id]
    assert ack(broker_stub, [again.ack_id]) == []
