"""Exponential backoff with full jitter, for reconnecting streams.

Full jitter (a uniform draw between 0 and the exponential cap) spreads out the reconnects of
many consumers that lost the same server at the same moment, so they do not return in a herd.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delays ``uniform(0, min(maximum, initial * multiplier**n))`` for retry ``n`` (from 0).

    ``initial``, ``maximum`` in seconds; ``jitter`` 1 is full jitter, 0 none (tests).
    """

    initial: float = 0.1
    maximum: float = 10.0
    multiplier: float = 2.0
    jitter: float = 1.0

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.maximum) or self.multiplier < 1:
            raise ValueError("backoff needs 0 < initial <= maximum and multiplier >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("backoff jitter must be in [0, 1]")

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """The delay before retry number ``retry`` (0 for the first retry)."""
        cap = min(self.maximum, self.initial * self.multiplier ** min(retry, 64))
        draw = (rng or random).random()
        return cap * (1.0 - self.jitter * draw)
