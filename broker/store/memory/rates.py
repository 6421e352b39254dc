"""Rates: per-second samples of a queue's counters, kept for five minutes.

The hot path pays nothing for rates: verbs only bump the counters they always kept
(``queue.Counters``). Once a second one timer copies every queue's four rated counters into
that queue's ring (``sample``); a rate over a window is then the difference between now and
the sample closest to the window's start, divided by the time between them. A queue created
(or a server started) within the window gets the rate over the time it has existed.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from broker.store.base import Rates

if TYPE_CHECKING:
    from broker.store.memory.queue import Counters

WINDOWS_S = (60.0, 300.0)
"""The windows stats report: the last minute and the last five minutes."""
SAMPLE_EVERY_S = 1.0
_KEEP = int(WINDOWS_S[-1] / SAMPLE_EVERY_S) + 2


class RateRing:
    """``(time, sent, delivered, acked, dead_lettered)`` once a second, newest last."""

    __slots__ = ("_samples",)

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int, int, int, int]] = deque(maxlen=_KEEP)

    def sample(self, now: float, c: Counters) -> None:
        self._samples.append((now, c.sent, c.delivered, c.acked, c.dead_lettered))

    def rates(self, now: float, c: Counters, window_s: float) -> Rates:
        start = now - window_s
        base = None
        for entry in self._samples:  # oldest first: the first one inside the window
            if entry[0] >= start - SAMPLE_EVERY_S / 2:
                base = entry
                break
        if base is None:
            return Rates()
        span = now - base[0]
        if span <= 0:
            return Rates()
        return Rates(
            sent=(c.sent - base[1]) / span,
            delivered=(c.delivered - base[2]) / span,
            acked=(c.acked - base[3]) / span,
            dead_lettered=(c.dead_lettered - base[4]) / span,
            window_s=span,
        )
