"""Operator verbs: cancel, purge, redrive, peek, dead letters, pause and resume, stats (with
rates and per-subscription lag), status."""

from __future__ import annotations

import itertools

from broker import wire
from broker.errors import FailedPrecondition, NotFound
from broker.model import MessageState, QueueKind
from broker.store.base import (
    DeadLetterFilter,
    MessageStatus,
    Peeked,
    QueueStats,
    SubscriptionLag,
)
from broker.store.ids import parse_message_id
from broker.store.memory import deadletters, lifecycle, messages
from broker.store.memory.machine import Machine
from broker.store.memory.queue import QueueState
from broker.store.memory.rates import WINDOWS_S
from broker.store.memory.records import DELAYED, DONE, IN_FLIGHT, READY, Msg, Unit, units
from broker.store.memory.status import attempts, live_state, status_of

REASON_CANCELLED = "cancelled"
REASON_PURGED = "purged"
REASON_REDRIVEN = "redriven"


def _in_flight(msg: Msg) -> bool:
    return any(u.state == IN_FLIGHT for u in units(msg))


def _live(m: Machine, queue: str, message_id: str) -> tuple[QueueState, Msg | None, int | None]:
    q = m.queue(queue)
    seq = parse_message_id(message_id)
    return q, (q.messages.get(seq) if seq is not None else None), seq


def status(m: Machine, queue: str, message_id: str) -> MessageStatus:
    _, msg, seq = _live(m, queue, message_id)
    if msg is not None:
        return status_of(queue, msg)
    done = m.board.get(queue, seq, m.clock()) if seq is not None else None
    if done is None:
        raise NotFound(f"message {message_id!r} is not in queue {queue!r} (or is long gone)")
    return done


def _ended(m: Machine, q: QueueState, msgs: list[Msg], state: MessageState, reason: str) -> None:
    ended: list[Unit] = []
    for msg in msgs:
        ended += lifecycle.end(m, q, msg, state, reason)
    m.journal.finished(q, ended, state)
    m.touched(q, [msg.seq for msg in msgs], reason)


def cancel(m: Machine, queue: str, message_id: str) -> MessageStatus:
    q, msg, _ = _live(m, queue, message_id)
    if msg is None:
        raise NotFound(f"message {message_id!r} is not pending in queue {queue!r}")
    if _in_flight(msg):
        raise FailedPrecondition(
            f"message {message_id} is in flight; it can be cancelled once its lease ends or it "
            "is nacked"
        )
    _ended(m, q, [msg], MessageState.CANCELLED, REASON_CANCELLED)
    return status(m, queue, message_id)


def purge(m: Machine, queue: str) -> int:
    """Removes every message with nothing in flight."""
    q = m.queue(queue)
    doomed = [msg for msg in q.messages.values() if not _in_flight(msg)]
    _ended(m, q, doomed, MessageState.CANCELLED, REASON_PURGED)
    return len(doomed)


def redrive(
    m: Machine,
    queue: str,
    destination: str,
    limit: int,
    reset_attempts: bool = False,
    chosen: tuple[set[int], int] | None = None,
) -> tuple[int, int]:
    """Moves dead letters (to ``destination``, or each one's source queue, back to the one
    subscription it failed for when that still exists); skips what cannot move: no origin, a
    missing or full target, itself, or in flight. Each keeps the attempts it had made (its
    next delivery is attempt n + 1) unless ``reset_attempts``."""
    q = m.queue(queue)
    if destination:
        m.queue(destination)
    moved: list[Msg] = []
    skipped = 0
    now = m.clock()
    pt_field = wire.publish_time_field(now)
    candidates = list(q.messages.values())
    if chosen is not None:
        seqs, unknown = chosen
        candidates = [msg for msg in candidates if msg.seq in seqs]
        skipped += unknown + len(seqs) - len(candidates)
    for msg in candidates:
        if limit and len(moved) >= limit:
            break
        info = deadletters.origin(msg.data)
        target = m.queues.get(destination or (info.source_queue if info else ""))
        if info is None or target is None or target is q or target.full() or _in_flight(msg):
            skipped += 1
            continue
        one = info.subscription if not destination and info.subscription in target.subs else ""
        new = messages.create(
            target,
            m.take_seqs(1),
            deadletters.content(msg.data).SerializeToString(),
            msg.topic,
            msg.size,
            msg.guarantee,
            msg.priority,
            msg.key,
            now,
            pt_field,
            now,
            0.0,
            [one] if one else None,
        )
        if not reset_attempts:
            for unit in units(new):
                unit.attempts = info.attempts
        target.counters.sent += 1
        m.journal.published(target, (new,), ())
        moved.append(msg)
    _ended(m, q, moved, MessageState.DELIVERED, REASON_REDRIVEN)
    m.notify()
    return len(moved), skipped


