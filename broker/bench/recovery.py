"""``conveyor bench recovery``: how long a restart takes after a large log.

One run:

1. A fresh server stores ``messages`` messages (the publish workload; its rate is reported).
2. It is stopped with SIGKILL (default: a crash) or SIGTERM; the data directory is measured.
3. A new server on the same directory: time from spawning the process to its ready line
   (``ready_s``), the server's own ``recovered N log entries ... in X s`` (the replay alone) and
   its resident memory once ready.
4. With ``checkpointed``: that server runs with ``CONVEYOR_CHECKPOINT_BYTES=1``, so one small
   Send makes it write a snapshot of every live message and delete the segments it covers; it
   is stopped the same way and a third server measures recovery from the snapshot.

The baseline stores nothing: its restart is the floor (interpreter, imports, listening), the
part of ``ready_s`` no recovery work can remove. With the server's default checkpoint size
(128 MiB of log) a long publish already takes checkpoints on its own; ``CONVEYOR_CHECKPOINT_BYTES``
in the settings overrides it for the publishing server.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from broker.bench import plan
from broker.bench.compare import ServerSettings, start_server
from broker.bench.plan import Workload
from broker.bench.runner import Figures, Progress, run_workload
from broker.bench.server import (
    CHECKPOINT_LINE,
    RECOVERED_LINE,
    BenchServer,
    ServerError,
    dir_size,
    temp_data_dir,
    wal_size,
)
from conveyor.v1 import broker_pb2, broker_pb2_grpc, types_pb2

STOP_SIGNALS = {"kill": signal.SIGKILL, "term": signal.SIGTERM}
CHECKPOINT_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class RecoveryOptions:
    stop: str = "kill"
    checkpointed: bool = False


def _send_one(address: str) -> None:
    async def go() -> None:
        async with grpc.aio.insecure_channel(address) as ch:
            response = await broker_pb2_grpc.BrokerStub(ch).Send(
                broker_pb2.SendRequest(
                    queue=plan.QUEUE, messages=[types_pb2.Message(payload=b"checkpoint")]
                ),
                timeout=plan.RPC_TIMEOUT_S,
            )
            if response.results[0].HasField("error"):
                raise ServerError(f"the Send to trigger a checkpoint failed: {response}")

    import uvloop

    uvloop.run(go())


def _restart(
    kind: str,
    data_dir: Path,
    stored: int,
    settings: ServerSettings,
    run: int,
    label: str,
) -> tuple[BenchServer, dict[str, Any]]:
    """Measures the directory, then starts a server on it; the caller stops the server."""
    data_bytes, wal_bytes = dir_size(data_dir), wal_size(data_dir)
    server = start_server(kind, data_dir, settings, run)
    server.start()
    m = server.wait_for(RECOVERED_LINE, 1.0) if kind == "conveyor" else None
    entries, live, replay_s = (
        (int(m.group(1)), int(m.group(2)), float(m.group(3))) if m else (0, 0, 0.0)
    )
    memory = server.memory()
    return server, {
        f"{label}_ready_s": server.ready_s,
        f"{label}_replay_s": replay_s,
        f"{label}_entries": entries,
        f"{label}_live_messages": live,
        f"{label}_entries_per_s": entries / replay_s if replay_s > 0 else 0.0,
        f"{label}_msgs_per_s_to_ready": live / server.ready_s if server.ready_s > 0 else 0.0,
        f"{label}_data_dir_bytes": data_bytes,
        f"{label}_disk_bytes_per_msg": wal_bytes / stored if stored else 0.0,
        f"{label}_rss": memory.rss,
    }


def recovery_run(
    kind: str,
    w: Workload,
    settings: ServerSettings,
    run: int,
    progress: Progress,
    options: RecoveryOptions,
) -> Figures:
    stop_signal = STOP_SIGNALS[options.stop]
    servers: list[BenchServer] = []
    with temp_data_dir(settings.work_dir) as data_dir:
        try:
            first = start_server(kind, data_dir, settings, run)
            servers.append(first)
            first.start()
            figures = run_workload(first, w, progress)
            first.stop(stop_signal)
            stored = figures.sent
            restart_settings = settings
            if options.checkpointed and kind == "conveyor":
                env = {**settings.env, "CONVEYOR_CHECKPOINT_BYTES": "1"}
                restart_settings = ServerSettings(settings.fsync, env, None, settings.work_dir)
            second, extra = _restart(kind, data_dir, stored, restart_settings, run, "log")
            servers.append(second)
            figures.extra.update(extra)
            if options.checkpointed and kind == "conveyor":
                _send_one(second.address)
                m = second.wait_for(CHECKPOINT_LINE, CHECKPOINT_TIMEOUT_S)
                if m is None:
                    raise ServerError("no checkpoint was logged:\n" + second.output()[-4000:])
                second.stop(stop_signal)
                third, extra = _restart(kind, data_dir, stored + 1, settings, run, "snapshot")
                servers.append(third)
                extra["snapshot_entries"] = int(m.group(1))
                figures.extra.update(extra)
            servers[-1].stop()
        finally:
            for server in servers:
                server.kill()
    return figures
