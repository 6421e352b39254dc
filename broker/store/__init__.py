"""Where the core's state is made durable: one interface, batch-shaped and awaitable."""

from broker.store.base import Recovered, Store
from broker.store.memory import MemoryStore

__all__ = ["MemoryStore", "Recovered", "Store"]
