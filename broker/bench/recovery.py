"""``conveyor bench recovery``: how long a restart takes after a large log.

1. A fresh server stores ``messages`` messages (batches of ``batch``, ``publishers``
   concurrent callers, WAIT_FOR_STORED); the publish rate is measured too.
2. It is stopped with SIGKILL (default: a crash) or SIGTERM; the data directory is measured.
3. A new server on the same directory: time from spawning the process to its ready line, and
   the server's own ``recovered N log entries ... in X s`` (the replay alone).
4. With ``checkpointed``: that server runs with ``CONVEYOR_CHECKPOINT_BYTES=1``, so one small
   Send makes it write a snapshot of every live message and delete the segments it covers; it is
   stopped the same way and a third server measures recovery from the snapshot.

With the server's default checkpoint size (128 MiB of log), a long publish already takes
checkpoints on its own; ``checkpoint_bytes`` overrides it for the publishing server (a huge value
measures a pure log replay).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from broker.bench import workload
from broker.bench.report import percentile
from broker.bench.server import (
    CHECKPOINT_LINE,
    BenchServer,
    ServerError,
    dir_size,
    temp_data_dir,
    wal_size,
)

QUEUE = "bench-recovery"
STOP_SIGNALS = {"kill": signal.SIGKILL, "term": signal.SIGTERM}


@dataclass(frozen=True)
class RecoveryParams:
    messages: int = 1_000_000
    payload: int = 256
    batch: int = 500
    publishers: int = 4
    fsync: str = "always"
    stop: str = "kill"
    checkpointed: bool = False
    checkpoint_bytes: int | None = None
    time_limit_s: float = 900.0


@dataclass
class PublishPhase:
    sent: int
    failed: int
    seconds: float
    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    checkpoints: int
    timed_out: bool


@dataclass
class RestartPhase:
    """One restart on a data directory left by a stopped server."""

    label: str
    data_dir_bytes: int
    wal_bytes: int
    bytes_per_msg: float
    ready_s: float
    recovered_s: float
    entries: int
    live_messages: int
    entries_per_s: float
    snapshot_entries: int = 0


@dataclass
class RecoveryResult:
    params: RecoveryParams
    publish: PublishPhase
    restarts: list[RestartPhase]

    def as_json(self) -> dict[str, Any]:
        return {"benchmark": "recovery", **asdict(self)}


def _publish(server: BenchServer, params: RecoveryParams) -> workload.PublishResult:
    return workload.fill(
        server.address,
        QUEUE,
        messages=params.messages,
        batch=params.batch,
        publishers=params.publishers,
        payload=params.payload,
        deadline=time.monotonic() + params.time_limit_s,
    )


def _send_one(server: BenchServer) -> None:
    async def go() -> workload.PublishResult:
        async with workload.channel(server.address) as ch:
            return await workload.publish(
                ch,
                QUEUE,
                messages=1,
                batch=1,
                publishers=1,
                payload=16,
                deadline=time.monotonic() + 60,
            )

    if workload.run(go).sent != 1:
        raise ServerError("the Send that should trigger a checkpoint failed")


def _restart(
    label: str,
    data_dir: Path,
    stored: int,
    params: RecoveryParams,
    env: dict[str, str] | None = None,
) -> tuple[BenchServer, RestartPhase]:
    """Measures the directory, then starts a server on it; the caller stops the server."""
    data_bytes, wal_bytes = dir_size(data_dir), wal_size(data_dir)
    server = BenchServer(data_dir, fsync=params.fsync, env=env)
    server.start()
    rec = server.recovery()
    phase = RestartPhase(
        label=label,
        data_dir_bytes=data_bytes,
        wal_bytes=wal_bytes,
        bytes_per_msg=wal_bytes / stored if stored else 0.0,
        ready_s=server.ready_s,
        recovered_s=rec.seconds,
        entries=rec.entries,
        live_messages=rec.live_messages,
        entries_per_s=rec.entries / rec.seconds if rec.seconds > 0 else 0.0,
    )
    return server, phase


def bench_recovery(
    params: RecoveryParams,
    *,
    progress: Callable[[str], None] = lambda _: None,
    work_dir: Path | None = None,
) -> RecoveryResult:
    stop_signal = STOP_SIGNALS[params.stop]
    env = {}
    if params.checkpoint_bytes is not None:
        env["CONVEYOR_CHECKPOINT_BYTES"] = str(params.checkpoint_bytes)
    servers: list[BenchServer] = []
    restarts: list[RestartPhase] = []
    with temp_data_dir(work_dir) as data_dir:
        try:
            first = BenchServer(data_dir, fsync=params.fsync, env=env)
            servers.append(first)
            first.start()
            progress(f"recovery: publishing {params.messages:,} messages ...")
            pub = _publish(first, params)
            checkpoints = first.output().count("checkpoint at ")
            first.stop(stop_signal)
            ms = sorted(x * 1000 for x in pub.latencies_s)
            publish = PublishPhase(
                sent=pub.sent,
                failed=pub.failed,
                seconds=pub.seconds,
                msgs_per_s=pub.rate,
                p50_ms=percentile(ms, 50),
                p99_ms=percentile(ms, 99),
                checkpoints=checkpoints,
                timed_out=pub.timed_out,
            )
            progress(
                f"recovery: published {pub.sent:,} at {pub.rate:,.0f} msgs/s; "
                f"stopped with {params.stop}; restarting ..."
            )
            restart_env = {**env, "CONVEYOR_CHECKPOINT_BYTES": "1"} if params.checkpointed else env
            second, phase = _restart("log", data_dir, pub.sent, params, restart_env)
            servers.append(second)
            restarts.append(phase)
            progress(
                f"recovery: ready in {phase.ready_s:.2f}s, replay {phase.recovered_s:.2f}s "
                f"({phase.entries:,} entries)"
            )
            if params.checkpointed:
                progress("recovery: taking a checkpoint ...")
                _send_one(second)
                m = second.wait_for(CHECKPOINT_LINE, params.time_limit_s)
                if m is None:
                    raise ServerError("no checkpoint was logged:\n" + second.output()[-4000:])
                second.stop(stop_signal)
                third, phase = _restart("snapshot", data_dir, pub.sent + 1, params, env)
                servers.append(third)
                phase.snapshot_entries = int(m.group(1))
                restarts.append(phase)
                progress(
                    f"recovery: from the snapshot ready in {phase.ready_s:.2f}s, "
                    f"replay {phase.recovered_s:.2f}s"
                )
            servers[-1].stop()
        finally:
            for server in servers:
                server.kill()
    return RecoveryResult(params, publish, restarts)
