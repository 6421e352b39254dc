"""Percentiles of latency samples, medians of runs, and how samples travel between processes.

Workers record latencies as runs of equal values: ``(latency_ns, count)`` pairs in two
``array('q')`` (a Send batch is one send time for all its messages, and a delivery frame
often carries a whole batch), so a million messages are a few thousand pairs to pickle.
"""

from __future__ import annotations

import math
import statistics
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PERCENTILES = (50.0, 99.0, 99.9)


@dataclass
class Samples:
    """Weighted latency samples in nanoseconds."""

    values: array[int] = field(default_factory=lambda: array("q"))
    counts: array[int] = field(default_factory=lambda: array("q"))

    def add(self, value_ns: int, count: int = 1) -> None:
        self.values.append(value_ns)
        self.counts.append(count)

    def extend(self, other: Samples) -> None:
        self.values.extend(other.values)
        self.counts.extend(other.counts)

    @property
    def total(self) -> int:
        return sum(self.counts)

    def to_bytes(self) -> tuple[bytes, bytes]:
        return self.values.tobytes(), self.counts.tobytes()

    @classmethod
    def from_bytes(cls, data: tuple[bytes, bytes]) -> Samples:
        out = cls()
        out.values.frombytes(data[0])
        out.counts.frombytes(data[1])
        return out

    def percentiles_ms(self, qs: Iterable[float] = PERCENTILES) -> dict[str, float]:
        """Nearest-rank percentiles (and the max) in milliseconds; zeros for no samples."""
        pairs = sorted(zip(self.values, self.counts, strict=True))
        total = sum(c for _, c in pairs)
        out: dict[str, float] = {}
        for q in qs:
            out[f"p{q:g}"] = _weighted_rank(pairs, total, q) / 1e6
        out["max"] = pairs[-1][0] / 1e6 if pairs else 0.0
        return out


def _weighted_rank(pairs: Sequence[tuple[int, int]], total: int, q: float) -> float:
    if not total:
        return 0.0
    rank = max(1, math.ceil(q / 100 * total))
    seen = 0
    for value, count in pairs:
        seen += count
        if seen >= rank:
            return float(value)
    return float(pairs[-1][0])  # pragma: no cover - rank <= total


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ascending values; 0.0 for none."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def median(values: Iterable[float]) -> float:
    got = list(values)
    return float(statistics.median(got)) if got else 0.0
