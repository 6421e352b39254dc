"""Benchmark figures for people: one table per scenario, Conveyor beside the baseline.

Rows are the medians over the runs (counts are totals, so a single failure shows); the last
column is Conveyor as a fraction of the baseline: a percentage for rates (higher is better)
and a multiple for latencies, CPU and memory (lower is better). A row appears only when some
target has a figure for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from broker.bench.compare import Comparison


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the first left-aligned, the rest right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def rate(value: float) -> str:
    return f"{value:,.0f}"


def ms(value: float) -> str:
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def us(value: float) -> str:
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}"


def size(value: float) -> str:
    """Bytes as B, KiB, MiB or GiB."""
    for unit in ("B", "KiB", "MiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.2f} GiB"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def count(value: float) -> str:
    return f"{int(value):,}"


def decimal(value: float) -> str:
    return f"{value:,.1f}"


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    fmt: Callable[[float], str]
    higher_is_better: bool = False
    always: bool = False
    compared: bool = True
    """Whether a Conveyor/baseline ratio means anything for this row."""


def _latency_rows(name: str, key: str) -> list[Row]:
    return [Row(f"{name} {q} ms", f"{key}.{q}", ms) for q in ("p50", "p99", "p99.9", "max")]


ROWS = [
    Row("msgs/s", "msgs_per_s", rate, higher_is_better=True, always=True),
    Row("copies/s", "copies_per_s", rate, higher_is_better=True),
    Row("MB/s (payload)", "mb_per_s", decimal, higher_is_better=True),
    Row("publish msgs/s", "publish_msgs_per_s", rate, higher_is_better=True),
    *_latency_rows("send->ack", "ack_ms"),
    *_latency_rows("send->deliver", "deliver_ms"),
    Row("schedule lag p99 ms", "lag_ms.p99", ms),
    Row("server CPU us/msg", "server_cpu_us_per_msg", us),
    Row("client CPU us/msg", "client_cpu_us_per_msg", us),
    Row("server peak RSS", "peak_rss", size),
    Row("msgs/response frame", "extra.msgs_per_frame", decimal, compared=False),
    Row("msgs/fsync", "extra.msgs_per_fsync", decimal, compared=False),
    Row("servers (one database)", "extra.servers", decimal, compared=False),
    Row("db statements/msg", "extra.db_statements_per_msg", decimal, compared=False),
    Row("db transactions/msg", "extra.db_transactions_per_msg", decimal, compared=False),
    Row("db rows written/msg", "extra.db_rows_written_per_msg", decimal, compared=False),
    Row("db rows read/msg", "extra.db_rows_read_per_msg", decimal, compared=False),
    Row("db CPU us/msg (local)", "extra.db_cpu_us_per_msg", us, compared=False),
    Row("checkpoints (total)", "checkpoints", count),
    Row("RSS empty", "extra.rss_empty", size),
    Row("RSS with messages stored", "extra.rss_stored", size),
    Row("RSS bytes/stored msg", "extra.bytes_per_msg", decimal),
    Row("  of which above payload", "extra.bytes_per_msg_above_payload", decimal, compared=False),
    Row("restart: start->ready", "extra.log_ready_s", seconds),
    Row("restart: replay (server's own)", "extra.log_replay_s", seconds),
    Row("restart: log entries", "extra.log_entries", count),
    Row("restart: entries/s replayed", "extra.log_entries_per_s", rate, higher_is_better=True),
    Row("restart: msgs/s to ready", "extra.log_msgs_per_s_to_ready", rate, higher_is_better=True),
    Row("restart: data dir", "extra.log_data_dir_bytes", size),
    Row("restart: disk bytes/msg", "extra.log_disk_bytes_per_msg", decimal),
    Row("restart: RSS when ready", "extra.log_rss", size),
    Row("snapshot restart: start->ready", "extra.snapshot_ready_s", seconds),
    Row("snapshot restart: replay", "extra.snapshot_replay_s", seconds),
    Row("snapshot restart: entries", "extra.snapshot_entries", count),
    Row("snapshot restart: data dir", "extra.snapshot_data_dir_bytes", size),
    Row("snapshot restart: RSS", "extra.snapshot_rss", size),
    Row("sent (total)", "sent", count, always=True),
    Row("failed (total)", "failed", count, always=True),
    Row("received (total)", "received", count),
    Row("missing (total)", "missing", count),
    Row("duplicates (total)", "duplicates", count),
    Row("failed acks (total)", "failed_acks", count),
]


def _ratio(row: Row, c: float, b: float) -> str:
    if not c or not b or not row.compared or row.fmt is count:
        return ""
    r = c / b
    return f"{r:.1%}" if row.higher_is_better else f"{r:,.2f}x"


def describe(scenario: str, p: Mapping[str, Any]) -> str:
    """The run's shape in one or two lines."""
    guarantee = "broadcast" if p.get("broadcast") else "at-least-once"
    amount = (
        f"{p['messages']:,} messages" if p.get("messages") else f"{p.get('duration_s')} s"
    ) + " per run"
    api = "SendStream" if p.get("api") == "stream" else "unary Send"
    inflight = f"up to {p['concurrency']}" if p.get("rate") else str(p["concurrency"])
    pub = (
        f"{api} batches of {p['batch']}, {p['producers']} producer process(es) x "
        f"{inflight} in flight"
        + (f" on {p['streams']} stream(s)" if p.get("api") == "stream" else "")
    )
    if p.get("rate"):
        pub += f", at a fixed {p['rate']:,.0f} msgs/s"
    line = f"{scenario}: {pub}; {p['payload']:,} B payloads, {guarantee}, fsync {p.get('fsync')}"
    if p.get("consume"):
        how = (
            "StreamingReceive (acks on the stream)"
            if p["consume"] == "streaming"
            else ("Receive + unary Ack")
        )
        line += (
            f"\n  consumed by {how}: {p['subscriptions']} subscription(s), {p['consumers']} "
            f"consumer process(es), window {p['window']}"
        )
    if p.get("server_env"):
        line += "\n  server environment: " + " ".join(
            f"{k}={v}" for k, v in p["server_env"].items()
        )
    return line + f"\n  {amount}, medians of {p.get('runs', 1)} run(s)"


