"""The store interface: every durable state change of the core goes through it.

Operations take batches (many messages, acks or copy updates per call) and are awaited before
the caller is told OK, so a write-ahead log can share one fsync among them (group commit) and a
networked backend (PostgreSQL, SPEC §11) can turn each into one statement. Timers, leases and
dispatch stay in the core: the store only records state and hands it back on start.
"""

from __future__ import annotations

import abc
import asyncio
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
class Recovered:
    """What a store hands back on start: live configuration and messages (in publish order per
    queue; copies that were leased come back IN_FLIGHT, for the engine to expire)."""

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
    async def write_messages(
        self,
        added: Sequence[StoredMessage],
        updated: Sequence[StoredMessage],
        removed: Sequence[tuple[str, str]],
    ) -> None:
        """Stores new messages, the current state of changed ones, and forgets finished ones
        (``(queue, id)`` pairs), all in one batch. Fire-and-forget messages never come here.

        Copies in flight are recorded as leased: a restart treats their leases as expired.
        """

    @property
    def failed(self) -> bool:
        """True once a write failed: nothing more can be made durable (sticky)."""
        return False

    async def wait_failed(self) -> None:
        """Returns once a write has failed; a store that cannot fail never returns."""
        await asyncio.Event().wait()

    @abc.abstractmethod
    async def close(self) -> None: ...
