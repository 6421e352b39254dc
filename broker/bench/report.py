"""Benchmark figures for people: aligned tables; and the percentile helper the benches share.

Imports no benchmark module at run time (they import ``percentile`` from here); results are
typed only for the checker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.bench.e2e import E2EResult
    from broker.bench.publish import PolicyResult
    from broker.bench.recovery import RecoveryResult


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ascending values; 0.0 for none."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


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
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def size(value: float) -> str:
    """Bytes as B, KiB, MiB or GiB."""
    for unit in ("B", "KiB", "MiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.2f} GiB"


def seconds(value: float) -> str:
    return f"{value:.2f}s"


def publish_report(results: Sequence[PolicyResult]) -> str:
    if not results:
        return "no runs"
    first = results[0].runs[0] if results[0].runs else None
    rows = []
    for r in results:
        med = r.summary()
        runs = " / ".join(rate(x.msgs_per_s) for x in r.runs)
        flags = " (time limit)" if any(x.timed_out for x in r.runs) else ""
        failed = sum(x.failed for x in r.runs)
        rows.append(
            [
                r.policy,
                rate(med["msgs_per_s"]),
                runs + flags,
                ms(med["p50_ms"]),
                ms(med["p99_ms"]),
                f"{med['msgs_per_fsync']:,.1f}",
                f"{med['bytes_per_msg']:.1f}",
                str(failed),
            ]
        )
    headers = [
        "fsync",
        "msgs/s (median)",
        "msgs/s per run",
        "batch p50 ms",
        "batch p99 ms",
        "msgs/fsync",
        "disk B/msg",
        "failed",
    ]
    out = table(headers, rows)
    if first is not None:
        out = f"publish: {first.sent:,} messages per run\n" + out
    errors = {e for r in results for x in r.runs for e in x.errors}
    if errors:
        out += "\nerrors: " + "; ".join(sorted(errors)[:5])
    return out


def recovery_report(result: RecoveryResult) -> str:
    p = result.params
    pub = result.publish
    lines = [
        f"publish: {pub.sent:,} messages of {p.payload} B in batches of {p.batch}, "
        f"{p.publishers} publishers, fsync {p.fsync}",
        table(
            [
                "publish",
                "msgs/s",
                "seconds",
                "batch p50 ms",
                "batch p99 ms",
                "checkpoints",
                "failed",
            ],
            [
                [
                    "stored",
                    rate(pub.msgs_per_s),
                    seconds(pub.seconds),
                    ms(pub.p50_ms),
                    ms(pub.p99_ms),
                    str(pub.checkpoints),
                    str(pub.failed) + (" (time limit)" if pub.timed_out else ""),
                ]
            ],
        ),
        "",
        f"restart after {'SIGKILL' if p.stop == 'kill' else 'SIGTERM'}:",
    ]
    rows = [
        [
            r.label,
            size(r.data_dir_bytes),
            f"{r.bytes_per_msg:.1f}",
            f"{r.entries:,}",
            f"{r.live_messages:,}",
            seconds(r.recovered_s),
            rate(r.entries_per_s),
            seconds(r.ready_s),
        ]
        for r in result.restarts
    ]
    headers = [
        "from",
        "data dir",
        "disk B/msg",
        "entries",
        "live msgs",
        "replay",
        "entries/s",
        "start→ready",
    ]
    lines.append(table(headers, rows))
    return "\n".join(lines)


def e2e_report(result: E2EResult) -> str:
    p = result.params
    lat = result.latency_ms
    head = (
        f"e2e: {result.received:,}/{p.messages:,} messages of {p.payload} B; "
        f"{p.publishers} publishers x batches of {p.batch}; 1 StreamingReceive "
        f"(window {p.window}); fsync {p.fsync}"
    )
    rows = [
        [
            "e2e",
            rate(result.msgs_per_s),
            rate(result.publish_msgs_per_s),
            f"{result.msgs_per_frame:,.1f}",
            *(ms(lat.get(k, 0.0)) for k in ("p50", "p90", "p99", "p99.9", "max")),
        ]
    ]
    headers = [
        "",
        "msgs/s",
        "publish msgs/s",
        "msgs/frame",
        "lat p50 ms",
        "p90",
        "p99",
        "p99.9",
        "max",
    ]
    out = head + "\n" + table(headers, rows)
    notes = []
    if result.timed_out:
        notes.append("stopped by the time limit")
    if result.redelivered:
        notes.append(f"{result.redelivered} redeliveries")
    if result.publish_failed:
        notes.append(f"{result.publish_failed} publish failures")
    if result.failed_acks:
        notes.append(f"{result.failed_acks} failed acks")
    if notes:
        out += "\nnote: " + ", ".join(notes)
    return out
