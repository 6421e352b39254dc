"""A token bucket: at most ``rate`` handler starts a second, bursts up to ``burst``."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """Waits in ``acquire()`` until a token is free. One bucket serves one event loop."""

    def __init__(self, rate: float, burst: int | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate limit must be positive (messages per second)")
        self.rate = rate
        self.burst = float(burst if burst is not None else max(1, int(rate)))
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()  # serialises waiters so tokens go out in arrival order

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self) -> None:
        async with self._lock:
            self._refill()
            if self._tokens < 1:
                # Pacing is the point here: the wait is the rate limit, not a synchronisation.
                await asyncio.sleep((1 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1
