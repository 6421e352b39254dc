"""Message status: computed from live state, kept briefly after a message is finished.

A finished message's last status stays readable for the last ``STATUS_RETENTION`` messages, as
a compact tuple (built per ack, so it must be cheap); the full ``MessageStatus`` is only built
when someone asks. Watches are counted per message so the state machine can tell, with one
dict lookup, whether a change needs reporting at all.
"""

from __future__ import annotations

from collections import deque

from broker.model import Guarantee, MessageState
from broker.store.base import CopyStatus, MessageStatus
from broker.store.ids import message_id
from broker.store.memory.records import IN_FLIGHT, Msg, units

STATUS_RETENTION = 100_000
"""Finished messages whose status stays readable; bounded so memory follows live data."""

_Finished = tuple[str, int, int, tuple[str, ...], int, tuple[CopyStatus, ...], str, float, int]
"""queue, final state, attempts, acked_by, required_acks, copies, reason, time, guarantee."""


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
    """Finished statuses (bounded) and the set of watched messages. Keys are sequence
    numbers, unique across queues."""

    def __init__(self, retention: int = STATUS_RETENTION) -> None:
        self.retention = retention
        self._done: dict[int, _Finished] = {}
        self._order: deque[int] = deque()
        self.watched: dict[int, int] = {}
        """seq -> number of watches."""

    def finished(self, queue: str, msg: Msg, reason: str, now: float) -> None:
        copies = msg.copies
        if copies is None:
            record: _Finished = (
                queue,
                msg.final,
                msg.attempts,
                (msg.sub,) if msg.final == MessageState.DELIVERED and msg.sub else (),
                1,
                (),
                reason,
                now,
                msg.guarantee,
            )
        else:
            record = (
                queue,
                msg.final,
                attempts(msg),
                acked_by(msg),
                msg.required_acks,
                _copies(msg),
                reason,
                now,
                msg.guarantee,
            )
        self._done[msg.seq] = record
        order = self._order
        order.append(msg.seq)
        if len(order) > self.retention:
            self._done.pop(order.popleft(), None)

    def get(self, queue: str, seq: int) -> MessageStatus | None:
        record = self._done.get(seq)
        if record is None or record[0] != queue:
            return None
        _, final, tries, acked, required, copies, reason, when, guarantee = record
        if not copies:  # a message with one copy: built here, not per ack
            copies = (CopyStatus(acked[0] if acked else "", MessageState(final), tries),)
        return MessageStatus(
            queue=queue,
            message_id=message_id(seq),
            state=MessageState(final),
            acked_by=acked,
            required_acks=required,
            attempts=tries,
            copies=copies,
            reason=reason,
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
