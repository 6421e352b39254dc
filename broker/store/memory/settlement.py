"""Settling attempts by ack id: acks, nacks (retry or dead letter), and lease extensions.

Each verb resolves its ack ids first (``Machine.leased``: unknown ids and attempts whose lease
ended are returned as failed, never applied), then applies the rest, journaling once per
queue. A batch of acks costs one dict lookup and a few attribute writes per ack.
"""

from __future__ import annotations

from collections.abc import Sequence

from broker.model import DeadLetterReason, MessageState
from broker.store.memory import leases, lifecycle
from broker.store.memory.machine import Machine
from broker.store.memory.queue import QueueState
from broker.store.memory.records import Unit, unit_key

_DELIVERED = MessageState.DELIVERED


def _resolve(m: Machine, ack_ids: Sequence[str]) -> tuple[dict[QueueState, list[Unit]], list[str]]:
    found: dict[QueueState, list[Unit]] = {}
    failed: list[str] = []
    seen: set[str] = set()
    leased = m.leased
    for ack_id in ack_ids:
        hit = leased(ack_id) if ack_id not in seen else None
        if hit is None:
            failed.append(ack_id)
            continue
        seen.add(ack_id)
        q, unit = hit
        group = found.get(q)
        if group is None:
            found[q] = [unit]
        else:
            group.append(unit)
    return found, failed


def settle(m: Machine, ack_ids: Sequence[str]) -> list[str]:
    """Acks: each attempt that still holds its lease ends its unit as delivered."""
    found, failed = _resolve(m, ack_ids)
    finish = lifecycle.finish
    now = m.clock()
    for q, group in found.items():
        q.counters.acked += len(group)
        for unit in group:
            finish(m, q, unit, _DELIVERED, "", now)
        m.journal.finished(q, group, _DELIVERED)
        if m.board.watched:
            m.touched(q, [u.seq for u in group])
    m.notify()
    return failed


def requeue(
    m: Machine, ack_ids: Sequence[str], delay: float | None, failure: bool, reason: str = ""
) -> list[str]:
    found, failed = _resolve(m, ack_ids)
    now = m.clock()
    for q, group in found.items():
        if failure:
            q.counters.nacked += len(group)
        if reason:
            for unit in group:
                q.nack_reasons[unit_key(unit)] = reason
        requeued: list[Unit] = []
        finished: list[Unit] = []
        for unit in group:
            lifecycle.retry(
                m, q, unit, delay, now, failure=failure, requeued=requeued, finished=finished
            )
        m.journal.requeued(q, requeued)
        m.journal.finished(q, finished, MessageState.DEAD_LETTERED)
        lifecycle.schedule_due(m, q, requeued)
        if m.board.watched:
            m.touched(q, [u.msg.seq for u in group])
    m.notify()
    return failed


def dead_letter(m: Machine, ack_ids: Sequence[str], reason: str) -> list[str]:
    found, failed = _resolve(m, ack_ids)
    for q, group in found.items():
        q.counters.nacked += len(group)
        for unit in group:
            lifecycle.dead_letter(
                m, q, unit, reason or lifecycle.REASON_NACKED, DeadLetterReason.NACKED
            )
        m.journal.finished(q, group, MessageState.DEAD_LETTERED)
        if m.board.watched:
            m.touched(q, [u.msg.seq for u in group], reason or lifecycle.REASON_NACKED)
    m.notify()
    return failed


def extend(m: Machine, ack_ids: Sequence[str], lease_s: float) -> list[str]:
    found, failed = _resolve(m, ack_ids)
    leases.extend(m, [(q, u) for q, group in found.items() for u in group], lease_s)
    return failed
