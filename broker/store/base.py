"""The store: where message state lives, behind intent-level verbs that take batches.

A store owns everything that must survive a restart and be the same for every server that
shares it (SPEC §11): queues, bindings, subscriptions, and each message's state - ready,
delayed or leased, its visibility time, lease and lease token, attempts, ready order (FIFO
lanes, priority), dedup, depth and dead letters. The layer above (``broker.delivery``) owns
what belongs to a connection - streams, flow-control windows, long-poll waits, watches - and
calls the store once per batch, knowing nothing of its insides.

Verbs are awaited and take batches, so an embedded store can share one fsync among many
callers and a networked one (PostgreSQL) can turn each into a few statements. Each verb is
atomic: it either applies whole or raises and changes nothing, except for per-message
outcomes reported in its result. A verb returns once its changes are durable, unless it is
told ``sync=False`` (acks on a stream, whose next claim waits for them instead).

Change signals go up through the one ``Listener`` the delivery layer registers: "subscription
S of queue Q has messages to claim", and "watched message M changed". The store never calls
anything else above it.

Ack ids and message ids are self-describing (``broker.store.ids``): any holder of the state
can check one, and an ack for an attempt whose lease ended (and was perhaps claimed again) is
refused with the ack id listed as failed.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from broker.errors import Unimplemented
from broker.model import DeadLetterReason, Guarantee, MessageState, QueueConfig, StartPosition


class NewMessage:
    """One message of a Send, validated by the service. ``raw`` is the sender's
    ``conveyor.v1.Message`` encoding (without a ``dead_letter``); the store appends the fields
    it assigns and keeps the result as the message's only copy of its bytes."""

    __slots__ = (
        "dedup_id",
        "delay_s",
        "guarantee",
        "ordering_key",
        "priority",
        "raw",
        "required_acks",
        "size",
        "topic",
        "ttl_s",
    )

    def __init__(
        self,
        raw: bytes,
        topic: str,
        size: int,
        guarantee: Guarantee = Guarantee.AT_LEAST_ONCE,
        required_acks: int = 0,
        priority: int = 0,
        ordering_key: str = "",
        dedup_id: str = "",
        delay_s: float | None = None,
        ttl_s: float | None = None,
    ) -> None:
        self.raw = raw
        self.topic = topic
        self.size = size
        """Payload bytes: what flow-control byte windows count."""
        self.guarantee = guarantee
        self.required_acks = required_acks
        self.priority = priority
        self.ordering_key = ordering_key
        self.dedup_id = dedup_id
        self.delay_s = delay_s
        """``None``: the queue's default delay."""
        self.ttl_s = ttl_s
        """``None``: the queue's default TTL."""


@dataclass(slots=True)
class Outcome:
    """A publish result other than "stored once under ``message_id``": a duplicate, a message
    routed to several queues, or an error (``error`` set, nothing stored)."""

    message_id: str = ""
    duplicate: bool = False
    queues: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    error: Exception | None = None
    duplicates: list[bool] = field(default_factory=list)
    """Per queue: whether its id is that of an earlier message (nothing stored there)."""


PublishResult = str | Outcome
"""Per message: its id when it was stored once, in the queue the request named; else an
``Outcome``."""


@dataclass(slots=True)
class Claim:
    """Deliveries leased to a consumer in one claim: ``(ack id, message bytes, attempt,
    payload size)`` each, all with the same lease ``deadline`` (wall-clock seconds)."""

    deadline: float
    deliveries: list[tuple[str, bytes, int, int]]


@dataclass(frozen=True, slots=True)
class CopyStatus:
    subscription: str
    state: MessageState
    attempts: int


@dataclass(frozen=True, slots=True)
class MessageStatus:
    queue: str
    message_id: str
    state: MessageState
    acked_by: tuple[str, ...]
    required_acks: int
    attempts: int
    copies: tuple[CopyStatus, ...]
    reason: str
    update_time: float
    guarantee: Guarantee


def settled(status: MessageStatus) -> bool:
    """Decided, and nothing more will happen to it: every copy has ended too (a quorum
    message is decided once enough copies were acked, and its other copies go on)."""
    return status.state.final and all(c.state.final for c in status.copies)


@dataclass(frozen=True, slots=True)
class SubscriptionInfo:
    queue: str
    name: str
    filter: str
    create_time: float
    in_flight: int


DELIVER_LATENCY_BOUNDS_S = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
)
"""Upper bounds of the send -> first delivery latency buckets (``QueueStats.deliver_latency``)."""


