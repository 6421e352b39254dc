"""The store interface: every durable state change of the core goes through it.

Operations take batches (many messages, acks or copy updates per call) and are awaited before
the caller is told OK, so a write-ahead log can share one fsync among them (group commit) and a
networked backend (PostgreSQL, SPEC §11) can turn each into one statement. Timers, leases and
dispatch stay in the core: the store only records state and hands it back on start.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field

from broker.model import QueueConfig, StoredMessage


@dataclass
class SubscriptionRecord:
    queue: str
    name: str
    filter: str
    create_time: float


@dataclass
class CopyUpdate:
    """A copy's durable fields after an attempt, nack, lease expiry or ending."""

    queue: str
    message_id: str
    subscription: str | None
    attempts: int
    visible_at: float
    done: bool


@dataclass
class Recovered:
    """What a store hands back on start: live configuration and messages."""

    queues: list[QueueConfig] = field(default_factory=list)
    bindings: list[tuple[str, str]] = field(default_factory=list)
    subscriptions: list[SubscriptionRecord] = field(default_factory=list)
    messages: list[StoredMessage] = field(default_factory=list)


class Store(abc.ABC):
    """Durability behind the core. Each call returns once its changes are durable."""

    @abc.abstractmethod
    async def recover(self) -> Recovered: ...

    @abc.abstractmethod
    async def save_queue(self, config: QueueConfig) -> None: ...

    @abc.abstractmethod
    async def delete_queue(self, name: str) -> None: ...

    @abc.abstractmethod
    async def save_binding(self, pattern: str, queue: str) -> None: ...

    @abc.abstractmethod
    async def delete_binding(self, pattern: str, queue: str) -> None: ...

    @abc.abstractmethod
    async def save_subscription(self, record: SubscriptionRecord) -> None: ...

    @abc.abstractmethod
    async def delete_subscription(self, queue: str, name: str) -> None: ...

    @abc.abstractmethod
    async def add_messages(self, messages: Sequence[StoredMessage]) -> None:
        """Stores new messages (with their copies); fire-and-forget ones never come here."""

    @abc.abstractmethod
    async def update_copies(self, updates: Sequence[CopyUpdate]) -> None:
        """Records attempts, redelivery times and finished copies."""

    @abc.abstractmethod
    async def remove_messages(self, queue: str, message_ids: Sequence[str]) -> None:
        """Forgets finished messages (acked, dead-lettered, expired, cancelled, dropped)."""

    @abc.abstractmethod
    async def close(self) -> None: ...
