"""What Linux ``/proc`` says about a server process: CPU seconds and resident memory.

CPU is counted over the process and its live descendants (a server that forks helpers is
charged for them), plus what its reaped children used (``cutime``/``cstime``). Memory is the
process's own ``VmRSS`` (now) and ``VmHWM`` (the peak since it started), as ``ps`` reports them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
"""``/proc/PID/stat`` counts CPU time in these ticks per second (100 on Linux)."""
PROC = Path("/proc")


class ProcessGone(RuntimeError):
    """The process has exited: its figures can no longer be read."""


@dataclass(frozen=True)
class Memory:
    """Resident memory of one process, in bytes."""

    rss: int
    peak: int


def _stat_fields(pid: int) -> list[str]:
    """Fields of ``/proc/PID/stat`` after the command name (which may hold spaces and ')')."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        raise ProcessGone(f"process {pid} has exited") from None
    return text.rpartition(")")[2].split()


def _own_ticks(pid: int, with_reaped: bool) -> int:
    # After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    fields = _stat_fields(pid)
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def descendants(pid: int) -> list[int]:
    """Live descendants of ``pid`` (children of every thread, recursively)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = list((PROC / str(parent) / "task").iterdir())
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                children = (task / "children").read_text().split()
            except FileNotFoundError:
                continue
            for child in map(int, children):
                found.append(child)
                todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid``, its live descendants and its reaped children."""
    ticks = _own_ticks(pid, with_reaped=True)
    for child in descendants(pid):
        try:
            ticks += _own_ticks(child, with_reaped=False)
        except ProcessGone:  # exited between the listing and the read
            continue
    return ticks / CLOCK_TICKS


def memory(pid: int) -> Memory:
    """``VmRSS`` and ``VmHWM`` of ``pid``."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        raise ProcessGone(f"process {pid} has exited") from None
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            number, unit = rest.split()
            if unit != "kB":  # pragma: no cover - the kernel always says kB
                raise ValueError(f"unexpected unit in /proc/{pid}/status: {line!r}")
            values[name] = int(number) * 1024
    if "VmRSS" not in values:  # a zombie has no memory lines
        raise ProcessGone(f"process {pid} has exited")
    return Memory(rss=values["VmRSS"], peak=values.get("VmHWM", values["VmRSS"]))