@dataclass(frozen=True, slots=True)
class Rates:
    """Per-second rates of a queue's counters over ``window_s`` (the window asked for, or less
    when the server started within it)."""

    sent: float = 0.0
    delivered: float = 0.0
    acked: float = 0.0
    dead_lettered: float = 0.0
    window_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SubscriptionLag:
    """How far one subscription is behind (``partial``: counted over the oldest messages
    only, so the counts are lower bounds)."""

    subscription: str
    ready: int
    delayed: int
    in_flight: int
    oldest_age_s: float
    partial: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    """Which dead letters ``dead_letters`` lists (every field unset: all)."""

    reason: DeadLetterReason = DeadLetterReason.UNSPECIFIED
    source_queue: str = ""
    source_subscription: str = ""


@dataclass(frozen=True, slots=True)
class QueueStats:
    ready: int
    delayed: int
    in_flight: int
    depth: int
    oldest_age_s: float
    subscriptions: int
    sent: int
    delivered: int
    acked: int
    nacked: int
    redelivered: int
    dead_lettered: int
    expired: int
    dropped: int
    duplicates: int
    queue: str = ""
    kind: int = 0
    paused: bool = False
    rates_1m: Rates = Rates()
    rates_5m: Rates = Rates()
    lag: tuple[SubscriptionLag, ...] = ()
    retained: int = 0
    """Acked messages kept for replay, and their payload bytes."""
    retained_bytes: int = 0
    compressed: int = 0
    """Messages written compressed since start, and the bytes that saved."""
    compression_saved_bytes: int = 0
    deliver_latency: tuple[int, ...] = ()
    """First deliveries by send -> deliver time: one count per ``DELIVER_LATENCY_BOUNDS_S``
    bound (at most that long, above the previous bound), then one for longer; () when the
    store does not measure it."""
    deliver_latency_sum_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Peeked:
    """A live message as peek shows it: its bytes, overall state, attempts, and seconds until
    it is due (0 when ready or in flight)."""

    data: bytes
    state: MessageState
    attempts: int
    due_in_s: float


class Listener(Protocol):
    """What the store tells the layer above. Called on the event loop; must not block."""

    def ready(self, queue: str, subscription: str) -> None:
        """``subscription`` of ``queue`` may have messages to claim."""

    def changed(self, status: MessageStatus) -> None:
        """A watched message changed (only messages passed to ``watch``)."""


