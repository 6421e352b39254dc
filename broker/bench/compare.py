"""Runs a workload ``runs`` times against fresh servers, interleaved with the baseline; medians.

Every run gets a fresh server process and data directory. With the baseline, each round runs
both, alternating which goes first (conveyor, baseline / baseline, conveyor / ...), so drift in
the machine's load hits both alike. The comparison holds every run's figures, the median of
each figure per target, and Conveyor's as a fraction of the baseline's.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from broker.bench.otlp_sink import OtlpSink
from broker.bench.plan import Workload
from broker.bench.runner import Figures, Progress, run_workload
from broker.bench.server import BenchServer, ServerError, temp_data_dir
from broker.bench.stats import median

SUMMED = ("sent", "failed", "received", "duplicates", "missing", "failed_acks", "checkpoints")
"""Counts: the report shows their total over the runs, so one failure anywhere is seen."""


@dataclass(frozen=True)
class ServerSettings:
    """How Conveyor is started (the baseline takes none of these)."""

    fsync: str = "always"
    env: Mapping[str, str] = field(default_factory=dict)
    profile: Path | None = None
    work_dir: Path | None = None
    trace_sink: OtlpSink | None = None
    """With ``--trace``: where the "traced" target's server exports its spans."""
    store: str = ""
    """A PostgreSQL URL: each run gets a fresh database beside it (``bench.postgres``)."""
    servers: int = 1
    """With ``store``: Conveyor servers sharing the run's database."""


class Reporter(Protocol):
    """Where a comparison says what it is doing (the CLI draws a progress bar on stderr)."""

    def begin(self, label: str) -> Progress: ...

    def end(self, label: str, figures: Figures) -> None: ...


class Silent:
    def begin(self, label: str) -> Progress:
        return lambda fraction, text: None

    def end(self, label: str, figures: Figures) -> None:
        return None


RunFn = Callable[[str, Workload, "ServerSettings", int, Progress], Figures]
"""``(target, workload, settings, run number, progress) -> figures`` of one run."""


TARGETS = ("conveyor", "traced", "baseline")
"""``traced``: Conveyor with every span sampled and exported (``--trace``)."""


def rounds(runs: int, baseline: bool, traced: bool = False) -> Iterator[tuple[int, str]]:
    """``(run number, target)`` in the order they run: interleaved, alternating the lead."""
    for i in range(runs):
        targets = ["conveyor"] + (["traced"] if traced else []) + (["baseline"] if baseline else [])
        if len(targets) > 1 and i % 2:
            targets.reverse()
        for target in targets:
            yield i + 1, target


def start_server(kind: str, data_dir: Path, settings: ServerSettings, run: int) -> BenchServer:
    if kind == "baseline":
        return BenchServer(data_dir, kind="baseline")
    profile = settings.profile
    if profile is not None and run > 1:
        profile = profile.with_name(f"{profile.stem}.{run}{profile.suffix}")
    env = dict(settings.env)
    if kind == "traced":
        assert settings.trace_sink is not None, "--trace starts the sink"
        env.update(settings.trace_sink.env())
    return BenchServer(data_dir, kind="conveyor", fsync=settings.fsync, env=env, profile=profile)


def postgres_run(
    kind: str, w: Workload, settings: ServerSettings, run: int, progress: Progress
) -> Figures:
    """``settings.servers`` servers on a fresh database; the database's work per message."""
    from broker.bench import postgres

    if kind == "baseline":
        return one_run(kind, w, ServerSettings(), run, progress)
    with (
        temp_data_dir(settings.work_dir) as data_dir,
        postgres.fresh_database(settings.store) as store,
    ):
        group = postgres.ServerGroup(
            [
                BenchServer(data_dir / f"s{i}", kind="conveyor", env=settings.env, store=store)
                for i in range(settings.servers)
            ]
        )
        try:
            group.start()
            before = postgres.database_counters(store)
            db_cpu0 = postgres.database_cpu_seconds()
            figures = run_workload(group, w, progress)  # type: ignore[arg-type]
            db_cpu = postgres.database_cpu_seconds() - db_cpu0
            code = group.stop(signal.SIGTERM)
            if code != 0:
                raise ServerError(f"a server exited with {code}:\n" + group.output()[-4000:])
            after = postgres.database_counters(store)
        finally:
            group.kill()
    figures.extra.update(postgres.per_message(before, after, figures.sent))
    figures.extra["servers"] = settings.servers
    if figures.sent and db_cpu:
        figures.extra["db_cpu_us_per_msg"] = db_cpu / figures.sent * 1e6
    return figures


