"""A real Conveyor server process on a free 127.0.0.1 port, data in a folder of the test's.

The server is started the way a user starts it (`conveyor serve`) and prints
``conveyor listening on HOST:PORT`` once it is serving; ``start_server`` waits for that line.
Tests that need their own configuration or kill the process call it themselves; the shared
per-module server is the ``server`` fixture of ``conftest.py``.
"""

from __future__ import annotations

import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

READY_LINE = re.compile(r"conveyor listening on (\S+):(\d+)")
HTTP_LINE = re.compile(r"conveyor http on (\S+:\d+)")
START_TIMEOUT_S = 30.0


@dataclass
class ServerProcess:
    """A running `conveyor serve` process and how to reach it."""

    proc: subprocess.Popen[str]
    address: str
    data_dir: pathlib.Path
    output: list[str]

    @property
    def http_address(self) -> str:
        """Where ``--http-listen`` serves (printed before the ready line)."""
        for line in self.output:
            m = HTTP_LINE.search(line)
            if m:
                return m.group(1)
        raise AssertionError("the server has no HTTP listener:\n" + "".join(self.output))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


def start_server(
    data_dir: pathlib.Path, *extra: str, env: dict[str, str] | None = None, store: str = ""
) -> ServerProcess:
    """Starts `conveyor serve` on a free port and waits until it says it is listening.

    ``env`` adds environment variables (``CONVEYOR_*`` settings, ``CONVEYOR_FAILPOINT``);
    ``store`` is a ``--store`` URL (a PostgreSQL database shared with other servers).
    """
    cmd = [
        sys.executable,
        "-m",
        "broker",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        str(data_dir),
        *(("--store", store) if store else ()),
        *extra,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    output: list[str] = []
    found: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                output.append(line)
                m = READY_LINE.search(line)
                if m and not found:
                    found.append(f"{m.group(1)}:{m.group(2)}")
                    ready.set()
        except ValueError:
            pass  # ServerProcess.stop closed the pipe while this thread was reading it
        ready.set()

    threading.Thread(target=pump, daemon=True, name="server-output").start()
    if not ready.wait(START_TIMEOUT_S) or not found:
        proc.kill()
        proc.wait(START_TIMEOUT_S)
        proc.stdout.close()
        raise RuntimeError("server did not start:\n" + "".join(output))
    return ServerProcess(proc, found[0], data_dir, output)
