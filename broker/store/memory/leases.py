"""Leases: claiming ready units, extending leases, and what happens when one runs out.

A claim takes units from one subscription's ready order, within the caller's message and byte
budget, and leases them all with one token and one deadline: one ``Lease`` and one timer per
claim, never per message. An extension moves the deadline of the named units and adds one
timer for them. A timer that fires re-checks each unit (still leased by this claim, deadline
passed), so extensions, acks and endings need not cancel anything; once no unit holds the
claim, its timers are cancelled so that nothing keeps settled messages alive.
"""

from __future__ import annotations

from functools import partial

from broker.errors import NotFound
from broker.model import Guarantee, MessageState
from broker.store.base import Claim
from broker.store.ids import new_token
from broker.store.memory import lifecycle
from broker.store.memory.machine import Machine
from broker.store.memory.queue import QueueState
from broker.store.memory.records import IN_FLIGHT, Lease, Unit, unit_at, unit_key

_FIRE_AND_FORGET = Guarantee.FIRE_AND_FORGET


def claim(
    m: Machine,
    queue: str,
    subscription: str,
    max_messages: int,
    max_bytes: int,
    lease_s: float,
    oversized_first: bool = True,
) -> Claim:
    q = m.queue(queue)
    sub = q.subs.get(subscription)
    if sub is None:
        raise NotFound(f"subscription {subscription!r} of queue {queue!r} does not exist")
    now = m.clock()
    deadline = now + lease_s
    if q.paused:
        return Claim(deadline, [])
    ready = sub.ready
    lease = Lease(new_token(), 0)
    taken: list[Unit] = []
    keys: list[int] = []
    out: list[tuple[str, bytes, int, int]] = []
    total = count = redelivered = 0
    prefix = q.ack_prefix
    token = ":" + lease.token_hex
    counts = q.counts
    while count < max_messages:
        unit = ready.pop()
        if unit is None:
            break
        msg = unit.msg
        size = msg.size
        if max_bytes and total + size > max_bytes and (count or not oversized_first):
            ready.push_back(unit)
            break
        total += size
        count += 1
        counts[unit.state] -= 1
        unit.state = IN_FLIGHT
        attempts = unit.attempts = unit.attempts + 1
        if attempts > 1:
            redelivered += 1
        unit.due = deadline
        unit.lease = lease
        if msg.copies is None:
            unit.sub = subscription
        if msg.guarantee == _FIRE_AND_FORGET:
            lifecycle.claimed(unit)
        msg.changed = now
        seq = msg.seq
        index = unit.index
        taken.append(unit)
        keys.append(seq << 16 | index)
        out.append((f"{prefix}{seq:x}:{index}{token}", msg.data, attempts, size))
    if not count:
        return Claim(deadline, out)
    counts[IN_FLIGHT] += count
    lease.held = count
    sub.in_flight += count
    counters = q.counters
    counters.delivered += count
    counters.redelivered += redelivered
    m.journal.claimed(q, taken)
    lease.timers.append(m.timers.schedule(deadline, partial(_expired, m, q, lease, keys)))
    if m.board.watched:
        m.touched(q, [u.msg.seq for u in taken])
    return Claim(deadline, out)


def extend(m: Machine, found: list[tuple[QueueState, Unit]], lease_s: float) -> None:
    """Moves the lease deadline of each (queue, unit) to ``lease_s`` from now; 0 ends them
    (ready again at once, the attempt counted as a failure, as a nack would)."""
    now = m.clock()
    if lease_s == 0:
        by_queue: dict[QueueState, list[Unit]] = {}
        for q, unit in found:
            by_queue.setdefault(q, []).append(unit)
        for q, group in by_queue.items():
            requeued: list[Unit] = []
            finished: list[Unit] = []
            for unit in group:
                lifecycle.retry(m, q, unit, 0.0, now, requeued=requeued, finished=finished)
            _journal_retries(m, q, requeued, finished)
        m.notify()
        return
    deadline = now + lease_s
    groups: dict[tuple[QueueState, Lease], list[int]] = {}
    for q, unit in found:
        unit.due = deadline
        lease = unit.lease
        assert lease is not None
        groups.setdefault((q, lease), []).append(unit_key(unit))
    for (q, lease), keys in groups.items():
        timer = m.timers.schedule(deadline, partial(_expired, m, q, lease, keys))
        lease.timers.append(timer)


def _expired(m: Machine, q: QueueState, lease: Lease, keys: list[int]) -> None:
    """Timer: units of this claim whose deadline passed without an ack come back."""
    if m.queues.get(q.name) is not q:
        return
    now = m.clock()
    requeued: list[Unit] = []
    finished: list[Unit] = []
    for key in keys:
        unit = unit_at(q, key)
        if unit is None or unit.lease is not lease or unit.state != IN_FLIGHT or unit.due > now:
            continue
        lifecycle.retry(m, q, unit, None, now, requeued=requeued, finished=finished)
    _journal_retries(m, q, requeued, finished)
    m.notify()


def _journal_retries(m: Machine, q: QueueState, requeued: list[Unit], finished: list[Unit]) -> None:
    """Lease expiries are not journaled (a restart expires every lease anyway); what they
    cause beyond that is: dead letters at max deliveries."""
    m.journal.finished(q, finished, MessageState.DEAD_LETTERED)
    lifecycle.schedule_due(m, q, requeued)
    if m.board.watched:
        m.touched(q, [u.msg.seq for u in (*requeued, *finished)])
