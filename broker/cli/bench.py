"""``conveyor bench publish|recovery|e2e``: options and output around ``broker.bench``.

The scenarios (and grpc) are imported only when a benchmark runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import click

from broker.cli.common import _fail, _json_option
from broker.cli.output import _echo_json
from broker.config import FSYNC_POLICIES


@click.group()
def bench() -> None:
    """Measure fresh local servers: publish rate, recovery time, end-to-end latency.

    Each benchmark starts its own server process (a free 127.0.0.1 port, data in a temporary
    folder) and ignores --server. Progress goes to stderr; figures to stdout.
    """


_MESSAGES_LIMIT = click.IntRange(1, 10_000_000)
_work_dir_option = click.option(
    "--work-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Where the temporary data directories go [default: the system temp folder].",
)
_profile_option = click.option(
    "--server-profile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Run the server under cProfile and write its stats here (for python -m pstats).",
)


def _bench_progress(line: str) -> None:
    click.echo(line, err=True)


@contextlib.contextmanager
def _bench_errors() -> Iterator[None]:
    """A server that fails to start or an RPC that fails ends the command with exit status 1."""
    import grpc

    from broker.bench.server import ServerError

    try:
        yield
    except ServerError as exc:
        _fail("bench", str(exc))
    except grpc.RpcError as exc:
        code = exc.code().name if isinstance(exc, grpc.aio.AioRpcError) else "UNKNOWN"
        _fail(code, str(exc.details()) if isinstance(exc, grpc.aio.AioRpcError) else str(exc))


@bench.command("publish")
@click.option(
    "--fsync",
    type=click.Choice([*FSYNC_POLICIES, "all"]),
    default="always",
    show_default=True,
    help="The server's fsync policy; 'all' runs each in turn.",
)
@click.option("--messages", type=_MESSAGES_LIMIT, default=100_000, show_default=True)
@click.option("--batch", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--publishers", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option(
    "--payload", type=click.IntRange(0, 1024 * 1024), default=256, show_default=True,
    help="Payload bytes per message.",
)  # fmt: skip
@click.option("--runs", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option(
    "--time-limit", type=click.FloatRange(min=1), default=300.0, show_default=True,
    help="Seconds of publishing per run; the run stops there.",
)  # fmt: skip
@_work_dir_option
@_profile_option
@_json_option
def bench_publish(
    fsync: str,
    messages: int,
    batch: int,
    publishers: int,
    payload: int,
    runs: int,
    time_limit: float,
    work_dir: Path | None,
    server_profile: Path | None,
    as_json: bool,
) -> None:
    """Send throughput, batch latency, group commit and disk use per fsync policy."""
    from broker.bench import publish, report

    params = publish.PublishParams(messages, batch, publishers, payload, runs, time_limit)
    policies = publish.POLICIES if fsync == "all" else (fsync,)
    with _bench_errors():
        results = publish.bench_publish(
            policies, params, progress=_bench_progress, work_dir=work_dir, profile=server_profile
        )
    if as_json:
        _echo_json(publish.as_json(params, results))
    else:
        click.echo(report.publish_report(results))


@bench.command("recovery")
@click.option("--messages", type=_MESSAGES_LIMIT, default=1_000_000, show_default=True)
@click.option("--payload", type=click.IntRange(0, 1024 * 1024), default=256, show_default=True)
@click.option("--batch", type=click.IntRange(1, 1000), default=500, show_default=True)
@click.option("--publishers", type=click.IntRange(1, 256), default=4, show_default=True)
@click.option("--fsync", type=click.Choice(FSYNC_POLICIES), default="always", show_default=True)
@click.option(
    "--stop", type=click.Choice(["kill", "term"]), default="kill", show_default=True,
    help="How the loaded server is stopped: SIGKILL (a crash) or SIGTERM.",
)  # fmt: skip
@click.option(
    "--checkpointed", is_flag=True,
    help="Also measure a restart from a fresh snapshot (CONVEYOR_CHECKPOINT_BYTES=1).",
)  # fmt: skip
@click.option(
    "--checkpoint-bytes", type=click.IntRange(min=1),
    help="CONVEYOR_CHECKPOINT_BYTES for the publishing server [default: the server's].",
)  # fmt: skip
@click.option(
    "--time-limit", type=click.FloatRange(min=1), default=900.0, show_default=True,
    help="Seconds for publishing (and for a checkpoint).",
)  # fmt: skip
@_work_dir_option
@_json_option
def bench_recovery(
    messages: int,
    payload: int,
    batch: int,
    publishers: int,
    fsync: str,
    stop: str,
    checkpointed: bool,
    checkpoint_bytes: int | None,
    time_limit: float,
    work_dir: Path | None,
    as_json: bool,
) -> None:
    """Store many messages, stop the server, and time the restart (and from a snapshot)."""
    from broker.bench import recovery, report

    params = recovery.RecoveryParams(
        messages, payload, batch, publishers, fsync, stop, checkpointed, checkpoint_bytes,
        time_limit,
    )  # fmt: skip
    with _bench_errors():
        result = recovery.bench_recovery(params, progress=_bench_progress, work_dir=work_dir)
    if as_json:
        _echo_json(result.as_json())
    else:
        click.echo(report.recovery_report(result))


@bench.command("e2e")
@click.option("--messages", type=_MESSAGES_LIMIT, default=200_000, show_default=True)
@click.option("--batch", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--publishers", type=click.IntRange(1, 256), default=4, show_default=True)
@click.option("--payload", type=click.IntRange(0, 1024 * 1024), default=256, show_default=True)
@click.option(
    "--window", type=click.IntRange(1, 10_000), default=1000, show_default=True,
    help="The consumer's max_outstanding_messages.",
)  # fmt: skip
@click.option("--fsync", type=click.Choice(FSYNC_POLICIES), default="always", show_default=True)
@click.option("--time-limit", type=click.FloatRange(min=1), default=600.0, show_default=True)
@_work_dir_option
@_profile_option
@_json_option
def bench_e2e(
    messages: int,
    batch: int,
    publishers: int,
    payload: int,
    window: int,
    fsync: str,
    time_limit: float,
    work_dir: Path | None,
    server_profile: Path | None,
    as_json: bool,
) -> None:
    """Publish and consume (StreamingReceive) at once: end-to-end rate and delivery latency."""
    from broker.bench import e2e, report

    params = e2e.E2EParams(messages, batch, publishers, payload, window, fsync, time_limit)
    with _bench_errors():
        result = e2e.bench_e2e(
            params, progress=_bench_progress, work_dir=work_dir, profile=server_profile
        )
    if as_json:
        _echo_json(result.as_json())
    else:
        click.echo(report.e2e_report(result))
