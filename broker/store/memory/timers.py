"""One timer heap for every deadline of the memory store: delays, backoff, leases, TTLs.

A single task sleeps until the earliest deadline and is woken early only when a sooner one is
added, so due work is found without scanning messages. Timers are per batch (one per claim,
per delayed publish, per TTL group), never per message. Cancelling empties a handle in place
rather than removing it from the heap; callbacks also check that what they were scheduled for
still holds (the unit's state and deadline). Not thread-safe: owned by the store's event loop.
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


COMPACT_MIN = 1024
"""Cancelled entries tolerated before the heap is rebuilt without them (when also over half)."""


class TimerHandle:
    """One scheduled callback; ``cancel`` drops it, and with it whatever it refers to."""

    __slots__ = ("callback", "timers")

    def __init__(self, timers: Timers, callback: Callable[[], None]) -> None:
        self.timers = timers
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        if self.callback is not None:
            self.callback = None
            self.timers._cancelled_one()


class Timers:
    """A heap of ``(deadline, seq, handle)``; ``run_due`` fires what is due.

    Cancelled handles stay in the heap as empty shells (cheap: the callback and what it holds,
    e.g. a message and its payload, are released at once) until they come due or more than
    half the heap is cancelled, when it is rebuilt, as asyncio's own loop does.
    """

    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._cancelled = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        """Scheduled callbacks not yet fired or cancelled."""
        return len(self._heap) - self._cancelled

    def schedule(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        if not self._heap or when < self._heap[0][0]:
            self._wake.set()
        handle = TimerHandle(self, callback)
        heapq.heappush(self._heap, (when, next(self._seq), handle))
        return handle

    def _cancelled_one(self) -> None:
        self._cancelled += 1
        if self._cancelled > COMPACT_MIN and 2 * self._cancelled > len(self._heap):
            self._heap = [entry for entry in self._heap if entry[2].callback is not None]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def run_due(self, now: float | None = None) -> int:
        """Fires every callback due at ``now``; returns how many fired."""
        now = self.clock() if now is None else now
        fired = 0
        while self._heap and self._heap[0][0] <= now:
            _, _, handle = heapq.heappop(self._heap)
            callback, handle.callback = handle.callback, None
            if callback is None:
                self._cancelled -= 1
                continue
            fired += 1
            try:
                callback()
            except Exception:  # one bad callback must not stop every other timer
                log.exception("timer callback failed")
        return fired

    def next_deadline(self) -> float | None:
        """The earliest deadline in the heap (possibly a cancelled one: waking early is
        harmless, sleeping late is not)."""
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
