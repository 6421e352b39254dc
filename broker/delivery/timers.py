"""One timer heap for every deadline in the broker: delays, retry backoff, lease expiry, TTLs.

A single task sleeps until the earliest deadline and is woken early only when a sooner one is
added, so due work is found without scanning messages. Cancelling is lazy: a callback checks
whether what it was scheduled for still holds (the copy's ``gen``), so nothing is removed from
the heap early. Not thread-safe: owned by the event loop that runs the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class Timers:
    """A heap of ``(deadline, seq, callback)``; ``run_due`` fires what is due."""

    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, when: float, callback: Callable[[], None]) -> None:
        if not self._heap or when < self._heap[0][0]:
            self._wake.set()
        heapq.heappush(self._heap, (when, next(self._seq), callback))

    def run_due(self, now: float | None = None) -> int:
        """Fires every callback due at ``now``; returns how many fired."""
        now = self.clock() if now is None else now
        fired = 0
        while self._heap and self._heap[0][0] <= now:
            _, _, callback = heapq.heappop(self._heap)
            fired += 1
            try:
                callback()
            except Exception:  # one bad callback must not stop every other timer
                log.exception("timer callback failed")
        return fired

    def next_deadline(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="conveyor-timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self.run_due()
            self._wake.clear()
            deadline = self.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
