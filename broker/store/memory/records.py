"""The memory store's records: one slotted object per message, one more per fan-out copy.

A *unit* is one piece of delivery work with its own state, attempts and lease. A message with
one copy (fire-and-forget, at-least-once: any matching subscription may take it) is its own
unit; a broadcast or quorum message has one ``Copy`` per subscription that matched at send
time. A unit moves DELAYED -> READY -> IN_FLIGHT -> DONE, or back to DELAYED/READY when a lease
ends without an ack.

Memory is the constraint (a million stored messages must cost little above their payloads):
slots, no per-message timers or closures, no second copy of the bytes, and values shared by a
whole batch (publish time, lease deadline and token) are shared objects, not copies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.store.memory.queue import QueueState
    from broker.store.memory.timers import TimerHandle

DELAYED = 1
READY = 2
IN_FLIGHT = 3
DONE = 4
"""Unit states: plain ints, compared on every hot-path step."""


class Lease:
    """One claim: its token (in every ack id it issued), how many of its units still hold it,
    and its expiry timers (the claim's, and one per extension). When no unit holds it, the
    timers are cancelled, so nothing keeps settled units alive."""

    __slots__ = ("held", "timers", "token", "token_hex")

    def __init__(self, token: int, held: int) -> None:
        self.token = token
        self.token_hex = f"{token:x}"
        self.held = held
        self.timers: list[TimerHandle] = []


class Unit:
    """State common to a message with one copy and to a fan-out copy.

    ``due`` is the lease deadline while IN_FLIGHT and the time it becomes ready while
    DELAYED. ``sub`` is the subscription a fan-out copy belongs to, or the one a shared unit
    was last leased to (``None`` before its first lease). ``final`` is how a DONE unit ended.
    """

    __slots__ = ("attempts", "due", "final", "lease", "state", "sub")

    if TYPE_CHECKING:
        # Provided by the subclasses: a message is its own unit; a copy points at its message
        # (and reads its sequence number and guarantee through it, off the hot path).
        @property
        def msg(self) -> Msg: ...

        index: int
        seq: int
        guarantee: int

    def __init__(self, state: int, due: float, sub: str | None) -> None:
        self.state = state
        self.due = due
        self.sub = sub
        self.attempts = 0
        self.lease: Lease | None = None
        self.final = 0


class Msg(Unit):
    """A stored message with one copy, which is itself. ``data`` is its ``conveyor.v1.Message``
    encoding as delivered; ``final`` is its decided outcome (0 while undecided); ``changed``
    is when its state last changed."""

    __slots__ = (
        "changed",
        "data",
        "expires_at",
        "guarantee",
        "key",
        "priority",
        "publish_time",
        "seq",
        "size",
        "topic",
    )
    copies: list[Copy] | None = None
    """Class-level None: only ``FanoutMsg`` has copies."""
    required_acks = 1

    def __init__(
        self,
        seq: int,
        data: bytes,
        size: int,
        topic: str,
        publish_time: float,
        state: int,
        due: float,
        guarantee: int,
        priority: int,
        key: str,
        expires_at: float,
    ) -> None:
        self.state = state
        self.due = due
        self.sub: str | None = None
        self.attempts = 0
        self.lease: Lease | None = None
        self.final = 0
        self.seq = seq
        self.data = data
        self.size = size
        self.topic = topic
        self.publish_time = publish_time
        self.guarantee = guarantee
        self.priority = priority
        self.key = key
        self.expires_at = expires_at
        """0.0: never."""
        self.changed = publish_time

    @property
    def msg(self) -> Msg:
        return self

    index = 0
    """A message with one copy is copy 0 of itself."""


class FanoutMsg(Msg):
    """A broadcast or quorum message: its units are its copies, one per subscription that
    matched at send time (the message's own unit fields are unused). ``final`` is decided
    once ``required_acks`` copies were acked, or once too few can still be."""

    __slots__ = ("acked", "copies", "open", "required_acks")

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.copies: list[Copy] = []
        self.required_acks = 1
        self.open = 0
        """Copies not DONE yet."""
        self.acked = 0
        """Copies that ended DELIVERED."""

    def recount(self) -> None:
        """Sets ``open`` and ``acked`` from the copies (after they were built or replayed)."""
        self.open = sum(1 for c in self.copies if c.state != DONE)
        self.acked = sum(1 for c in self.copies if c.final == 3)  # MessageState.DELIVERED


class Copy(Unit):
    """One subscription's copy of a broadcast or quorum message."""

    __slots__ = ("_msg", "index")

    def __init__(self, msg: Msg, index: int, sub: str, state: int, due: float) -> None:
        self.state = state
        self.due = due
        self.sub: str = sub
        self.attempts = 0
        self.lease = None
        self.final = 0
        self._msg = msg
        self.index = index

    @property
    def msg(self) -> Msg:
        return self._msg

    # Read-only here: a copy's sequence number and guarantee are its message's.
    @property
    def seq(self) -> int:  # type: ignore[override]
        return self._msg.seq

    @property
    def guarantee(self) -> int:  # type: ignore[override]
        return self._msg.guarantee


def units(msg: Msg) -> list[Copy] | tuple[Msg]:
    """Every unit of a message."""
    copies = msg.copies
    return copies if copies is not None else (msg,)


def unit_key(unit: Unit) -> int:
    """An int naming a unit within its queue (timers hold these, not the units, so a unit
    that ended early is not kept alive): ``seq << 16 | copy index``."""
    return unit.msg.seq << 16 | unit.index


def unit_at(q: QueueState, key: int) -> Unit | None:
    msg = q.messages.get(key >> 16)
    if msg is None:
        return None
    copies = msg.copies
    if copies is None:
        return msg
    index = key & 0xFFFF
    return copies[index] if index < len(copies) else None
