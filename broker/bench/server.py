"""A server subprocess for benchmarks: start, read its log lines, stop, measure.

Two kinds, started the same way and measured the same way (``procfs``):

- ``conveyor``: the server as a user starts it (``python -m broker serve``), with
  ``--fsync`` and any ``CONVEYOR_*`` environment the benchmark asks for;
- ``baseline``: the bare ``grpc.aio`` server of ``broker.bench.baseline``.

Both listen on ``127.0.0.1:0``, so the OS picks a free port and the ready line (``conveyor
listening on HOST:PORT`` / ``baseline listening on ...``) says which. stdout and stderr are
merged and read line by line by a thread, so the log lines Conveyor writes (``recovered ...``,
``wal stats ...``, ``checkpoint at ...``) can be waited for and parsed; a server that stops
printing one of them makes the figure read from it unavailable, not the run fail. ``ready_s``
is the time from just before the process is spawned to the ready line: interpreter start,
imports and WAL recovery.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from broker.bench import procfs

READY_LINE = re.compile(r"(?:conveyor|baseline) listening on (\S+):(\d+)")
RECOVERED_LINE = re.compile(r"recovered (\d+) log entries \((\d+) live messages\) in ([0-9.]+)s")
WAL_STATS_LINE = re.compile(
    r"wal stats: records=(\d+) batches=(\d+) fsyncs=(\d+) bytes=(\d+) "
    r"records_per_fsync=([0-9.]+)"
)
CHECKPOINT_LINE = re.compile(r"checkpoint at .*: (\d+) entries")
KINDS = ("conveyor", "baseline")

DEFAULT_START_TIMEOUT_S = 600.0
"""Generous: a start replays the whole log before the ready line (a million entries or more)."""
DEFAULT_STOP_TIMEOUT_S = 120.0
"""A clean stop flushes the WAL and may wait out the server's shutdown grace."""
MAX_KEPT_LINES = 10_000
"""Output lines kept per server; a noisy server cannot grow the benchmark's memory forever."""


class ServerError(RuntimeError):
    """The server did not start, or exited in a way the benchmark cannot use."""


@dataclass(frozen=True)
class Recovery:
    """The server's ``recovered N log entries (M live messages) in X.XXs`` line."""

    entries: int
    live_messages: int
    seconds: float


@dataclass(frozen=True)
class WalStats:
    """The server's ``wal stats`` line, logged at a clean shutdown."""

    records: int
    batches: int
    fsyncs: int
    bytes: int
    records_per_fsync: float


