"""The retained messages of a queue: acked messages kept for replay (see ``retention``).

Kept in ack order, so the oldest is first both for the byte budget and for expiry, and one
timer per queue (for the oldest) is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from broker.model import Guarantee, MessageState, QueueConfig

if TYPE_CHECKING:
    from broker.store.memory.machine import Machine
    from broker.store.memory.queue import QueueState
    from broker.store.memory.records import Msg

_DELIVERED = MessageState.DELIVERED
_FIRE_AND_FORGET = int(Guarantee.FIRE_AND_FORGET)


class RetainedLog:
    """One queue's retained messages by sequence number, in ack order (``msg.changed`` is
    the ack time), and their payload bytes."""

    __slots__ = ("bytes", "msgs", "timer_at")

    def __init__(self) -> None:
        self.msgs: dict[int, Msg] = {}
        self.bytes = 0
        self.timer_at = 0.0
        """When the expiry timer is set for (0: none)."""

    def keep(self, msg: Msg, acked_at: float) -> None:
        old = self.msgs.pop(msg.seq, None)
        if old is not None:
            self.bytes -= old.size
        msg.changed = acked_at
        self.msgs[msg.seq] = msg
        self.bytes += msg.size

    def trim(self, config: QueueConfig, now: float | None) -> None:
        """Drops what the configuration no longer keeps: everything when it retains nothing,
        the oldest past the byte budget, and (given ``now``) those past their time."""
        msgs = self.msgs
        if not config.retains:
            msgs.clear()
            self.bytes = 0
            return
        budget, keep_s = config.retain_acked_bytes, config.retain_acked_s
        while msgs:
            seq, msg = next(iter(msgs.items()))
            if (budget and self.bytes > budget) or (
                now is not None and keep_s and msg.changed + keep_s <= now
            ):
                del msgs[seq]
                self.bytes -= msg.size
            else:
                break

    def next_expiry(self, config: QueueConfig) -> float:
        if not config.retain_acked_s or not self.msgs:
            return 0.0
        return next(iter(self.msgs.values())).changed + config.retain_acked_s


def retainable(q: QueueState, msg: Msg) -> bool:
    return q.retains and msg.final == _DELIVERED and msg.guarantee != _FIRE_AND_FORGET


def keep(m: Machine, q: QueueState, msg: Msg, now: float) -> None:
    """A message just left the queue delivered: retain it (``lifecycle.finish``)."""
    log = q.retained
    log.keep(msg, now)
    log.trim(q.config, None)
    schedule(m, q)


def schedule(m: Machine, q: QueueState) -> None:
    """Sets the expiry timer for the oldest retained message, unless one is set already."""
    log = q.retained
    at = log.next_expiry(q.config)
    if at and (not log.timer_at or at < log.timer_at):
        log.timer_at = at
        m.timers.schedule(at, lambda: _expired(m, q, at))


def _expired(m: Machine, q: QueueState, at: float) -> None:
    log = q.retained
    if m.queues.get(q.name) is not q or log.timer_at != at:
        return  # a later timer replaced this one
    log.timer_at = 0.0
    log.trim(q.config, m.clock())
    schedule(m, q)


def reconfigured(m: Machine, q: QueueState) -> None:
    """The queue's retention settings may have changed."""
    q.retained.trim(q.config, m.clock())
    q.retained.timer_at = 0.0
    schedule(m, q)
