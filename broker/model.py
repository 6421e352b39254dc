"""The broker's vocabulary: enums, queue configuration, messages and their per-subscription copies.

These mirror the proto contract but are plain Python so the core needs no gRPC or protobuf.
Times are wall-clock seconds (``time.time()``) so they can be written to the log and survive a
restart; durations are float seconds.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from broker.errors import InvalidArgument

if TYPE_CHECKING:
    from broker.delivery.consumer import Consumer
    from broker.delivery.timers import TimerHandle


class Guarantee(enum.IntEnum):
    """Values match ``conveyor.v1.Guarantee``; 0 means at-least-once."""

    AT_LEAST_ONCE = 2
    FIRE_AND_FORGET = 1
    BROADCAST = 3
    QUORUM = 4

    @property
    def stored(self) -> bool:
        return self is not Guarantee.FIRE_AND_FORGET

    @property
    def fans_out(self) -> bool:
        return self in (Guarantee.BROADCAST, Guarantee.QUORUM)


class QueueKind(enum.IntEnum):
    """Values match ``conveyor.v1.QueueKind``."""

    STANDARD = 1
    FIFO = 2
    PRIORITY = 3


class Overflow(enum.IntEnum):
    """Values match ``conveyor.v1.OverflowPolicy``."""

    REJECT_NEW = 1
    DROP_OLDEST = 2


class MessageState(enum.IntEnum):
    """Values match ``conveyor.v1.MessageState``."""

    PENDING = 1
    IN_FLIGHT = 2
    DELIVERED = 3
    DEAD_LETTERED = 4
    EXPIRED = 5
    CANCELLED = 6
    DROPPED = 7

    @property
    def final(self) -> bool:
        return self not in (MessageState.PENDING, MessageState.IN_FLIGHT)


class CopyState(enum.IntEnum):
    """Where one copy (a unit of delivery work) is.

    An IntEnum so that its hash is int's: the engine counts copies per state on every
    transition, and ``Enum.__hash__`` is Python code.
    """

    DELAYED = 1
    READY = 2
    IN_FLIGHT = 3
    DONE = 4


QUEUE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
SUBSCRIPTION_NAME = QUEUE_NAME

DEFAULT_LEASE_S = 30.0
"""SQS's default visibility timeout: long enough for most handlers, short enough to recover."""
DEFAULT_DEDUP_WINDOW_S = 300.0
"""SQS FIFO's fixed five minutes: covers a producer's retries after a timeout or restart."""
MAX_DURATION_S = 366 * 24 * 3600.0
"""Delays, TTLs and leases up to a year: far beyond SQS's 15 minutes, still a sane bound."""


def check_name(kind: str, name: str) -> str:
    if not QUEUE_NAME.match(name):
        raise InvalidArgument(
            f"{kind} name {name[:64]!r} is invalid: use 1-255 letters, digits, '_', '-' or '.'"
        )
    return name


def check_duration(what: str, seconds: float, *, allow_zero: bool = True) -> float:
    if seconds < 0 or (not allow_zero and seconds == 0) or seconds > MAX_DURATION_S:
        bound = "positive" if not allow_zero else "zero or positive"
        raise InvalidArgument(
            f"{what} must be {bound} and at most {MAX_DURATION_S:.0f}s, got {seconds}s"
        )
    return seconds


@dataclass(frozen=True)
class Backoff:
    """Delay before redelivery: explicit ``delays`` (the last repeats), or exponential."""

    initial_s: float = 0.0
    multiplier: float = 1.0
    max_s: float = 0.0
    """0 means no cap."""
    jitter: float = 0.0
    delays_s: tuple[float, ...] = ()

    def validate(self) -> Backoff:
        if self.delays_s and (self.initial_s or self.max_s or self.jitter):
            raise InvalidArgument("retry_backoff: set either explicit delays or initial/max/jitter")
        for d in self.delays_s:
            check_duration("retry_backoff delay", d)
        check_duration("retry_backoff.initial", self.initial_s)
        check_duration("retry_backoff.max", self.max_s)
        if not 0 <= self.jitter <= 1:
            raise InvalidArgument(f"retry_backoff.jitter must be in [0, 1], got {self.jitter}")
        if self.multiplier < 0 or self.multiplier > 100:
            raise InvalidArgument(
                f"retry_backoff.multiplier must be in [0, 100], got {self.multiplier}"
            )
        if self.max_s and self.max_s < self.initial_s:
            raise InvalidArgument("retry_backoff.max must not be below retry_backoff.initial")
        return self


