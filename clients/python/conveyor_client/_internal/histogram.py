"""Handling times, kept to size lease extensions (as Pub/Sub's client sizes ack deadlines).

A lease extension should outlast almost every handler run, or the message is redelivered while
it is still being worked on; a much longer one keeps a crashed consumer's messages locked for no
reason. So the subscriber extends by the 99th percentile of the handling times it has seen,
clamped to its configured bounds. Times are kept as whole seconds (rounded up) in a bounded
number of buckets, so memory stays constant however many messages pass.
"""

from __future__ import annotations

import math

MAX_SECONDS = 3600
"""Longest handling time recorded as itself; longer ones count as this (one hour)."""


class Histogram:
    """Counts of handling times in whole seconds, 1 to ``MAX_SECONDS``."""

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._total = 0

    def __len__(self) -> int:
        return self._total

    def add(self, seconds: float) -> None:
        """Records one handling time."""
        bucket = min(max(1, math.ceil(seconds)), MAX_SECONDS)
        self._counts[bucket] = self._counts.get(bucket, 0) + 1
        self._total += 1

    def percentile(self, percent: float, default: float) -> float:
        """The smallest time at or above ``percent``% of those recorded; ``default`` if none."""
        if not self._total:
            return default
        target = self._total * percent / 100.0
        seen = 0
        for bucket in sorted(self._counts):
            seen += self._counts[bucket]
            if seen >= target:
                return float(bucket)
        return float(MAX_SECONDS)
