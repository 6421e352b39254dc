"""The journal: how the state machine reports each durable change, in order, as it makes it.

Every verb mutates memory and tells the journal in the same tick, with no await in between,
so the journal sees changes in exactly the order they were made; the durable store's journal
turns each call into a log record (``broker.store.durable.records``), the memory store's does
nothing. Callers report changes to every message; the durable journal leaves out those of
fire-and-forget messages, which are never on disk. Leases are not journaled either: a
restart treats every lease as expired (``claimed`` records the attempt, not the lease).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.model import MessageState, QueueConfig
    from broker.store.memory.queue import QueueState, SubState
    from broker.store.memory.records import Msg, Unit


class Journal:
    """Receives every durable change. This base class keeps nothing (the memory store)."""

    def queue_put(self, config: QueueConfig) -> None:
        """A queue was created or reconfigured."""

    def queue_delete(self, name: str) -> None:
        """A queue was deleted, with its messages, bindings and subscriptions."""

    def queue_paused(self, name: str, paused: bool) -> None:
        """A queue was paused or resumed."""

    def binding_put(self, pattern: str, queue: str) -> None: ...

    def binding_delete(self, pattern: str, queue: str) -> None: ...

    def subscription_put(self, queue: str, sub: SubState) -> None: ...

    def subscription_delete(self, queue: str, name: str) -> None: ...

    def published(
        self, q: QueueState, msgs: Sequence[Msg], dedup: Sequence[tuple[str, int, float]]
    ) -> None:
        """Messages were stored in ``q`` (with the dedup ids they hold: id, seq, until)."""

    def claimed(self, q: QueueState, units: Sequence[Unit]) -> None:
        """Units were leased: their attempt counts went up."""

    def requeued(self, q: QueueState, units: Sequence[Unit]) -> None:
        """Units came back (nack, a consumer gone): ready again at ``unit.due``."""

    def finished(self, q: QueueState, units: Sequence[Unit], state: MessageState) -> None:
        """Units ended with ``state``; a message whose units have all ended is gone."""
