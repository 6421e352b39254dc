"""``conveyor bench publish``: Send throughput, batch latency and group commit per fsync policy.

Each run starts a fresh server (fresh data directory), creates one queue, lets ``publishers``
concurrent callers Send ``messages`` in batches of ``batch`` (AT_LEAST_ONCE, WAIT_FOR_STORED),
then stops the server with SIGTERM so it logs its ``wal stats`` line: messages per fsync is
what group commit achieved. Disk bytes per message is the size of ``DATA/wal`` after the run
divided by the messages stored.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from broker.bench import workload
from broker.bench.report import percentile
from broker.bench.server import BenchServer, ServerError, temp_data_dir, wal_size

POLICIES = ("always", "interval", "never")
QUEUE = "bench-publish"


@dataclass
class PublishRun:
    """One run against one fresh server."""

    policy: str
    sent: int
    failed: int
    seconds: float
    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    wal_records: int
    fsyncs: int
    records_per_fsync: float
    msgs_per_fsync: float
    wal_bytes: int
    bytes_per_msg: float
    timed_out: bool
    errors: list[str] = field(default_factory=list)


@dataclass
class PolicyResult:
    """The runs of one fsync policy and their medians."""

    policy: str
    runs: list[PublishRun]

    def _median(self, name: str) -> float:
        return statistics.median(float(getattr(r, name)) for r in self.runs)

    def summary(self) -> dict[str, float]:
        return {
            name: self._median(name)
            for name in ("msgs_per_s", "p50_ms", "p99_ms", "msgs_per_fsync", "bytes_per_msg")
        }


@dataclass(frozen=True)
class PublishParams:
    messages: int = 100_000
    batch: int = 100
    publishers: int = 8
    payload: int = 256
    runs: int = 3
    time_limit_s: float = 300.0


def one_run(
    policy: str, params: PublishParams, work_dir: Path | None = None, profile: Path | None = None
) -> PublishRun:
    """Fresh server with ``--fsync policy``, publish, SIGTERM, read its figures."""
    with temp_data_dir(work_dir) as data_dir:
        server = BenchServer(data_dir, fsync=policy, profile=profile)
        try:
            server.start()
            result = workload.fill(
                server.address,
                QUEUE,
                messages=params.messages,
                batch=params.batch,
                publishers=params.publishers,
                payload=params.payload,
                deadline=time.monotonic() + params.time_limit_s,
            )
            code = server.stop()
            if code != 0:
                raise ServerError(f"the server exited with {code}:\n" + server.output()[-4000:])
            stats = server.wal_stats()
            wal_bytes = wal_size(data_dir)
        finally:
            server.kill()
    ms = sorted(x * 1000 for x in result.latencies_s)
    sent = result.sent
    return PublishRun(
        policy=policy,
        sent=sent,
        failed=result.failed,
        seconds=result.seconds,
        msgs_per_s=result.rate,
        p50_ms=percentile(ms, 50),
        p99_ms=percentile(ms, 99),
        wal_records=stats.records,
        fsyncs=stats.fsyncs,
        records_per_fsync=stats.records_per_fsync,
        msgs_per_fsync=sent / stats.fsyncs if stats.fsyncs else float(sent),
        wal_bytes=wal_bytes,
        bytes_per_msg=wal_bytes / sent if sent else 0.0,
        timed_out=result.timed_out,
        errors=result.errors[:5],
    )


def bench_publish(
    policies: Sequence[str],
    params: PublishParams,
    *,
    progress: Callable[[str], None] = lambda _: None,
    work_dir: Path | None = None,
    profile: Path | None = None,
) -> list[PolicyResult]:
    """``params.runs`` runs per policy, each on a fresh server."""
    results = []
    for policy in policies:
        runs = []
        for i in range(params.runs):
            progress(f"publish: fsync={policy} run {i + 1}/{params.runs} ...")
            run = one_run(policy, params, work_dir, profile)
            progress(
                f"publish: fsync={policy} run {i + 1}: {run.msgs_per_s:,.0f} msgs/s, "
                f"{run.msgs_per_fsync:,.1f} msgs/fsync" + (" (TIME LIMIT)" if run.timed_out else "")
            )
            runs.append(run)
        results.append(PolicyResult(policy, runs))
    return results


def as_json(params: PublishParams, results: Sequence[PolicyResult]) -> dict[str, Any]:
    return {
        "benchmark": "publish",
        "params": asdict(params),
        "policies": [
            {"policy": r.policy, "median": r.summary(), "runs": [asdict(x) for x in r.runs]}
            for r in results
        ],
    }
