"""Unit tests for the SDK's sharp-edged pieces: the handling-time histogram that sizes lease
extensions, the reconnect backoff, and the subscriber's extension choice."""

from __future__ import annotations

import random

import pytest

from conveyor_client import AsyncSubscriber, Backoff
from conveyor_client._internal.acks import Acks
from conveyor_client._internal.histogram import MAX_SECONDS, Histogram


def test_histogram_percentiles_round_up_to_whole_seconds():
    h = Histogram()
    assert h.percentile(99, default=10.0) == 10.0
    for _ in range(98):
        h.add(0.2)
    h.add(4.5)
    h.add(7000)  # beyond the top bucket: counted as the top
    assert len(h) == 100
    assert h.percentile(50, 0) == 1.0
    assert h.percentile(99, 0) == 5.0
    assert h.percentile(100, 0) == float(MAX_SECONDS)


def test_backoff_grows_to_its_cap_with_full_jitter():
    b = Backoff(initial=0.1, maximum=2.0, multiplier=2.0, jitter=0.0)
    assert [b.delay(n) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0]
    jittered = Backoff(initial=1.0, maximum=1.0)
    draws = [jittered.delay(0, random.Random(seed)) for seed in range(50)]
    assert all(0.0 <= d <= 1.0 for d in draws)
    assert len(set(draws)) > 40  # spread out, not one value
    with pytest.raises(ValueError, match="initial"):
        Backoff(initial=0)


async def test_lease_extension_follows_the_99th_percentile_within_bounds():
    async def handle(m):  # type: ignore[no-untyped-def]
        pass

    sub = AsyncSubscriber(
        "127.0.0.1:1", "q", "s", handle, min_lease_extension=2.0, max_lease_extension=30.0
    )
    assert sub._extension() == 2.0  # nothing observed yet: the minimum
    for _ in range(200):
        sub.stats.handling_seconds.add(0.1)
    assert sub._extension() == 2.0  # fast handlers: the floor
    for _ in range(20):
        sub.stats.handling_seconds.add(12.3)
    assert sub._extension() == 13.0  # the slow tail sets it
    for _ in range(500):
        sub.stats.handling_seconds.add(100)
    assert sub._extension() == 30.0  # capped
    await sub.stop()


def test_subscriber_arguments_are_checked():
    with pytest.raises(TypeError, match="exactly one"):
        AsyncSubscriber("127.0.0.1:1", "q", "s")


def test_stream_frames_carry_nack_reasons_beside_acks_only_when_there_is_one():
    acks = Acks()
    acks.ack_ids.append("a1")
    acks.nack("n1")
    acks.nack("n2")
    plain = acks.take()
    assert (list(plain.ack_ids), list(plain.nack_ids), list(plain.nack_reasons)) == (
        ["a1"],
        ["n1", "n2"],
        [],
    )
    acks.restore(plain)
    acks.nack("n3", "ValueError: bad")
    frame = acks.take()
    assert list(frame.nack_ids) == ["n1", "n2", "n3"]
    assert list(frame.nack_reasons) == ["", "", "ValueError: bad"]
    assert list(frame.ack_ids) == ["a1"]
    acks.nack("n4", "KeyError: 'x'")
    acks.restore(frame)  # a frame that could not be written goes back ahead, reasons with it
    assert acks.nacks_by_reason() == {
        "": ["n1", "n2"],
        "ValueError: bad": ["n3"],
        "KeyError: 'x'": ["n4"],
    }
    held = acks.take(nacks=False)
    assert (list(held.nack_ids), list(held.nack_reasons)) == ([], [])
    assert len(acks.nack_ids) == len(acks.nack_reasons) == 4