class Store(abc.ABC):
    """The verbs every store implements; ``broker.store.memory`` documents the semantics and
    the conformance suite (``tests/unit/store``) checks them against every store."""

    @abc.abstractmethod
    def listen(self, listener: Listener) -> None:
        """Registers the one listener for change signals (before ``open``)."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Recovers the stored state and starts the store's timers."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Makes everything durable and releases the store's resources."""

    @property
    def failed(self) -> bool:
        """True once a write failed: nothing more can be made durable (sticky)."""
        return False

    @abc.abstractmethod
    async def wait_failed(self) -> BaseException:
        """Returns the error once the store has failed for good; never returns otherwise."""

    # -- queues, bindings, subscriptions -------------------------------------------------

    @abc.abstractmethod
    async def create_queue(self, config: QueueConfig) -> QueueConfig: ...

    @abc.abstractmethod
    async def update_queue(self, name: str, changes: dict[str, object]) -> QueueConfig: ...

    @abc.abstractmethod
    async def delete_queue(self, name: str) -> int:
        """Deletes a queue with its messages, bindings and subscriptions; returns how many
        messages went with it."""

    @abc.abstractmethod
    async def get_queue(self, name: str) -> QueueConfig: ...

    @abc.abstractmethod
    async def list_queues(self, prefix: str = "") -> list[QueueConfig]: ...

    @abc.abstractmethod
    async def create_binding(self, pattern: str, queue: str) -> None: ...

    @abc.abstractmethod
    async def delete_binding(self, pattern: str, queue: str) -> None: ...

    @abc.abstractmethod
    async def list_bindings(self, queue: str = "") -> list[tuple[str, str]]: ...

    @abc.abstractmethod
    async def subscription(self, queue: str, name: str, filter_: str) -> SubscriptionInfo:
        """Returns a subscription, creating it (durably) on first use."""

    @abc.abstractmethod
    async def list_subscriptions(self, queue: str) -> list[SubscriptionInfo]: ...

    @abc.abstractmethod
    async def delete_subscription(self, queue: str, name: str) -> None: ...

    # -- messages ------------------------------------------------------------------------

    @abc.abstractmethod
    async def publish(
        self, queue: str, batch: Sequence[NewMessage], *, watch: bool = False
    ) -> list[PublishResult]:
        """Stores a batch (``queue`` empty: each message is routed by its topic through the
        bindings). Dedup and depth admission apply per message; each fails or succeeds alone.
        With ``watch``, every stored message is watched (see ``watch``) from the start."""

    @abc.abstractmethod
    async def claim(
        self,
        queue: str,
        subscription: str,
        max_messages: int,
        max_bytes: int,
        lease_s: float,
        *,
        oversized_first: bool = True,
    ) -> Claim:
        """Leases up to ``max_messages`` ready messages of ``subscription`` for ``lease_s``
        and, with ``max_bytes``, at most that much payload - except that with
        ``oversized_first`` the first message is taken whatever its size (a consumer with
        nothing outstanding must not stall on a message larger than its window). Attempts
        are durable before this returns."""

    @abc.abstractmethod
    async def settle(self, ack_ids: Sequence[str], *, sync: bool = True) -> list[str]:
        """Acks; returns the ack ids that did not count (unknown, or their lease ended)."""

    @abc.abstractmethod
    async def requeue(
        self,
        ack_ids: Sequence[str],
        delay_s: float | None,
        *,
        failure: bool = True,
        sync: bool = True,
        reason: str = "",
    ) -> list[str]:
        """Nacks: ends the attempts and makes the messages claimable again after ``delay_s``
        (``None``: the queue's retry backoff). A ``failure`` counts toward max deliveries
        (dead-lettering at the limit); a consumer that went away is not a failure. A
        ``reason`` is kept as each message's last nack reason (shown on its dead letter)."""

    @abc.abstractmethod
    async def dead_letter(
        self, ack_ids: Sequence[str], reason: str, *, sync: bool = True
    ) -> list[str]:
        """Ends the attempts by moving the messages to the dead-letter queue with ``reason``."""

    @abc.abstractmethod
    async def extend(self, ack_ids: Sequence[str], lease_s: float) -> list[str]:
        """Sets the leases to end ``lease_s`` from now (0 ends them: the messages are ready
        again at once, the attempt counted)."""

    @abc.abstractmethod
    async def cancel(self, queue: str, message_id: str) -> MessageStatus: ...

    @abc.abstractmethod
    async def purge(self, queue: str) -> int: ...

    @abc.abstractmethod
    async def redrive(
        self,
        queue: str,
        destination: str,
        limit: int,
        *,
        reset_attempts: bool = False,
        message_ids: Sequence[str] = (),
    ) -> tuple[int, int]:
        """Moves dead letters back (to ``destination``, or each one's source); returns
        (moved, skipped). Each keeps its attempt count unless ``reset_attempts``. With
        ``message_ids``, only those (an id no longer in ``queue`` counts as skipped)."""

    @abc.abstractmethod
    async def peek(self, queue: str, limit: int) -> list[Peeked]: ...

    @abc.abstractmethod
    async def dead_letters(
        self, queue: str, limit: int, *, where: DeadLetterFilter | None = None
    ) -> list[bytes]:
        """Up to ``limit`` dead letters of ``queue`` (matching ``where``), oldest first."""

    @abc.abstractmethod
    async def stats(self, queue: str) -> QueueStats: ...

    @abc.abstractmethod
    async def status(self, queue: str, message_id: str) -> MessageStatus: ...

    @abc.abstractmethod
    async def watch(self, queue: str, message_id: str) -> MessageStatus:
        """Returns the message's status and, unless it is ``settled``, tells the listener of
        each change until ``unwatch`` (which must then be called once)."""

    @abc.abstractmethod
    def unwatch(self, queue: str, message_id: str) -> None: ...

    # -- operating queues (concrete defaults, so that a store without them still runs) ----

    async def pause(self, queue: str) -> bool:
        """Stops deliveries from ``queue`` (durably) until ``resume``: claims return nothing,
        sends are stored, leases run on. Returns False when it was paused already."""
        raise Unimplemented("pause is not supported by this store")

    async def resume(self, queue: str) -> bool:
        """Lets a paused queue deliver again and signals its subscriptions; returns False
        when it was not paused."""
        raise Unimplemented("resume is not supported by this store")

    async def list_stats(self, prefix: str = "", *, lag: bool = False) -> list[QueueStats]:
        """Every queue's stats (whose name starts with ``prefix``), by name; ``lag`` asks
        for the per-subscription lag too (which may cost a pass over each queue)."""
        out = []
        for config in await self.list_queues(prefix):
            stats = await self.stats(config.name)
            out.append(stats if lag else dataclasses.replace(stats, lag=()))
        return out

    # -- retention and replay (stores without them raise Unimplemented) -------------------

    async def start_subscription(
        self,
        queue: str,
        name: str,
        filter_: str,
        position: StartPosition,
        start_time: float = 0.0,
    ) -> SubscriptionInfo:
        """``subscription`` with a start position applied when this creates it: NEW (as
        ``subscription``), ALL (every retained acked message replayed to it) or FROM_TIME
        (those published at or after ``start_time``)."""
        if position is StartPosition.NEW:
            return await self.subscription(queue, name, filter_)
        raise Unimplemented("start_subscription is not supported by this store")

    async def seek(self, queue: str, subscription: str, time: float) -> tuple[int, int]:
        """Moves a subscription to ``time``: retained acked messages published at or after it
        are delivered to it again; its unacked messages published before it are acked.
        Returns (replayed, acked)."""
        raise Unimplemented("seek is not supported by this store")