def _delivery_order(q: QueueState) -> list[Msg] | itertools.islice[Msg]:
    if q.config.kind is QueueKind.PRIORITY:
        return sorted(q.messages.values(), key=lambda msg: (-msg.priority, msg.seq))
    return list(q.messages.values())


def peek(m: Machine, queue: str, limit: int) -> list[Peeked]:
    """Live messages in delivery order; changes nothing."""
    q = m.queue(queue)
    now = m.clock()
    out = []
    for msg in itertools.islice(_delivery_order(q), limit):
        due = max((u.due for u in units(msg) if u.state == DELAYED), default=now)
        out.append(Peeked(msg.data, live_state(msg), attempts(msg), max(0.0, due - now)))
    return out


def dead_letters(
    m: Machine, queue: str, limit: int, where: DeadLetterFilter | None = None
) -> list[bytes]:
    q = m.queue(queue)
    where = where or DeadLetterFilter()

    def wanted(data: bytes) -> bool:
        info = deadletters.origin(data)
        return (
            info is not None
            and (not where.reason or int(info.reason_code) == int(where.reason))
            and (not where.source_queue or info.source_queue == where.source_queue)
            and (not where.source_subscription or info.subscription == where.source_subscription)
        )

    found = (msg.data for msg in q.messages.values() if wanted(msg.data))
    return list(itertools.islice(found, limit))


def set_paused(m: Machine, queue: str, paused: bool) -> bool:
    """Pauses or resumes a queue; returns False when it already was so. Resuming signals
    every subscription (their consumers were left waiting)."""
    q = m.queue(queue)
    if q.paused == paused:
        return False
    q.paused = paused
    m.journal.queue_paused(q.name, paused)
    if not paused and q.subs:
        q.signals.update(q.subs)
        m.signalled.add(q)
        m.notify()
    return True


LAG_SCAN_LIMIT = 100_000
"""Messages one stats call looks at for per-subscription lag (oldest first)."""


def lag(m: Machine, q: QueueState, now: float) -> tuple[SubscriptionLag, ...]:
    """Per subscription: ready, delayed and in-flight units it owns or may take, and the age
    of its oldest unfinished one. A queue with one subscription taking every topic reads
    its counts; otherwise one pass over (at most ``LAG_SCAN_LIMIT``) messages."""
    subs = q.subs
    if not subs:
        return ()
    if len(subs) == 1:
        (sub,) = subs.values()
        if sub.matches_all:
            oldest = q.oldest_publish_time()
            age = max(0.0, now - oldest) if oldest is not None else 0.0
            return (SubscriptionLag(sub.name, q.ready_count, q.delayed_count, sub.in_flight, age),)
    counts = {name: [0, 0, 0] for name in subs}  # ready, delayed, in flight
    oldest_of: dict[str, float] = {}
    partial = len(q.messages) > LAG_SCAN_LIMIT
    for msg in itertools.islice(q.messages.values(), LAG_SCAN_LIMIT):
        for unit in units(msg):
            state = unit.state
            if state == DONE:
                continue
            if state == IN_FLIGHT or msg.copies is not None:
                owners: list[str] = (
                    [unit.sub] if unit.sub is not None and unit.sub in counts else []
                )
            else:
                owners = q.matching(msg.topic)
            column = 0 if state == READY else 1 if state == DELAYED else 2
            for name in owners:
                counts[name][column] += 1
                oldest_of.setdefault(name, msg.publish_time)
    return tuple(
        SubscriptionLag(
            name,
            c[0],
            c[1],
            c[2],
            max(0.0, now - oldest_of[name]) if name in oldest_of else 0.0,
            partial,
        )
        for name, c in sorted(counts.items())
    )


def stats(m: Machine, queue: str, with_lag: bool = True) -> QueueStats:
    q = m.queue(queue)
    c = q.counters
    oldest = q.oldest_publish_time()
    now = m.clock()
    short, long = WINDOWS_S
    return QueueStats(
        ready=q.ready_count,
        delayed=q.delayed_count,
        in_flight=q.in_flight_count,
        depth=len(q.messages),
        oldest_age_s=max(0.0, m.clock() - oldest) if oldest is not None else 0.0,
        subscriptions=len(q.subs),
        sent=c.sent,
        delivered=c.delivered,
        acked=c.acked,
        nacked=c.nacked,
        redelivered=c.redelivered,
        dead_lettered=c.dead_lettered,
        expired=c.expired,
        dropped=c.dropped,
        duplicates=c.duplicates,
        queue=q.name,
        kind=int(q.config.kind),
        paused=q.paused,
        rates_1m=q.rates.rates(now, c, short),
        rates_5m=q.rates.rates(now, c, long),
        lag=lag(m, q, now) if with_lag else (),
        retained=len(q.retained.msgs),
        retained_bytes=q.retained.bytes,
        compressed=c.compressed,
        compression_saved_bytes=c.compression_saved,
        deliver_latency=tuple(c.latency),
        deliver_latency_sum_s=c.latency_sum,
    )
