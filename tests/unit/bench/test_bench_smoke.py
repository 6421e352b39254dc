"""``conveyor bench`` at tiny sizes: each command runs real servers and prints positive figures.

Run as subprocesses (the way people run them); no assertion depends on how fast this machine is.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from broker.bench.report import percentile, table

BENCH_TIMEOUT_S = 120.0


def bench(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "broker", "bench", *args],
        capture_output=True,
        text=True,
        timeout=BENCH_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"conveyor bench {' '.join(args)}:\n{done.stderr}"
    return done.stdout


def bench_json(*args: str) -> Any:
    return json.loads(bench(*args, "--json"))


def test_publish_every_policy_reports_positive_figures() -> None:
    out = bench_json("publish", "--fsync", "all", "--messages", "2000", "--runs", "1")
    assert [p["policy"] for p in out["policies"]] == ["always", "interval", "never"]
    for policy in out["policies"]:
        (run,) = policy["runs"]
        assert (run["sent"], run["failed"], run["timed_out"]) == (2000, 0, False)
        assert run["fsyncs"] >= 1
        assert run["wal_records"] >= 2000 // 100  # one record per Send batch
        for name in ("msgs_per_s", "p50_ms", "p99_ms", "msgs_per_fsync", "bytes_per_msg"):
            assert policy["median"][name] > 0, name
            assert run[name] > 0, name
        assert run["bytes_per_msg"] >= 256  # every payload is in the log


def test_publish_prints_a_table() -> None:
    out = bench("publish", "--messages", "2000", "--runs", "1", "--batch", "50")
    assert "msgs/s (median)" in out
    assert "msgs/fsync" in out
    row = next(line for line in out.splitlines() if line.startswith("always"))
    numbers = [float(n.replace(",", "")) for n in re.findall(r"[\d,]+(?:\.\d+)?", row)]
    assert len(numbers) >= 7
    assert all(n > 0 for n in numbers[:6])


def test_recovery_reports_restart_times_from_log_and_snapshot() -> None:
    out = bench_json("recovery", "--messages", "5000", "--checkpointed")
    publish = out["publish"]
    assert (publish["sent"], publish["failed"]) == (5000, 0)
    assert publish["msgs_per_s"] > 0
    log, snapshot = out["restarts"]
    assert (log["label"], snapshot["label"]) == ("log", "snapshot")
    assert log["live_messages"] == 5000
    assert snapshot["live_messages"] == 5001  # plus the Send that triggered the checkpoint
    assert snapshot["snapshot_entries"] >= 3  # sequence, queue, and the messages' records
    for phase in (log, snapshot):
        assert phase["entries"] >= 1
        for name in ("ready_s", "recovered_s", "entries_per_s", "bytes_per_msg", "data_dir_bytes"):
            assert phase[name] > 0, name


def test_e2e_reports_rate_and_delivery_latency() -> None:
    out = bench_json("e2e", "--messages", "2000", "--publishers", "2")
    assert (out["published"], out["received"], out["timed_out"]) == (2000, 2000, False)
    assert out["msgs_per_s"] > 0
    assert out["frames"] >= 2
    assert out["msgs_per_frame"] > 1  # deliveries travel many per frame
    for name in ("p50", "p90", "p99", "max"):
        assert out["latency_ms"][name] > 0, name


def test_percentile_and_table() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (
        50.0,
        99.0,
        100.0,
    )
    assert percentile([], 50) == 0.0
    assert percentile([7.0], 99.9) == 7.0
    lines = table(["name", "n"], [["a", "1"], ["bb", "22"]]).splitlines()
    assert lines == ["name   n", "----  --", "a      1", "bb    22"]
