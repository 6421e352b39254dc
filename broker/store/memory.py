"""A store that keeps nothing: the state lives in the core's memory and dies with the process.

Used by tests of the core and by ``--storage memory``; the durable store (write-ahead log) has
the same interface.
"""

from __future__ import annotations

from collections.abc import Sequence

from broker.model import QueueConfig, StoredMessage
from broker.store.base import Recovered, Store, SubscriptionRecord


class MemoryStore(Store):
    """Every write succeeds at once; recovery finds nothing."""

    async def recover(self) -> Recovered:
        return Recovered()

    async def save_queue(self, config: QueueConfig) -> None:
        pass

    async def delete_queue(self, name: str) -> None:
        pass

    async def save_binding(self, pattern: str, queue: str) -> None:
        pass

    async def delete_binding(self, pattern: str, queue: str) -> None:
        pass

    async def save_subscription(self, record: SubscriptionRecord) -> None:
        pass

    async def delete_subscription(self, queue: str, name: str) -> None:
        pass

    async def write_messages(
        self,
        added: Sequence[StoredMessage],
        updated: Sequence[StoredMessage],
        removed: Sequence[tuple[str, str]],
    ) -> None:
        pass

    async def close(self) -> None:
        pass
