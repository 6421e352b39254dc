"""Retry delays: explicit lists repeat their last entry; exponential grows, caps and jitters."""

from __future__ import annotations

import random

import pytest

from broker.errors import InvalidArgument
from broker.model import Backoff
from broker.store.memory.backoff import retry_delay


@pytest.mark.parametrize(
    ("backoff", "failures", "expected"),
    [
        (Backoff(), 1, 0.0),
        (Backoff(initial_s=2.0), 5, 2.0),  # multiplier 1: fixed
        (Backoff(initial_s=2.0, multiplier=0.0), 3, 2.0),  # 0 also means fixed
        (Backoff(initial_s=1.0, multiplier=2.0), 1, 1.0),
        (Backoff(initial_s=1.0, multiplier=2.0), 4, 8.0),
        (Backoff(initial_s=1.0, multiplier=2.0, max_s=5.0), 4, 5.0),
        (Backoff(initial_s=1.0, multiplier=10.0, max_s=60.0), 10_000, 60.0),  # no overflow
        (Backoff(delays_s=(1.0, 5.0, 30.0)), 1, 1.0),
        (Backoff(delays_s=(1.0, 5.0, 30.0)), 3, 30.0),
        (Backoff(delays_s=(1.0, 5.0, 30.0)), 9, 30.0),
    ],
)
def test_retry_delay(backoff: Backoff, failures: int, expected: float) -> None:
    assert retry_delay(backoff.validate(), failures) == pytest.approx(expected)


def test_jitter_only_shortens_within_its_fraction() -> None:
    backoff = Backoff(initial_s=10.0, jitter=0.5).validate()
    rng = random.Random(7)
    delays = [retry_delay(backoff, 1, rng) for _ in range(200)]
    assert all(5.0 <= d <= 10.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100


@pytest.mark.parametrize(
    "backoff",
    [
        Backoff(delays_s=(1.0,), initial_s=1.0),
        Backoff(jitter=1.5),
        Backoff(initial_s=-1.0),
        Backoff(initial_s=10.0, max_s=5.0),
        Backoff(multiplier=-2.0),
    ],
)
def test_invalid_backoff_is_rejected(backoff: Backoff) -> None:
    with pytest.raises(InvalidArgument):
        backoff.validate()
