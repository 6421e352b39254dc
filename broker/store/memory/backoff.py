"""Retry delays: an explicit list, or exponential with a cap and jitter."""

from __future__ import annotations

import random

from broker.model import Backoff


def retry_delay(backoff: Backoff, failures: int, rng: random.Random | None = None) -> float:
    """Delay before the next attempt after ``failures`` failed attempts (1 or more)."""
    n = max(1, failures)
    if backoff.delays_s:
        return backoff.delays_s[min(n, len(backoff.delays_s)) - 1]
    growth = backoff.multiplier if backoff.multiplier > 1 else 1.0
    # Cap the exponent before raising: a large attempt count would overflow a float.
    delay = backoff.initial_s * growth ** min(n - 1, 64)
    if backoff.max_s:
        delay = min(delay, backoff.max_s)
    if backoff.jitter:
        delay *= 1 - backoff.jitter * (rng or random).random()
    return delay
