"""``conveyor bench ... --smoke``: every scenario at a tiny size against real server processes.

Run as subprocesses, the way people run them. Each checks the report's shape and that the
counts add up (every message sent once, received by every subscription, nothing failed or
duplicated), for Conveyor and for the baseline; no assertion depends on how fast this machine is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from broker.cli.bench import SMOKE_MESSAGES

BENCH_TIMEOUT_S = 120.0
TARGETS = ("conveyor", "baseline")


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "broker", "bench", *args],
        capture_output=True,
        text=True,
        timeout=BENCH_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"conveyor bench {' '.join(args)}:\n{done.stderr}"
    return done


def bench_json(*args: str) -> Any:
    return json.loads(bench(*args, "--json").stdout)


def check_counts(out: dict[str, Any], subscriptions: int, messages: int = SMOKE_MESSAGES) -> None:
    assert [r["target"] for r in out["runs"]] == ["conveyor", "baseline"]
    for run in out["runs"]:
        assert (run["sent"], run["failed"], run["timed_out"]) == (messages, 0, False), run
        assert run["errors"] == []
        assert run["received"] == messages * subscriptions
        assert (run["missing"], run["duplicates"], run["failed_acks"]) == (0, 0, 0)
        assert run["msgs_per_s"] > 0
        assert run["mb_per_s"] > 0
        assert run["peak_rss"] >= run["rss"] > 0
        assert run["server_cpu_s"] >= 0  # /proc counts in 10 ms ticks: a tiny run may be 0
        for q in ("p50", "p99", "p99.9", "max"):
            assert run["ack_ms"][q] > 0, q
        assert run["ack_ms"]["p50"] <= run["ack_ms"]["p99"] <= run["ack_ms"]["max"]
        if subscriptions:
            assert run["deliver_ms"]["p50"] <= run["deliver_ms"]["p99.9"]
            assert run["deliver_ms"]["p50"] > 0
            assert run["frames"] >= 1
        else:
            assert run["deliver_ms"] == {}
    for target in TARGETS:
        assert out["median"][target]["msgs_per_s"] > 0
    assert out["ratio"]["msgs_per_s"] > 0


@pytest.mark.parametrize("api", ["unary", "stream"])
def test_publish(api: str) -> None:
    out = bench_json("publish", "--smoke", "--api", api, "--concurrency", "4")
    assert out["scenario"] == "publish"
    assert out["params"]["api"] == api
    check_counts(out, subscriptions=0)
    conveyor = out["runs"][0]
    assert conveyor["extra"]["wal_fsyncs"] >= 1  # from the server's clean-stop log line
    assert conveyor["extra"]["msgs_per_fsync"] > 0


@pytest.mark.parametrize("consume", ["streaming", "receive"])
def test_e2e_with_consumers_in_two_processes(consume: str) -> None:
    out = bench_json("e2e", "--smoke", "--consume", consume, "--consumers", "2")
    check_counts(out, subscriptions=1)


def test_broadcast_gives_every_subscription_a_copy() -> None:
    out = bench_json("broadcast", "--smoke", "--subscriptions", "3", "--consumers", "2")
    check_counts(out, subscriptions=3)
    for run in out["runs"]:
        assert run["copies_per_s"] == pytest.approx(run["msgs_per_s"] * 3)


def test_fixed_rate_reports_schedule_lag_and_two_producers_share_the_budget() -> None:
    out = bench_json(
        "e2e",
        "--smoke",
        "--rate",
        "4000",
        "--batch",
        "10",
        "--producers",
        "2",
        "--messages",
        "1001",
    )
    check_counts(out, subscriptions=1, messages=1001)
    for run in out["runs"]:
        assert run["extra"]["target_rate"] == 4000
        assert run["lag_ms"]["max"] >= run["lag_ms"]["p50"] >= 0


def test_duration_mode_publishes_until_the_time_is_up() -> None:
    out = bench_json("publish", "--duration", "0.5", "--runs", "1", "--baseline")
    for run in out["runs"]:
        assert run["sent"] > 0
        assert run["failed"] == 0
        assert run["seconds"] >= 0.5


def test_memory_reports_bytes_per_stored_message() -> None:
    out = bench_json("memory", "--smoke")
    conveyor, baseline = (out["median"][t] for t in TARGETS)
    assert conveyor["sent"] == baseline["sent"] == SMOKE_MESSAGES
    for figures in (conveyor, baseline):
        assert figures["extra.rss_empty"] > 0
        assert figures["extra.rss_stored"] > 0
        assert "extra.bytes_per_msg" in figures


def test_recovery_restarts_from_the_log_and_from_a_snapshot() -> None:
    out = bench_json("recovery", "--smoke", "--checkpointed")
    conveyor = out["runs"][0]["extra"]
    assert conveyor["log_live_messages"] == SMOKE_MESSAGES
    assert conveyor["log_entries"] >= 1  # records are per batch, not per message
    assert conveyor["snapshot_live_messages"] == SMOKE_MESSAGES + 1  # plus the Send that cut it
    assert conveyor["snapshot_entries"] >= 1
    for name in ("log_ready_s", "log_replay_s", "log_disk_bytes_per_msg", "snapshot_ready_s"):
        assert conveyor[name] > 0, name
    baseline = out["runs"][1]["extra"]
    assert baseline["log_ready_s"] > 0  # the floor: a process that has nothing to recover
    assert baseline["log_entries"] == 0


def test_table_puts_conveyor_beside_the_baseline() -> None:
    done = bench("e2e", "--smoke")
    lines = done.stdout.splitlines()
    assert lines[0].startswith("e2e: unary Send batches of 100")
    header = next(line for line in lines if line.strip().startswith("conveyor"))
    assert header.split() == ["conveyor", "baseline", "conveyor/baseline"]
    for label in ("msgs/s", "send->ack p99 ms", "send->deliver p99.9 ms", "server CPU us/msg"):
        row = next(line for line in lines if line.startswith(label + " "))
        assert len(row[len(label) :].split()) >= 2, row
    assert "e2e: conveyor run 1/1: " in done.stderr  # the progress, on stderr


def refused(*args: str) -> str:
    """``conveyor bench ARGS``'s usage error (exit 2)."""
    done = subprocess.run(
        [sys.executable, "-m", "broker", "bench", *args],
        capture_output=True,
        text=True,
        timeout=BENCH_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    return done.stderr


def test_bad_options_are_refused() -> None:
    assert "--payload" in refused("publish", "--payload", "8")
    assert "CONVEYOR_NAME=VALUE" in refused("publish", "--server-env", "X=1")


def test_trace_runs_a_traced_server_beside_the_untraced_one() -> None:
    out = bench_json("e2e", "--smoke", "--trace")
    assert [r["target"] for r in out["runs"]] == ["conveyor", "traced", "baseline"]
    traced = out["runs"][1]
    assert (traced["sent"], traced["received"], traced["failed"]) == (SMOKE_MESSAGES,) * 2 + (0,)
    # Spans reached the OTLP receiver: an RPC and a send span per Send of 100, and at least
    # one receive and one ack span (deliveries and acks are batched as the stream allows).
    assert traced["extra"]["spans_exported"] >= 2 * SMOKE_MESSAGES // 100 + 2
    assert "spans_exported" not in out["runs"][0]["extra"]
    assert out["traced_ratio"]["msgs_per_s"] > 0
    table = bench("publish", "--smoke", "--trace").stdout
    assert "traced/conveyor" in table
    assert "tracing on (100% sampled, OTLP export) / off, median msgs/s:" in table


def test_queue_settings_reach_the_bench_queue() -> None:
    """A depth limit set through --queue-settings refuses what is past it (the baseline has
    no queue to limit)."""
    out = bench_json(
        "publish", "--messages", "500", "--runs", "1", "--queue-settings", '{"maxDepth": 100}'
    )
    (conveyor,) = out["runs"]
    assert (conveyor["sent"], conveyor["failed"]) == (100, 400), conveyor
    assert out["params"]["queue_settings"] == '{"maxDepth": 100}'
    assert "has no field named" in refused("publish", "--queue-settings", '{"nope": 1}')
