"""``conveyor bench publish|e2e|broadcast|memory|recovery``: options and output around
``broker.bench``.

The scenarios (and grpc) are imported only when a benchmark runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from broker.cli.common import _fail, _json_option, _options
from broker.cli.output import _echo_json
from broker.cli.serve import SIZE
from broker.config import FSYNC_POLICIES

if TYPE_CHECKING:
    from broker.bench.compare import Comparison, ServerSettings
    from broker.bench.plan import Workload
    from broker.bench.runner import Figures, Progress

_F = TypeVar("_F", bound=Callable[..., Any])
SMOKE_MESSAGES = 2000
"""``--smoke``: this many messages, one run, with the baseline: seconds per scenario."""
PUBLISH_CONCURRENCY = 8
"""Publish only: 8 Sends in flight, the shape SPEC §10 measures ("8 callers")."""
CONSUMED_CONCURRENCY = 4
"""With consumers: fewer in flight, or publishing only piles up a backlog ahead of them."""
FILL_CONCURRENCY = 4
RATE_CONCURRENCY = 256
"""``--rate``: batches a producer may have in flight. An open-loop load must not wait for slow
answers (that would hide them), so this is high; beyond it the producer falls behind and the
report's schedule lag shows it."""
SMOKE_SETTLE_S = 0.2
"""``memory --smoke``: idle time before each RSS reading (the figure is not the point there)."""


@click.group()
def bench() -> None:
    """Measure fresh local servers, beside a bare grpc.aio baseline of the same RPC shapes.

    Each run starts its own server process (a free 127.0.0.1 port, data in a temporary folder;
    --server is ignored) and its own producer and consumer processes. Progress goes to stderr,
    figures to stdout (--json for scripts).
    """


