"""The overview of every queue: ``conveyor stats`` with no queue prints it once, ``conveyor
top`` redraws it in place until told to stop, as ``rabbitmqctl list_queues`` and ``nats
stream report`` users expect. Both read ``ListQueueStats`` (one call for every queue).

``top`` redraws with ANSI escapes (home, clear) rather than curses: the frame is the same
table ``stats`` prints, it needs nothing but a terminal that understands VT100, and its
output can be read back under a pseudo-terminal. On a terminal it reads keys without echo
(``q`` quits; Ctrl-C too, restoring the terminal either way).
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from broker.cli.common import _client, _Settings
from broker.cli.durations import format_duration
from broker.cli.output import _label

if TYPE_CHECKING:
    from conveyor.v1 import admin_pb2

COLUMNS = (
    "NAME",
    "KIND",
    "READY",
    "IN_FLIGHT",
    "DELAYED",
    "DEAD_LETTERED",
    "OLDEST",
    "IN/S",
    "OUT/S",
    "STATE",
)
"""IN/S: messages sent per second over the last minute; OUT/S: deliveries per second; STATE:
``paused`` or ``running``."""
CLEAR = "\x1b[H\x1b[2J"
"""Cursor home, then clear the screen: one frame replaces the last."""


def _rate(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def rows(found: Sequence[admin_pb2.GetQueueStatsResponse]) -> list[list[str]]:
    from conveyor.v1 import types_pb2

    out = []
    for s in found:
        kind = types_pb2.QueueKind.Name(s.kind or types_pb2.QUEUE_KIND_STANDARD)
        age = timedelta(seconds=round(s.oldest_age.ToTimedelta().total_seconds()))
        out.append(
            [
                s.queue,
                _label(kind, "QUEUE_KIND_"),
                str(s.ready),
                str(s.in_flight),
                str(s.delayed),
                str(s.dead_lettered),
                format_duration(age),
                _rate(s.rates_1m.sent),
                _rate(s.rates_1m.delivered),
                "paused" if s.paused else "running",
            ]
        )
    return out


def table(found: Sequence[admin_pb2.GetQueueStatsResponse]) -> str:
    """The overview as aligned text, a header line first (even with no queues)."""
    lines = [list(COLUMNS), *rows(found)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def print_overview(settings: _Settings, prefix: str) -> None:
    with _client(settings) as client:
        found = client.list_queue_stats(prefix)
    click.echo(table(found))


@contextlib.contextmanager
def _keys() -> Iterator[bool]:
    """Puts a terminal on stdin in cbreak mode (keys arrive at once, unechoed) for the
    duration; yields whether keys can be read at all."""
    if not sys.stdin.isatty():
        yield False
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _wait_for_quit(seconds: float, keys: bool) -> bool:
    """Sleeps ``seconds``, returning early (True) if ``q`` was pressed."""
    if not keys:
        time.sleep(seconds)
        return False
    deadline = time.monotonic() + seconds
    fd = sys.stdin.fileno()
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if ready and os.read(fd, 32).lower().count(b"q"):
            return True
    return False


def run_top(settings: _Settings, prefix: str, interval: float, iterations: int) -> None:
    shown = 0
    with _client(settings) as client, _keys() as keys:
        try:
            while True:
                found = client.list_queue_stats(prefix)
                stamp = time.strftime("%H:%M:%S")
                header = (
                    f"conveyor top - {settings.server} - {stamp} - {len(found)} queue(s)"
                    f" - every {interval:g}s, q to quit"
                )
                # A terminal gets each frame in place of the last; a pipe gets them in turn.
                lead = CLEAR if sys.stdout.isatty() else ("\n" if shown else "")
                click.echo(f"{lead}{header}\n\n{table(found)}")
                shown += 1
                if iterations and shown >= iterations:
                    return
                if _wait_for_quit(interval, keys):
                    return
        except KeyboardInterrupt:
            return
