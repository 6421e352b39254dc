"""Consumers: the flow-control window of one Receive stream (or one Pull), and who to wake.

A stream's window is what it holds leased: it is never handed more than ``max_messages``
unacked deliveries or, with a byte window, more than ``max_bytes`` of their payload (a
message larger than the whole window still goes out when nothing else is outstanding). A slot
frees when its delivery is acked, nacked (a nack with a delay frees it at once) or its lease
ends; the store owns the lease itself, so the consumer keeps its own copy of each deadline and
frees the slots of deliveries whose lease passed (one timer per claim, not per message).

``Registry`` is how the store's "subscription S of queue Q has messages" signal reaches the
consumers of S, and how an ack that arrives elsewhere (a unary Ack, another stream) frees the
slot of the consumer holding it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Iterable

from broker.store.base import Claim


class Consumer:
    """Credit, held deliveries and a wake-up for one stream. ``wake`` is set whenever work or
    credit may be there, or the consumer was closed."""

    def __init__(
        self,
        queue: str,
        subscription: str,
        max_messages: int,
        max_bytes: int,
        lease_s: float,
        *,
        holds_credit: bool = True,
    ) -> None:
        self.queue = queue
        self.subscription = subscription
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.lease_s = lease_s
        self.holds_credit = holds_credit
        """False for Pull: its deliveries outlive the call, so they hold no stream's window."""
        self.held: dict[str, int] = {}
        """Ack id -> payload size of each delivery this stream holds."""
        self.held_bytes = 0
        self.wake = asyncio.Event()
        self.closed = False
        self.error: BaseException | None = None
        """Why the broker ended this consumer (the store failed), if it did."""
        self._deadlines: list[tuple[float, int, list[str]]] = []
        self._extended: dict[str, float] = {}
        self._counter = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def budget(self) -> tuple[int, int]:
        """(messages, bytes) a claim may take now; bytes 0 means no byte window."""
        if self.closed:
            return 0, 0
        count = self.max_messages - len(self.held)
        if not self.max_bytes:
            return count, 0
        room = self.max_bytes - self.held_bytes
        if room <= 0 and self.held:
            return 0, 0
        return count, max(room, 1)

    def took(self, claim: Claim) -> None:
        if not self.holds_credit:
            return
        held = self.held
        ids = []
        for ack_id, _, _, size in claim.deliveries:
            held[ack_id] = size
            self.held_bytes += size
            ids.append(ack_id)
        heapq.heappush(self._deadlines, (claim.deadline, next(self._counter), ids))
        self._arm()

    def release(self, ack_ids: Iterable[str]) -> bool:
        """Frees the slots of those ack ids this consumer holds; True if any was."""
        held = self.held
        freed = False
        for ack_id in ack_ids:
            size = held.pop(ack_id, None)
            if size is not None:
                self.held_bytes -= size
                freed = True
        if freed:
            self._extended_gc()
            self.wake.set()
        return freed

    def extended(self, ack_ids: Iterable[str], deadline: float) -> None:
        for ack_id in ack_ids:
            if ack_id in self.held:
                self._extended[ack_id] = deadline
                heapq.heappush(self._deadlines, (deadline, next(self._counter), [ack_id]))
        self._arm()

    def close(self) -> None:
        self.closed = True
        self.wake.set()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _extended_gc(self) -> None:
        if len(self._extended) > 2 * len(self.held) + 64:
            self._extended = {k: v for k, v in self._extended.items() if k in self.held}

    def _arm(self) -> None:
        """One loop timer, for the earliest deadline."""
        if self._timer is not None or not self._deadlines or self.closed:
            return
        delay = max(0.0, self._deadlines[0][0] - time.time())
        self._timer = asyncio.get_running_loop().call_later(delay, self._expire)

    def _expire(self) -> None:
        self._timer = None
        now = time.time()
        freed: list[str] = []
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, _, ids = heapq.heappop(deadlines)
            for ack_id in ids:
                if ack_id not in self.held:
                    continue
                later = self._extended.get(ack_id)
                if later is not None and later > now:
                    continue  # an extension pushed its own deadline
                freed.append(ack_id)
        if freed:
            self.release(freed)
            for ack_id in freed:
                self._extended.pop(ack_id, None)
        self._arm()


class Registry:
    """The open consumers, by (queue, subscription) for wake-ups and by queue for acks."""

    def __init__(self) -> None:
        self._by_sub: dict[tuple[str, str], set[Consumer]] = {}

    def add(self, consumer: Consumer) -> None:
        self._by_sub.setdefault((consumer.queue, consumer.subscription), set()).add(consumer)

    def remove(self, consumer: Consumer) -> None:
        key = (consumer.queue, consumer.subscription)
        group = self._by_sub.get(key)
        if group is not None:
            group.discard(consumer)
            if not group:
                del self._by_sub[key]

    def ready(self, queue: str, subscription: str) -> None:
        for consumer in self._by_sub.get((queue, subscription), ()):
            consumer.wake.set()

    def of(self, queue: str, subscription: str | None = None) -> list[Consumer]:
        if subscription is not None:
            return list(self._by_sub.get((queue, subscription), ()))
        return [c for (q, _), group in self._by_sub.items() if q == queue for c in group]

    def release(self, ack_ids: list[str], first: Consumer | None = None) -> None:
        """Frees the slots these ack ids hold, in whichever consumer holds them."""
        rest = ack_ids
        if first is not None:
            rest = [a for a in ack_ids if a not in first.held]
            first.release(ack_ids)
        if not rest:
            return
        by_queue: dict[str, list[str]] = {}
        for ack_id in rest:
            by_queue.setdefault(ack_id.split(":", 1)[0], []).append(ack_id)
        for queue, ids in by_queue.items():
            for consumer in self.of(queue):
                if consumer is not first:
                    consumer.release(ids)

    def holders(self, ack_ids: list[str], first: Consumer | None = None) -> list[Consumer]:
        """The consumers holding any of these ack ids (``first`` is checked first)."""
        out = [first] if first is not None and any(a in first.held for a in ack_ids) else []
        queues = {a.split(":", 1)[0] for a in ack_ids}
        for queue in queues:
            out += [
                c for c in self.of(queue) if c is not first and any(a in c.held for a in ack_ids)
            ]
        return out

    def close_all(self, error: BaseException | None = None) -> None:
        for group in self._by_sub.values():
            for consumer in group:
                if error is not None:
                    consumer.error = error
                consumer.close()

    def count(self, queue: str, subscription: str) -> int:
        return sum(1 for c in self._by_sub.get((queue, subscription), ()) if c.holds_credit)
