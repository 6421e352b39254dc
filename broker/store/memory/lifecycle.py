"""How units end and messages are decided: releases, retries, endings, the guarantees' rules.

The rules of the guarantees live here, once:

- fire-and-forget: decided DELIVERED when handed out (``claimed``); a lease that ends without
  an ack ends the unit instead of redelivering it; never journaled.
- at-least-once: one unit; decided by its ack (DELIVERED) or its end (dead letter, expiry...);
  a lease that ends without an ack redelivers after the retry backoff, until max deliveries.
- broadcast and quorum: one copy per subscription; decided DELIVERED once ``required_acks``
  copies were acked (all of them for broadcast), or failed once too few copies can still be.

A message leaves its queue once all its units are done; its last status goes to the board.
"""

from __future__ import annotations

from functools import partial

from broker.model import DeadLetterReason, Guarantee, MessageState
from broker.store.memory import deadletters
from broker.store.memory.backoff import retry_delay
from broker.store.memory.machine import Machine
from broker.store.memory.queue import QueueState
from broker.store.memory.records import (
    DELAYED,
    DONE,
    IN_FLIGHT,
    FanoutMsg,
    Msg,
    Unit,
    unit_at,
    unit_key,
    units,
)

REASON_MAX_DELIVERIES = "max deliveries exceeded"
REASON_EXPIRED = "expired"
REASON_NACKED = "nacked to dead letters"

_FIRE_AND_FORGET = Guarantee.FIRE_AND_FORGET
_DELIVERED = MessageState.DELIVERED


def release(q: QueueState, unit: Unit) -> None:
    """Ends the unit's current lease (it must be IN_FLIGHT): its token stops being valid and,
    once no unit holds the claim, the claim's expiry timers are cancelled."""
    lease = unit.lease
    if lease is None:
        return
    unit.lease = None
    lease.held -= 1
    if not lease.held:
        for handle in lease.timers:
            handle.cancel()
        lease.timers.clear()
    sub = q.subs.get(unit.sub)  # type: ignore[arg-type]
    if sub is not None:
        sub.in_flight -= 1


def claimed(unit: Unit) -> None:
    """Fire-and-forget: handed out is done, so the message is decided at once."""
    msg = unit.msg
    if msg.guarantee == _FIRE_AND_FORGET and not msg.final:
        msg.final = _DELIVERED


def finish(
    m: Machine,
    q: QueueState,
    unit: Unit,
    final: MessageState,
    reason: str = "",
    now: float | None = None,
) -> bool:
    """Ends a unit that is not DONE with ``final``; decides its message and removes it once
    all its units are done. Returns True when the message is gone."""
    if unit.state == IN_FLIGHT:
        release(q, unit)
    if q.nack_reasons:
        q.nack_reasons.pop(unit_key(unit), None)
    q.set_state(unit, DONE)
    unit.final = final
    if q.fifo:
        q.lane_done(unit)
    msg = unit.msg
    if now is None:
        now = m.clock()
    msg.changed = now
    if isinstance(msg, FanoutMsg):
        msg.open -= 1
        if final == _DELIVERED:
            msg.acked += 1
        decide(msg, final)
        if msg.open:
            return False
        m.board.finished(q.name, msg, reason, now)
        del q.messages[msg.seq]
        msg.copies = []  # breaks the message <-> copies cycle
        return True
    if not msg.final:
        msg.final = final
    del q.messages[msg.seq]
    m.board.finished(q.name, msg, reason, now)
    return True


def decide(msg: FanoutMsg, last: int = 0) -> None:
    """The fan-out rule: delivered once ``required_acks`` copies were acked; failed (with how
    the copy that made it impossible ended, ``last``) once too few copies can still be."""
    if msg.final:
        return
    if msg.acked >= msg.required_acks:
        msg.final = _DELIVERED
    elif msg.acked + msg.open < msg.required_acks:
        msg.final = last if last and last != _DELIVERED else MessageState.DEAD_LETTERED