TRACED_ROWS = [
    Row("spans exported", "extra.spans_exported", count, compared=False),
    Row("span exports (OTLP calls)", "extra.span_exports", count, compared=False),
]


def comparison_report(result: Comparison) -> str:
    c = result.median("conveyor")
    t = result.median("traced") if result.of("traced") else {}
    b = result.median("baseline") if result.of("baseline") else {}
    with_baseline, with_traced = bool(b), bool(t)
    rows = []
    for row in ROWS + (TRACED_ROWS if with_traced else []):
        cv, tv, bv = c.get(row.key, 0), t.get(row.key, 0), b.get(row.key, 0)
        if not (row.always or cv or bv or tv):
            continue
        cells = [row.label, row.fmt(cv) if row.key in c else "-"]
        if with_traced:
            cells += [row.fmt(tv) if row.key in t else "-", _ratio(row, tv, cv)]
        if with_baseline:
            cells += [row.fmt(bv) if row.key in b else "-", _ratio(row, cv, bv)]
        rows.append(cells)
    names = result.params.get("target_names") or {}
    cn, bn = names.get("conveyor", "conveyor"), names.get("baseline", "baseline")
    headers = ["", cn]
    if with_traced:
        headers += ["traced", f"traced/{cn}"]
    if with_baseline:
        headers += [bn, f"{cn}/{bn}"]
    out = [describe(result.scenario, result.params), table(headers, rows)]
    if with_traced and c.get("msgs_per_s"):
        out.append(
            "tracing on (100% sampled, OTLP export) / off, median msgs/s: "
            f"{t.get('msgs_per_s', 0) / c['msgs_per_s']:.1%}"
        )
    for target in ("conveyor", "traced", "baseline"):
        runs = result.of(target)
        if len(runs) > 1:
            label = names.get(target, target)
            out.append(f"{label} msgs/s per run: " + " / ".join(rate(r.msgs_per_s) for r in runs))
    if any(r.timed_out for r in result.runs):
        out.append("note: stopped by the time limit or the idle timeout in some run")
    errors = sorted({e for r in result.runs for e in r.errors})
    if errors:
        out.append("errors: " + "; ".join(errors[:5]))
    out.extend(f"note: {n}" for n in result.notes)
    return "\n".join(out)
