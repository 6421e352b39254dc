"""What the console has seen of each queue over the last minutes, for its sparklines.

Samples are taken when a page asks for stats (the overview polls every two seconds), at most
one per ``SPACING_S`` per queue, and kept for ``WINDOW_S``: no timer runs while nobody looks,
and a page opened later still draws the minutes before it. A sample holds what the server
reported (depth and counts, and its per-second rates where it keeps them); nothing is derived
here.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

WINDOW_S = 300.0
"""Five minutes: long enough to see a backlog build or drain, short enough to stay small."""
SPACING_S = 2.0
"""At most one sample per queue this often, however many pages poll."""
_KEPT = ("depth", "ready", "in_flight", "delayed")
_RATES = ("sent", "delivered", "acked")


class History:
    """Samples per queue, oldest first; queues that are gone are forgotten at the next look."""

    def __init__(self) -> None:
        self._samples: dict[str, collections.deque[dict[str, Any]]] = {}

    def record(self, now: float, name: str, stats: dict[str, Any]) -> list[dict[str, Any]]:
        """Adds ``stats`` (a ``GetQueueStatsResponse`` as JSON) unless one is recent; returns
        the queue's samples."""
        samples = self._samples.setdefault(name, collections.deque())
        if not samples or now - samples[-1]["t"] >= SPACING_S:
            sample: dict[str, Any] = {"t": now, **{k: stats.get(k, 0) for k in _KEPT}}
            rates = stats.get("rates_1m")
            if isinstance(rates, dict):
                sample["rates"] = {k: rates.get(k, 0) for k in _RATES}
            samples.append(sample)
        while samples and now - samples[0]["t"] > WINDOW_S:
            samples.popleft()
        return list(samples)

    def keep_only(self, names: Iterable[str]) -> None:
        alive = set(names)
        for name in [n for n in self._samples if n not in alive]:
            del self._samples[name]