@dataclass(frozen=True)
class QueueConfig:
    """A queue's configuration with defaults filled in (0 means "none" where the proto says so)."""

    name: str
    kind: QueueKind = QueueKind.STANDARD
    lease_s: float = DEFAULT_LEASE_S
    max_deliveries: int = 0
    dead_letter_queue: str = ""
    backoff: Backoff = Backoff()
    dedup_window_s: float = DEFAULT_DEDUP_WINDOW_S
    message_ttl_s: float = 0.0
    default_delay_s: float = 0.0
    max_depth: int = 0
    overflow: Overflow = Overflow.REJECT_NEW
    max_payload_bytes: int = 0
    create_time: float = 0.0

    def validate(self, server_max_payload: int) -> QueueConfig:
        """Checks every field alone; cross-queue checks (DLQ exists) are the broker's."""
        check_name("queue", self.name)
        check_duration("lease", self.lease_s, allow_zero=False)
        check_duration("dedup_window", self.dedup_window_s)
        check_duration("message_ttl", self.message_ttl_s)
        check_duration("default_delay", self.default_delay_s)
        self.backoff.validate()
        if self.dead_letter_queue:
            check_name("dead_letter_queue", self.dead_letter_queue)
            if self.dead_letter_queue == self.name:
                raise InvalidArgument(f"queue {self.name!r} cannot be its own dead-letter queue")
        if self.max_deliveries < 0 or self.max_depth < 0:
            raise InvalidArgument("max_deliveries and max_depth must not be negative")
        if self.max_payload_bytes > server_max_payload:
            raise InvalidArgument(
                f"max_payload_bytes {self.max_payload_bytes} exceeds the server's limit "
                f"{server_max_payload}"
            )
        if self.max_payload_bytes < 0:
            raise InvalidArgument("max_payload_bytes must not be negative")
        return self

    def replace(self, **changes: object) -> QueueConfig:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass
class DeadLetterInfo:
    source_queue: str
    reason: str
    attempts: int
    time: float
    subscription: str = ""
    source_message_id: str = ""
    guarantee: Guarantee = Guarantee.AT_LEAST_ONCE


@dataclass(eq=False)
class StoredMessage:
    """A message held by one queue, with its copies (one, or one per subscription)."""

    id: str
    queue: str
    topic: str
    payload: bytes
    attributes: dict[str, str]
    guarantee: Guarantee
    required_acks: int
    priority: int
    ordering_key: str
    dedup_id: str
    publish_time: float
    seq: int
    deliver_at: float
    expires_at: float
    """0 means never."""
    dead_letter: DeadLetterInfo | None = None
    copies: list[Copy] = field(default_factory=list)
    acked_by: list[str] = field(default_factory=list)
    state: MessageState = MessageState.PENDING
    reason: str = ""
    update_time: float = 0.0
    expiry: TimerHandle | None = None
    """The TTL timer, cancelled once the message is finished."""

    @property
    def size(self) -> int:
        return len(self.payload)


@dataclass(eq=False)
class Copy:
    """One unit of delivery work: the message for one subscription, or for any (``sub`` None).

    ``gen`` changes on every transition: heap entries and timers carry the ``gen`` they were
    made for and are ignored when it no longer matches (lazy deletion, no scans).
    """

    msg: StoredMessage
    sub: str | None
    state: CopyState = CopyState.READY
    attempts: int = 0
    gen: int = 0
    ack_id: str = ""
    lease_deadline: float = 0.0
    visible_at: float = 0.0
    consumer: Consumer | None = None
    leased_to: str = ""
    """The subscription holding the current (or last) lease."""
    final: MessageState | None = None
    timer: TimerHandle | None = None
    """The lease or visibility timer of the current state; cancelled on every transition."""