def one_run(
    kind: str, w: Workload, settings: ServerSettings, run: int, progress: Progress
) -> Figures:
    """A fresh server, the workload, then a clean stop (SIGTERM) to read what it logs then."""
    if settings.store:
        return postgres_run(kind, w, settings, run, progress)
    with temp_data_dir(settings.work_dir) as data_dir:
        server = start_server(kind, data_dir, settings, run)
        sink = settings.trace_sink if kind == "traced" else None
        try:
            server.start()
            spans0 = sink.counts() if sink is not None else (0, 0)
            figures = run_workload(server, w, progress)
            code = server.stop(signal.SIGTERM)  # flushes the spans still batched
            figures.target = kind
            if sink is not None:
                spans, requests = sink.counts()
                figures.extra["spans_exported"] = spans - spans0[0]
                figures.extra["span_exports"] = requests - spans0[1]
            if code != 0:
                raise ServerError(f"the server exited with {code}:\n" + server.output()[-4000:])
            stats = server.wal_stats()
            if stats is not None:
                figures.extra["wal_fsyncs"] = stats.fsyncs
                figures.extra["wal_records"] = stats.records
                figures.extra["msgs_per_fsync"] = figures.sent / stats.fsyncs if stats.fsyncs else 0
        finally:
            server.kill()
    return figures


@dataclass
class Comparison:
    """Every run of one scenario, and its medians."""

    scenario: str
    params: dict[str, Any]
    runs: list[Figures]
    notes: list[str] = field(default_factory=list)

    def of(self, target: str) -> list[Figures]:
        return [r for r in self.runs if r.target == target]

    def median(self, target: str) -> dict[str, Any]:
        return summarize([r.as_dict() for r in self.of(target)])

    def ratio(self, over: str = "baseline", target: str = "conveyor") -> dict[str, float]:
        """``target``'s median over ``over``'s, for every figure both have."""
        c, b = self.median(target), self.median(over)
        return {k: c[k] / b[k] for k in flatten_keys(c) if _num(b.get(k)) and _num(c.get(k))}

    def as_json(self) -> dict[str, Any]:
        targets = [t for t in TARGETS if self.of(t)]
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "params": self.params,
            "runs": [r.as_dict() for r in self.runs],
            "median": {t: self.median(t) for t in targets},
            "notes": self.notes,
        }
        if "baseline" in targets:
            out["ratio"] = self.ratio()
        if "traced" in targets:
            out["traced_ratio"] = self.ratio("conveyor", "traced")
        return out


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value != 0


def flatten_keys(d: Mapping[str, Any]) -> list[str]:
    return [k for k, v in d.items() if _num(v)]


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the numbers (nested dicts flattened as ``name.key``), totals of the counts,
    ``timed_out`` if any run timed out, and the errors of all runs."""
    if not runs:
        return {}
    flat = [_flatten(r) for r in runs]
    out: dict[str, Any] = {}
    for key in flat[0]:
        values = [f[key] for f in flat if key in f]
        if key in SUMMED:
            out[key] = sum(values)
        elif key == "timed_out":
            out[key] = any(values)
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            out[key] = median(values)
    out["errors"] = sorted({e for r in runs for e in r.get("errors", [])})[:5]
    return out


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        elif not isinstance(v, list | str):
            out[f"{prefix}{k}"] = v
    return out


def compare(
    scenario: str,
    w: Workload,
    *,
    runs: int,
    baseline: bool,
    settings: ServerSettings,
    reporter: Reporter | None = None,
    params: dict[str, Any] | None = None,
    run_fn: RunFn | None = None,
) -> Comparison:
    """``runs`` rounds of ``w`` (interleaved with the baseline when asked)."""
    reporter = reporter or Silent()
    run_fn = run_fn or one_run
    result = Comparison(scenario, {**asdict(w), **(params or {})}, [])
    for run, target in rounds(runs, baseline, traced=settings.trace_sink is not None):
        label = f"{scenario}: {target} run {run}/{runs}"
        figures = run_fn(target, w, settings, run, reporter.begin(label))
        figures.target = target  # "traced" runs a server of kind "conveyor"
        figures.extra["run"] = run
        reporter.end(label, figures)
        result.runs.append(figures)
    return result
