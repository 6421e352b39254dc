"""``conveyor wal verify|repair``: check or cut a stopped server's write-ahead log.

``broker.wal`` is imported only when one of the commands runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from broker.cli.common import _fail


@click.group()
def wal() -> None:
    """Check or repair a data directory's write-ahead log (server stopped)."""


def _wal_dir(data_dir: str) -> Path:
    path = Path(data_dir) / "wal"
    if not path.is_dir():
        _fail("NOT_FOUND", f"{path} is not a Conveyor write-ahead log directory")
    return path


@wal.command("verify")
@click.option("--data-dir", required=True, help="The server's data directory.")
def wal_verify(data_dir: str) -> None:
    """Read every record and report; changes nothing. Exit 1 if the log is damaged."""
    from broker.wal import UnsupportedFormatError, verify

    try:
        report = verify(_wal_dir(data_dir))
    except UnsupportedFormatError as exc:
        _fail("FAILED_PRECONDITION", str(exc))
    click.echo(
        f"segments: {report.segments}  records: {report.records}  bytes: {report.bytes}  "
        f"end: {report.end.segment}:{report.end.offset}"
    )
    if report.problem is not None:
        click.echo(f"problem: {report.problem}", err=True)
        click.echo(f"repair with: conveyor wal repair --data-dir {data_dir}", err=True)
        raise SystemExit(1)
    click.echo("ok")


@wal.command("repair")
@click.option("--data-dir", required=True, help="The server's data directory.")
def wal_repair(data_dir: str) -> None:
    """Cut the log at the first damaged record (copies kept as *.broken) so the server starts.

    Records after the damage are lost: the report says how many.
    """
    from broker.wal import UnsupportedFormatError, repair

    try:
        report = repair(_wal_dir(data_dir))
    except UnsupportedFormatError as exc:  # never "repair" a log by cutting what it cannot read
        _fail("FAILED_PRECONDITION", str(exc))
    if not report.changed:
        click.echo("nothing to repair")
        return
    click.echo(f"problem: {report.problem}")
    click.echo(
        f"truncated at {report.end.segment}:{report.end.offset}; dropped "
        f"{report.dropped_records} records ({report.dropped_bytes} bytes) and "
        f"{len(report.dropped_segments)} later segments; copies: "
        + ", ".join(str(p) for p in report.broken_copies)
    )
