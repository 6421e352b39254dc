"""Dedup windows: a second Send with the same dedup id inside the window is a duplicate.

Each id remembers the first message's sequence number and when it stops counting; it is
independent of the message's life (an id still counts after its message was acked, as in SQS
FIFO queues). Expired ids are forgotten in expiry order from a heap (a window shortened by a
config change expires new ids before older ones), and an id whose own expiry passed is never
reported.
"""

from __future__ import annotations

import heapq


class DedupWindow:
    """Dedup ids of one queue: ``id -> (seq, until)``, plus their expiry order."""

    def __init__(self) -> None:
        self._ids: dict[str, tuple[int, float]] = {}
        self._order: list[tuple[float, str, int]] = []

    def __len__(self) -> int:
        return len(self._ids)

    def lookup(self, dedup_id: str, now: float) -> int | None:
        """The sequence number of the message that holds ``dedup_id``, if it still counts."""
        order, ids = self._order, self._ids
        while order and order[0][0] <= now:
            _, old, seq = heapq.heappop(order)
            hit = ids.get(old)
            if hit is not None and hit[0] == seq:
                del ids[old]
        hit = ids.get(dedup_id)
        return hit[0] if hit is not None and hit[1] > now else None

    def remember(self, dedup_id: str, seq: int, until: float) -> None:
        self._ids[dedup_id] = (seq, until)
        heapq.heappush(self._order, (until, dedup_id, seq))

    def entries(self, now: float) -> list[tuple[str, int, float]]:
        """Every id that still counts, as ``(id, seq, until)``."""
        return [(d, seq, until) for d, (seq, until) in self._ids.items() if until > now]