def retry(
    m: Machine,
    q: QueueState,
    unit: Unit,
    delay: float | None,
    now: float,
    *,
    failure: bool = True,
    requeued: list[Unit] | None = None,
    finished: list[Unit] | None = None,
) -> None:
    """After a nack, a lease that expired or a consumer that went away: redeliver after
    ``delay`` (None: the retry backoff), or dead-letter at max deliveries (failures only).
    Units that come back are appended to ``requeued`` (the caller schedules the delayed ones
    with ``schedule_due``, one timer per distinct time), dead-lettered ones to ``finished``."""
    release(q, unit)
    msg = unit.msg
    if msg.guarantee == _FIRE_AND_FORGET:
        finish(m, q, unit, _DELIVERED)
        return
    config = q.config
    if failure and config.max_deliveries and unit.attempts >= config.max_deliveries:
        dead_letter(m, q, unit, REASON_MAX_DELIVERIES, DeadLetterReason.MAX_DELIVERIES)
        if finished is not None:
            finished.append(unit)
        return
    if delay is None:
        delay = retry_delay(config.backoff, unit.attempts)
    unit.due = now + delay
    msg.changed = now
    if delay > 0:
        q.set_state(unit, DELAYED)
    else:
        q.make_ready(unit, retry=True)
    if requeued is not None:
        requeued.append(unit)


def dead_letter(m: Machine, q: QueueState, unit: Unit, reason: str, code: DeadLetterReason) -> None:
    """Moves one unit to the dead-letter queue (or drops it, counted, without one)."""
    q.counters.dead_lettered += 1
    deadletters.move(m, q, unit.msg, unit, reason, code)
    finish(m, q, unit, MessageState.DEAD_LETTERED, reason)


def end(m: Machine, q: QueueState, msg: Msg, state: MessageState, reason: str) -> list[Unit]:
    """Ends every unit of a message still open (expiry, cancel, purge, drop, redrive, queue
    deletion), releasing leases; returns the units ended."""
    if not msg.final:
        msg.final = state
    open_units: list[Unit] = [u for u in units(msg) if u.state != DONE]
    for unit in open_units:
        finish(m, q, unit, state, reason)
    return open_units


def schedule_due(m: Machine, q: QueueState, requeued: list[Unit]) -> None:
    """One timer per distinct due time of the DELAYED units among ``requeued``."""
    groups: dict[float, list[int]] = {}
    for unit in requeued:
        if unit.state == DELAYED:
            groups.setdefault(unit.due, []).append(unit_key(unit))
    for due, keys in groups.items():
        m.timers.schedule(due, partial(became_due, m, q, keys))


def became_due(m: Machine, q: QueueState, keys: list[int]) -> None:
    """Timer: delayed units (``unit_key``s) whose time came become ready."""
    if m.queues.get(q.name) is not q:
        return
    now = m.clock()
    for key in keys:
        unit = unit_at(q, key)
        if unit is not None and unit.state == DELAYED and unit.due <= now:
            q.make_ready(unit)
    m.notify()


def expire(m: Machine, q: QueueState, seqs: list[int]) -> None:
    """Timer: messages whose TTL passed are dead-lettered with reason ``expired`` (or dropped
    and counted without a dead-letter queue), whatever state their units are in."""
    if m.queues.get(q.name) is not q:
        return
    now = m.clock()
    ended: list[Unit] = []
    changed: list[int] = []
    for seq in seqs:
        msg = q.messages.get(seq)
        if msg is None or not msg.expires_at or msg.expires_at > now:
            continue
        q.counters.expired += 1
        deadletters.move(m, q, msg, None, REASON_EXPIRED, DeadLetterReason.EXPIRED)
        ended += end(m, q, msg, MessageState.EXPIRED, REASON_EXPIRED)
        changed.append(seq)
    m.journal.finished(q, ended, MessageState.EXPIRED)
    m.touched(q, changed, REASON_EXPIRED)
    m.notify()
