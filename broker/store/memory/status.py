"""Message status: computed from live state, kept briefly after a message is finished.

A finished message's last status stays readable for the last ``STATUS_RETENTION`` messages, as
a compact tuple (built per ack, so it must be cheap); the full ``MessageStatus`` is only built
when someone asks. Watches are counted per message so the state machine can tell, with one
dict lookup, whether a change needs reporting at all.
"""

from __future__ import annotations

from broker.model import Guarantee, MessageState
from broker.store.base import CopyStatus, MessageStatus
from broker.store.ids import message_id
from broker.store.memory.records import IN_FLIGHT, Msg, units

STATUS_RETENTION = 100_000
"""Finished messages whose status stays readable; bounded so memory follows live data."""
DEFAULT_STATUS_WINDOW_S = 3600.0
"""How long a finished message's status stays readable (``status_retention_s``): long
enough for a publisher polling across a restart, short enough to stay small."""

_Plain = tuple[str, int, int, str | None, float, int]
"""A finished message with one copy and no reason (almost every ack): queue, final state,
attempts, the subscription it was last leased to, time, guarantee. A tuple: made per ack."""


class _Full:
    """Any other finished message: a fan-out one, or one that ended with a reason. Holds
    plain values; the ``MessageStatus`` is built when asked for."""

    __slots__ = ("copies", "final", "guarantee", "queue", "reason", "required", "time")

    def __init__(self, queue: str, msg: Msg, reason: str, now: float) -> None:
        self.queue = queue
        self.final = msg.final
        self.reason = reason
        self.time = now
        self.guarantee = msg.guarantee
        self.required = msg.required_acks
        self.copies = tuple((u.sub or "", u.final, u.state, u.attempts) for u in units(msg))

    def status(self, seq: int) -> MessageStatus:
        copies = tuple(
            CopyStatus(sub, _unit_state(final, state), tries)
            for sub, final, state, tries in self.copies
        )
        delivered = MessageState.DELIVERED
        return MessageStatus(
            queue=self.queue,
            message_id=message_id(seq),
            state=MessageState(self.final),
            acked_by=tuple(c.subscription for c in copies if c.state is delivered),
            required_acks=self.required,
            attempts=sum(c.attempts for c in copies),
            copies=copies,
            reason=self.reason,
            update_time=self.time,
            guarantee=Guarantee(self.guarantee),
        )


def _unit_state(final: int, state: int) -> MessageState:
    if final:
        return MessageState(final)
    return MessageState.IN_FLIGHT if state == IN_FLIGHT else MessageState.PENDING


def live_state(msg: Msg) -> MessageState:
    """Decided, or in flight while any unit is leased, or pending."""
    if msg.final:
        return MessageState(msg.final)
    if any(u.state == IN_FLIGHT for u in units(msg)):
        return MessageState.IN_FLIGHT
    return MessageState.PENDING


def acked_by(msg: Msg) -> tuple[str, ...]:
    if msg.copies is not None:
        return tuple(c.sub for c in msg.copies if c.final == MessageState.DELIVERED)
    if msg.final == MessageState.DELIVERED and msg.sub is not None:
        return (msg.sub,)
    return ()


def _copies(msg: Msg) -> tuple[CopyStatus, ...]:
    return tuple(
        CopyStatus(u.sub or "", _unit_state(u.final, u.state), u.attempts) for u in units(msg)
    )


def attempts(msg: Msg) -> int:
    return sum(u.attempts for u in units(msg))


def status_of(queue: str, msg: Msg, reason: str = "") -> MessageStatus:
    return MessageStatus(
        queue=queue,
        message_id=message_id(msg.seq),
        state=live_state(msg),
        acked_by=acked_by(msg),
        required_acks=msg.required_acks,
        attempts=attempts(msg),
        copies=_copies(msg),
        reason=reason,
        update_time=msg.changed,
        guarantee=Guarantee(msg.guarantee),
    )


class StatusBoard:
    """Finished statuses (the last ``retention``, in a ring) and the set of watched messages.
    Keys are sequence numbers, unique across queues."""

    def __init__(
        self, retention: int = STATUS_RETENTION, window_s: float = DEFAULT_STATUS_WINDOW_S
    ) -> None:
        self.retention = retention
        self.window_s = window_s
        self._done: dict[int, _Plain | _Full | MessageStatus] = {}
        self._ring: list[int] = [-1] * retention
        self._next = 0
        self.watched: dict[int, int] = {}
        """seq -> number of watches."""

    def finished(self, queue: str, msg: Msg, reason: str, now: float) -> None:
        record: _Plain | _Full
        if msg.copies is None and not reason:
            record = (queue, msg.final, msg.attempts, msg.sub, now, msg.guarantee)
        else:
            record = _Full(queue, msg, reason, now)
        self._put(msg.seq, record)

    def restore(self, seq: int, status: MessageStatus) -> None:
        """A status read back from a snapshot."""
        self._put(seq, status)

    def _put(self, seq: int, record: _Plain | _Full | MessageStatus) -> None:
        done = self._done
        done[seq] = record
        ring, i = self._ring, self._next
        old = ring[i]
        if old >= 0:
            done.pop(old, None)
        ring[i] = seq
        self._next = (i + 1) % self.retention

    def get(self, queue: str, seq: int, now: float | None = None) -> MessageStatus | None:
        """The finished status, unless older than the window (given ``now``)."""
        status = self._get(queue, seq)
        if status is None or (now is not None and status.update_time + self.window_s < now):
            return None
        return status

    def seqs(self) -> list[int]:
        """Every finished message's sequence number, oldest first (snapshots take them in
        chunks with ``entries``, so the loop is not held for all of them at once)."""
        return list(self._done)

    def entries(self, seqs: list[int], now: float) -> list[tuple[int, MessageStatus]]:
        """The statuses of ``seqs`` still inside the window."""
        out = []
        done = self._done
        for seq in seqs:
            record = done.get(seq)
            if record is None:
                continue
            queue = record[0] if isinstance(record, tuple) else record.queue
            status = self.get(queue, seq, now)
            if status is not None:
                out.append((seq, status))
        return out

    def _get(self, queue: str, seq: int) -> MessageStatus | None:
        record = self._done.get(seq)
        if record is None:
            return None
        if isinstance(record, MessageStatus):
            return record if record.queue == queue else None
        if isinstance(record, _Full):
            return record.status(seq) if record.queue == queue else None
        if record[0] != queue:
            return None
        _, final, tries, sub, when, guarantee = record
        state = MessageState(final)
        return MessageStatus(
            queue=queue,
            message_id=message_id(seq),
            state=state,
            acked_by=(sub,) if state is MessageState.DELIVERED and sub else (),
            required_acks=1,
            attempts=tries,
            copies=(CopyStatus(sub or "", state, tries),),
            reason="",
            update_time=when,
            guarantee=Guarantee(guarantee),
        )

    def watch(self, seq: int) -> None:
        self.watched[seq] = self.watched.get(seq, 0) + 1

    def unwatch(self, seq: int) -> None:
        left = self.watched.get(seq, 0) - 1
        if left > 0:
            self.watched[seq] = left
        else:
            self.watched.pop(seq, None)