class BenchServer:
    """One server process. Use as a context manager: leaving kills it if running.

    ``fsync`` and ``env`` apply to ``conveyor`` only (the baseline stores nothing). ``profile``
    runs the server under ``cProfile`` (event-loop thread only) and writes the stats there at a
    clean stop (SIGTERM), for ``python -m pstats``.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        kind: str = "conveyor",
        fsync: str | None = None,
        env: Mapping[str, str] | None = None,
        profile: Path | None = None,
        start_timeout_s: float = DEFAULT_START_TIMEOUT_S,
        store: str = "",
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r}: expected one of {KINDS}")
        self.kind = kind
        self.data_dir = Path(data_dir)
        self.fsync = fsync
        self.env = dict(env or {})
        self.profile = profile
        self.start_timeout_s = start_timeout_s
        self.store = store
        """A ``--store`` URL: state in that PostgreSQL database instead of the data dir."""
        self.address = ""
        self.ready_s = 0.0
        self.returncode: int | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._pump: threading.Thread | None = None
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._eof = False

    # -- start and stop ------------------------------------------------------------------

    def start(self) -> BenchServer:
        """Spawns the server and waits for its ready line (or raises ``ServerError``)."""
        if self._proc is not None:
            raise ServerError("this server was already started")
        runner = [sys.executable]
        if self.profile is not None:
            runner += ["-m", "cProfile", "-o", str(self.profile)]
        if self.kind == "baseline":
            cmd = [*runner, "-m", "broker.bench.baseline", "--listen", "127.0.0.1:0"]
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        else:
            cmd = [*runner, "-m", "broker", "serve", "--listen", "127.0.0.1:0"]
            cmd += ["--data-dir", str(self.data_dir)]
            if self.fsync is not None:
                cmd += ["--fsync", self.fsync]
            if self.store:
                cmd += ["--store", self.store]
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        started = time.perf_counter()
        self._proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self._pump = threading.Thread(
            target=self._read_output, args=(started,), daemon=True, name="bench-server-output"
        )
        self._pump.start()
        if self.wait_for(READY_LINE, self.start_timeout_s) is None:
            self.kill()
            raise ServerError(
                "the server did not print its ready line within "
                f"{self.start_timeout_s:.0f}s:\n" + self.output()[-4000:]
            )
        return self

    def _read_output(self, started: float) -> None:
        proc = self._proc
        assert proc is not None
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                m = READY_LINE.search(line)
                with self._changed:
                    if m and not self.address:
                        self.ready_s = time.perf_counter() - started
                        self.address = f"{m.group(1)}:{m.group(2)}"
                    if len(self._lines) < MAX_KEPT_LINES:
                        self._lines.append(line)
                    self._changed.notify_all()
        finally:
            with self._changed:
                self._eof = True
                self._changed.notify_all()

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise ServerError("the server is not started")
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> int:
        """Sends ``sig`` and waits for the exit (SIGKILL after ``timeout_s``); the exit code."""
        proc = self._proc
        if proc is None:
            return 0
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout_s)
        if self._pump is not None:
            self._pump.join(10.0)
        if proc.stdout is not None:
            proc.stdout.close()
        self.returncode = proc.returncode
        return proc.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    # -- process figures -----------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """CPU seconds the server (and any process it started) has used so far."""
        return procfs.cpu_seconds(self.pid)

    def memory(self) -> procfs.Memory:
        """The server's resident memory now and its peak so far."""
        return procfs.memory(self.pid)

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()

    # -- output --------------------------------------------------------------------------

    def output(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def wait_for(self, pattern: re.Pattern[str], timeout_s: float) -> re.Match[str] | None:
        """The first output line matching ``pattern``, waiting up to ``timeout_s`` for it;
        None on timeout or once the process has closed its output without printing it."""
        deadline = time.monotonic() + timeout_s
        seen = 0
        with self._changed:
            while True:
                for line in self._lines[seen:]:
                    m = pattern.search(line)
                    if m is not None:
                        return m
                seen = len(self._lines)
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    return None
                self._changed.wait(min(left, 1.0))

    def count(self, pattern: re.Pattern[str]) -> int:
        """Output lines so far matching ``pattern``."""
        with self._changed:
            return sum(1 for line in self._lines if pattern.search(line))

    def recovery(self) -> Recovery:
        """The start's ``recovered ...`` line (logged before the ready line)."""
        m = self.wait_for(RECOVERED_LINE, 5.0)
        if m is None:
            raise ServerError("no 'recovered ...' line in the server output:\n" + self.output())
        return Recovery(int(m.group(1)), int(m.group(2)), float(m.group(3)))

    def wal_stats(self) -> WalStats | None:
        """The ``wal stats`` line of a clean shutdown (call after ``stop()``); None if absent."""
        m = self.wait_for(WAL_STATS_LINE, 1.0)
        if m is None:
            return None
        return WalStats(
            int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), float(m.group(5))
        )


def dir_size(path: Path) -> int:
    """Bytes in the regular files under ``path`` (apparent size; 0 if it does not exist)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(os.path.join(root, name), follow_symlinks=False).st_size
    return total


def wal_size(data_dir: Path) -> int:
    """Bytes of the write-ahead log (segments and snapshots) in a server's data directory."""
    return dir_size(Path(data_dir) / "wal")


@contextlib.contextmanager
def temp_data_dir(base: Path | None = None) -> Iterator[Path]:
    """A fresh data directory, removed afterwards (under ``base`` or the system temp dir)."""
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-", dir=base) as tmp:
        yield Path(tmp)