class _Reporter:
    """A progress bar on stderr per run, then the run's headline."""

    STEPS = 1000

    def __init__(self) -> None:
        self._bar: Any = None

    def begin(self, label: str) -> Progress:
        self._bar = click.progressbar(
            length=self.STEPS,
            label=label,
            file=sys.stderr,
            show_eta=False,
            item_show_func=lambda text: text,
        ).__enter__()
        bar = self._bar

        def update(fraction: float, text: str) -> None:
            target = int(min(1.0, max(0.0, fraction)) * self.STEPS)
            bar.update(max(0, target - bar.pos), text)

        return update

    def end(self, label: str, figures: Figures) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        click.echo(f"{label}: {figures.headline()}", err=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@contextlib.contextmanager
def _bench_errors() -> Iterator[None]:
    """A server or worker that fails, or an RPC that fails, ends the command with status 1."""
    import grpc

    from broker.bench.runner import BenchError
    from broker.bench.server import ServerError

    try:
        yield
    except (ServerError, BenchError) as exc:
        _fail("bench", str(exc))
    except grpc.RpcError as exc:
        code = exc.code().name if isinstance(exc, grpc.aio.AioRpcError) else "UNKNOWN"
        _fail(code, str(exc.details()) if isinstance(exc, grpc.aio.AioRpcError) else str(exc))


def _server_env(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    env = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("CONVEYOR_"):
            raise click.BadParameter(f"{item!r}: expected CONVEYOR_NAME=VALUE")
        env[name] = value
    return env


def _common(
    default_messages: int, default_batch: int, default_concurrency: int
) -> Callable[[_F], _F]:
    return _options(
        click.option(
            "--messages",
            type=click.IntRange(1, 100_000_000),
            default=default_messages,
            show_default=True,
            help="Messages per run (split over the producers).",
        ),
        click.option(
            "--duration",
            type=click.FloatRange(min=0.1),
            help="Seconds of publishing per run, instead of --messages.",
        ),
        click.option(
            "--rate",
            type=click.FloatRange(min=1),
            help="Publish at this many msgs/s in all (for latency) instead of flat out.",
        ),
        click.option(
            "--payload",
            type=click.IntRange(16, 16 * 1024 * 1024),
            default=256,
            show_default=True,
            help="Payload bytes per message (the first 16 carry the send time).",
        ),
        click.option(
            "--batch",
            type=click.IntRange(1, 100_000),
            default=default_batch,
            show_default=True,
            help="Messages per Send (or SendStream request).",
        ),
        click.option(
            "--producers",
            type=click.IntRange(1, 64),
            default=1,
            show_default=True,
            help="Producer processes.",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 4096),
            help=f"Batches in flight per producer process [default: {default_concurrency}; "
            f"with --rate: {RATE_CONCURRENCY}, the most it may fall behind].",
        ),
        click.option(
            "--fsync",
            type=click.Choice(FSYNC_POLICIES),
            default="always",
            show_default=True,
            help="The server's --fsync.",
        ),
        click.option(
            "--checkpoint-bytes",
            type=click.IntRange(min=1),
            help="CONVEYOR_CHECKPOINT_BYTES for the server [default: the server's].",
        ),
        click.option(
            "--server-env",
            multiple=True,
            callback=_server_env,
            metavar="CONVEYOR_NAME=VALUE",
            help="More environment for the server (repeatable).",
        ),
        click.option(
            "--store",
            metavar="URL",
            help="postgresql://...: servers keep state in PostgreSQL; each run gets a fresh "
            "database beside this one (created and dropped; needs CREATEDB).",
        ),
        click.option(
            "--servers",
            type=click.IntRange(1, 16),
            default=1,
            show_default=True,
            help="With --store: servers sharing the run's database, workers spread over them.",
        ),
        click.option(
            "--queue-settings",
            metavar="JSON",
            default="",
            help="The bench queue's settings as proto JSON of conveyor.v1.Queue, e.g. "
            '\'{"retainAcked": "3600s"}\' (an encrypted queue needs --server-env '
            "CONVEYOR_ENCRYPTION_KEYS=id:base64key) [default: the defaults].",
        ),
        click.option("--runs", type=click.IntRange(1, 50), default=3, show_default=True),
        click.option(
            "--baseline",
            is_flag=True,
            help="Also run a bare grpc.aio server of the same RPC shapes, interleaved.",
        ),
        click.option(
            "--auth",
            is_flag=True,
            help="Instead of the baseline: Conveyor without auth beside Conveyor with an auth "
            "file and a token on every call, interleaved (the cost of auth).",
        ),
        click.option(
            "--trace",
            is_flag=True,
            help="Also run Conveyor with tracing on (every span sampled, exported by OTLP to "
            "a receiver in this process), interleaved: the report gives traced/untraced.",
        ),
        click.option(
            "--smoke",
            is_flag=True,
            help=f"A quick check: {SMOKE_MESSAGES:,} messages, one run, with the baseline.",
        ),
        click.option(
            "--time-limit",
            type=click.FloatRange(min=1),
            default=900.0,
            show_default=True,
            help="Seconds a run may take; it stops there (and says so).",
        ),
        click.option(
            "--work-dir",
            type=click.Path(file_okay=False, exists=True, path_type=Path),
            help="Where the temporary data directories go [default: the system temp folder].",
        ),
        click.option(
            "--server-profile",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Run Conveyor under cProfile and write its stats here (run N > 1: FILE.N).",
        ),
        _json_option,
    )


_consume_options = _options(
    click.option(
        "--consumers",
        type=click.IntRange(1, 64),
        default=1,
        show_default=True,
        help="Consumer processes (streams are spread over them).",
    ),
    click.option(
        "--window",
        type=click.IntRange(1, 100_000),
        default=1000,
        show_default=True,
        help="max_outstanding_messages per stream.",
    ),
)


def _settings(o: dict[str, Any]) -> ServerSettings:
    from broker.bench.compare import ServerSettings

    env = dict(o["server_env"])
    if o["checkpoint_bytes"] is not None:
        env["CONVEYOR_CHECKPOINT_BYTES"] = str(o["checkpoint_bytes"])
    if o["servers"] > 1 and not o["store"]:
        raise click.UsageError("--servers needs --store (servers share state through it)")
    return ServerSettings(
        o["fsync"],
        env,
        o["server_profile"],
        o["work_dir"],
        store=o["store"] or "",
        servers=o["servers"],
    )


def _workload(o: dict[str, Any], default_concurrency: int, **shape: Any) -> Workload:
    from broker.bench.plan import Workload

    concurrency = o["concurrency"] or (RATE_CONCURRENCY if o["rate"] else default_concurrency)
    if o["smoke"]:
        o.update(messages=min(o["messages"], SMOKE_MESSAGES), duration=None, runs=1, baseline=True)
    try:
        return Workload(
            messages=None if o["duration"] else o["messages"],
            duration_s=o["duration"],
            rate=o["rate"],
            payload=o["payload"],
            batch=o["batch"],
            producers=o["producers"],
            concurrency=concurrency,
            time_limit_s=o["time_limit"],
            queue_settings=o.get("queue_settings") or "",
            **shape,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _run(
    scenario: str,
    w: Workload,
    o: dict[str, Any],
    run_fn: Any = None,
    extra: dict[str, Any] | None = None,
) -> None:
    from broker.bench import auth_cost, compare, report

    reporter = _Reporter()
    params = {"fsync": o["fsync"], "runs": o["runs"], "baseline": o["baseline"], **(extra or {})}
    if o.get("queue_settings"):
        params["queue_settings"] = o["queue_settings"]
    if o["store"]:
        params["servers"] = o["servers"]
    settings = _settings(o)
    params["server_env"] = dict(settings.env)
    params["trace"] = bool(o.get("trace"))
    if o.get("auth"):
        params.update(baseline=True, auth=True, target_names=auth_cost.NAMES)
    result: Comparison
    try:
        with _bench_errors(), contextlib.ExitStack() as stack:
            if o.get("auth"):
                run_fn = stack.enter_context(auth_cost.auth_runs(run_fn))
            if o.get("trace"):
                from broker.bench.otlp_sink import OtlpSink

                sink = stack.enter_context(OtlpSink())
                settings = dataclasses.replace(settings, trace_sink=sink)
            result = compare.compare(
                scenario,
                w,
                runs=o["runs"],
                baseline=o["baseline"] or bool(o.get("auth")),
                settings=settings,
                reporter=reporter,
                params=params,
                run_fn=run_fn,
            )
    finally:
        reporter.close()
    if o["as_json"]:
        _echo_json(result.as_json())
    else:
        click.echo(report.comparison_report(result))


@bench.command("publish")
@click.option(
    "--api",
    type=click.Choice(["unary", "stream"]),
    default="unary",
    show_default=True,
    help="unary: Send calls; stream: requests on SendStream streams.",
)
@click.option(
    "--streams",
    type=click.IntRange(1, 1024),
    default=1,
    show_default=True,
    help="--api stream: SendStream streams per producer (its batches in flight share them).",
)
@_common(default_messages=200_000, default_batch=100, default_concurrency=PUBLISH_CONCURRENCY)
def bench_publish(**o: Any) -> None:
    """Publish only (AT_LEAST_ONCE, WAIT_FOR_STORED): msgs/s, send->ack latency, CPU/msg."""
    _run("publish", _workload(o, PUBLISH_CONCURRENCY, api=o["api"], streams=o["streams"]), o)


@bench.command("e2e")
@click.option(
    "--consume",
    type=click.Choice(["streaming", "receive"]),
    default="streaming",
    show_default=True,
    help="streaming: StreamingReceive, acks on the stream; receive: Receive + Ack.",
)
@_consume_options
@_common(default_messages=200_000, default_batch=100, default_concurrency=CONSUMED_CONCURRENCY)
def bench_e2e(**o: Any) -> None:
    """Publish and consume at once (consumers in their own processes): end-to-end rate and
    send->deliver latency. With --rate: latency at a steady load."""
    w = _workload(
        o,
        CONSUMED_CONCURRENCY,
        consume=o["consume"],
        consumers=o["consumers"],
        window=o["window"],
    )
    _run("e2e", w, o)


@bench.command("broadcast")
@click.option(
    "--subscriptions",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Subscriptions, each with its own StreamingReceive stream and a copy of every message.",
)
@_consume_options
@_common(default_messages=50_000, default_batch=100, default_concurrency=CONSUMED_CONCURRENCY)
def bench_broadcast(**o: Any) -> None:
    """GUARANTEE_BROADCAST to N subscriptions: messages/s (all copies delivered) and copies/s."""
    w = _workload(
        o,
        CONSUMED_CONCURRENCY,
        consume="streaming",
        subscriptions=o["subscriptions"],
        broadcast=True,
        consumers=o["consumers"],
        window=o["window"],
    )
    _run("broadcast", w, o)


@bench.command("memory")
@_common(default_messages=1_000_000, default_batch=500, default_concurrency=FILL_CONCURRENCY)
def bench_memory(**o: Any) -> None:
    """RSS of a server holding N stored messages: bytes per message above the empty server's
    RSS, and the peak."""
    import functools

    from broker.bench.memory import SETTLE_S, memory_run

    w = _workload(o, FILL_CONCURRENCY)
    settle_s = SMOKE_SETTLE_S if o["smoke"] else SETTLE_S
    _run("memory", w, o, functools.partial(memory_run, settle_s=settle_s), {"settle_s": settle_s})


@bench.command("recovery")
@click.option(
    "--stop",
    type=click.Choice(["kill", "term"]),
    default="kill",
    show_default=True,
    help="How the loaded server is stopped: SIGKILL (a crash) or SIGTERM.",
)
@click.option(
    "--checkpointed",
    is_flag=True,
    help="Also measure a restart from a fresh snapshot (CONVEYOR_CHECKPOINT_BYTES=1).",
)
@_common(default_messages=1_000_000, default_batch=500, default_concurrency=FILL_CONCURRENCY)
def bench_recovery(stop: str, checkpointed: bool, **o: Any) -> None:
    """Store N messages, stop the server, and time the restart (and from a snapshot)."""
    import functools

    from broker.bench.recovery import RecoveryOptions, recovery_run

    w = _workload(o, FILL_CONCURRENCY)
    run_fn = functools.partial(recovery_run, options=RecoveryOptions(stop, checkpointed))
    _run("recovery", w, o, run_fn, {"stop": stop, "checkpointed": checkpointed})


@bench.command("slow-consumers")
@click.option(
    "--subscriptions",
    type=click.IntRange(1, 2000),
    default=50,
    show_default=True,
    help="Subscriptions, each on its own StreamingReceive stream.",
)
@click.option(
    "--stalled",
    type=click.IntRange(0, 2000),
    default=5,
    show_default=True,
    help="How many of them never read their stream.",
)
@click.option(
    "--ack-every",
    type=click.FloatRange(min=0.001),
    default=0.5,
    show_default=True,
    help="Seconds between the acks of each reading subscription (one message each time).",
)
@click.option(
    "--window",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="max_outstanding_messages per stream.",
)
@click.option(
    "--payload",
    type=click.IntRange(1, 1024 * 1024),
    default=1024,
    show_default=True,
    help="Payload bytes per message.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds of publishing.",
)
@click.option(
    "--max-memory",
    type=SIZE,
    default="64MiB",
    show_default=True,
    help="The server's --max-memory (0: none, to watch memory grow without it).",
)
@click.option(
    "--sample",
    type=click.FloatRange(min=0.1),
    default=1.0,
    show_default=True,
    help="Seconds between RSS samples.",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Where the temporary data directory goes [default: the system temp folder].",
)
def bench_slow_consumers(
    subscriptions: int,
    stalled: int,
    ack_every: float,
    window: int,
    payload: int,
    duration: float,
    max_memory: int,
    sample: float,
    work_dir: Path | None,
) -> None:
    """Many subscriptions with slow (and stalled) consumers, broadcast sends as fast as the
    server takes them: prints the server's RSS over time and whether it stayed bounded."""
    from broker.bench.slow_consumers import Options, run

    options = Options(
        subscriptions=subscriptions,
        stalled=min(stalled, subscriptions),
        window=window,
        payload=payload,
        duration_s=duration,
        ack_every_s=ack_every,
        max_memory=max_memory,
        sample_s=sample,
        work_dir=work_dir,
    )
    with _bench_errors():
        result = run(options, click.echo)
    if result.errors:
        raise SystemExit(1)
