"""How runs become figures: weighted percentiles, merged sightings, medians, run order."""

from __future__ import annotations

from typing import Any

import pytest

from broker.bench.compare import rounds, summarize
from broker.bench.plan import Workload
from broker.bench.report import table
from broker.bench.runner import _merge_seen
from broker.bench.stats import Samples, percentile


def test_weighted_percentiles_count_every_message() -> None:
    s = Samples()
    s.add(5_000_000, 98)  # a batch of 98 messages at 5 ms
    s.add(1_000_000, 1)
    s.add(50_000_000, 1)
    got = s.percentiles_ms()
    assert got == {"p50": 5.0, "p99": 5.0, "p99.9": 50.0, "max": 50.0}
    back = Samples.from_bytes(s.to_bytes())
    assert back.percentiles_ms() == got
    assert back.total == 100
    assert Samples().percentiles_ms() == {"p50": 0.0, "p99": 0.0, "p99.9": 0.0, "max": 0.0}


def test_percentile_and_table() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (
        50.0,
        99.0,
        100.0,
    )
    assert percentile([], 50) == 0.0
    lines = table(["name", "n"], [["a", "1"], ["bb", "22"]]).splitlines()
    assert lines == ["name   n", "----  --", "a      1", "bb    22"]


def _seen(flags: dict[int, bytes], duplicates: int = 0) -> dict[str, Any]:
    return {
        "distinct": sum(sum(f) for f in flags.values()),
        "duplicates": duplicates,
        "flags": flags,
    }


def test_merging_what_processes_saw_finds_cross_process_duplicates() -> None:
    a = {"subscriptions": {0: _seen({0: b"\x01\x01\x00", 1: b"\x01"}, duplicates=2)}}
    # the second process saw message (0, 1) too (a redelivery to another consumer), and more
    b = {"subscriptions": {0: _seen({0: b"\x00\x01\x01\x01\x00\x00"})}}
    received, duplicates = _merge_seen([a, b], subs=1)
    assert received == 5  # (0,0) (0,1) (0,2) (0,3) (1,0)
    assert duplicates == 2 + 1


def test_merging_counts_each_subscription_on_its_own() -> None:
    a = {"subscriptions": {0: _seen({0: b"\x01\x01"}), 1: _seen({0: b"\x01\x01"})}}
    assert _merge_seen([a], subs=2) == (4, 0)


def test_streams_cover_every_subscription_and_every_process() -> None:
    w = Workload(consume="streaming", subscriptions=4, consumers=2, messages=10)
    assert w.consumer_streams() == [
        [(0, "bench-0"), (2, "bench-2")],
        [(1, "bench-1"), (3, "bench-3")],
    ]
    more = Workload(consume="receive", subscriptions=1, consumers=3, messages=10)
    assert more.consumer_streams() == [[(0, "bench-0")]] * 3  # competing consumers
    assert Workload(messages=10).consumer_streams() == []


def test_a_workload_has_a_count_or_a_duration() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Workload(messages=None)
    with pytest.raises(ValueError, match="exactly one"):
        Workload(messages=10, duration_s=1.0)
    with pytest.raises(ValueError, match="every producer"):
        Workload(messages=1, producers=2)


def test_runs_interleave_and_alternate_which_goes_first() -> None:
    assert list(rounds(3, baseline=True)) == [
        (1, "conveyor"),
        (1, "baseline"),
        (2, "baseline"),
        (2, "conveyor"),
        (3, "conveyor"),
        (3, "baseline"),
    ]
    assert list(rounds(2, baseline=False)) == [(1, "conveyor"), (2, "conveyor")]
    assert list(rounds(2, baseline=True, traced=True)) == [
        (1, "conveyor"),
        (1, "traced"),
        (1, "baseline"),
        (2, "baseline"),
        (2, "traced"),
        (2, "conveyor"),
    ]


def test_summary_takes_medians_and_totals_the_counts() -> None:
    runs = [
        {"msgs_per_s": 10.0, "failed": 0, "timed_out": False, "ack_ms": {"p99": 3.0}, "errors": []},
        {
            "msgs_per_s": 30.0,
            "failed": 2,
            "timed_out": True,
            "ack_ms": {"p99": 1.0},
            "errors": ["x"],
        },
        {"msgs_per_s": 20.0, "failed": 1, "timed_out": False, "ack_ms": {"p99": 2.0}, "errors": []},
    ]
    got = summarize(runs)
    assert got["msgs_per_s"] == 20.0
    assert got["ack_ms.p99"] == 2.0
    assert got["failed"] == 3
    assert got["timed_out"] is True
    assert got["errors"] == ["x"]
