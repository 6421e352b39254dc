"""The broker's vocabulary: enums, queue configuration and its validation.

These mirror the proto contract but are plain Python so the core needs no gRPC. Times are
wall-clock seconds (``time.time()``) so they can be written to the log and survive a restart;
durations are float seconds. Messages themselves are the store's (``broker.store``).
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass

from broker.errors import InvalidArgument


class Guarantee(enum.IntEnum):
    """Values match ``conveyor.v1.Guarantee``; 0 means at-least-once."""

    AT_LEAST_ONCE = 2
    FIRE_AND_FORGET = 1
    BROADCAST = 3
    QUORUM = 4


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


class DeadLetterReason(enum.IntEnum):
    """Values match ``conveyor.v1.DeadLetterReason``; 0 means not known."""

    UNSPECIFIED = 0
    MAX_DELIVERIES = 1
    NACKED = 2
    EXPIRED = 3


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
    dedup_by_content: bool = False
    """With no dedup id, a message's dedup id is a hash of its topic, ordering key and payload."""

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
