"""``/proc`` readings of real processes: CPU grows with work, memory with allocation."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from broker.bench import procfs

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"


def test_cpu_of_a_busy_child_is_counted_for_its_parent() -> None:
    # A parent that starts a busy child and then sleeps: the child's CPU is charged to it.
    code = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {BURN!r}])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(30)\n"
    )
    child = 0
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert child in procfs.descendants(parent.pid)
        before = procfs.cpu_seconds(parent.pid)
        deadline = time.monotonic() + 20
        while procfs.cpu_seconds(parent.pid) - before < 0.2:
            assert time.monotonic() < deadline, "the child's CPU never showed up"
            time.sleep(0.05)
    finally:
        if child:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.wait()
        assert parent.stdout is not None
        parent.stdout.close()


def test_memory_of_this_process() -> None:
    before = procfs.memory(os.getpid())
    block = bytearray(64 * 1024 * 1024)
    block[::4096] = b"\x01" * len(block[::4096])  # touch every page
    after = procfs.memory(os.getpid())
    assert after.rss - before.rss >= 48 * 1024 * 1024
    assert after.peak >= after.rss
    del block


def test_a_process_that_is_gone_says_so() -> None:
    with pytest.raises(procfs.ProcessGone):
        procfs.memory(2**22 + 12345)  # above the default pid_max
    with pytest.raises(procfs.ProcessGone):
        procfs.cpu_seconds(2**22 + 12345)
