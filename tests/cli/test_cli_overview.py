"""The operating commands against a real server: ``conveyor stats`` with no queue prints a
table of every queue, ``conveyor top`` redraws it under a pseudo-terminal until q, Ctrl-C or
``--iterations``; ``conveyor queue pause|resume``; ``conveyor dlq list`` filters and ``dlq
redrive --reset-attempts``; ``queue create --dedup-by-content``."""

from __future__ import annotations

import base64
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
from typing import Any, Protocol

CLI_TIMEOUT_S = 60.0


class _Server(Protocol):
    address: str


def ok(server: _Server, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "broker", "--server", server.address, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"conveyor {' '.join(args)}: {done.stderr}"
    return done.stdout


def _workload(server: _Server, qname: str) -> None:
    """Queue A: 4 sent, 1 of them received and acked; queue B (FIFO): paused, 2 sent."""
    ok(server, "queue", "create", f"{qname}-a")
    ok(server, "queue", "create", f"{qname}-b", "--kind", "fifo")
    for i in range(4):
        ok(server, "send", f"{qname}-a", f"m{i}")
    ok(server, "receive", f"{qname}-a", "--subscription", "s", "--max", "1")
    ok(server, "queue", "pause", f"{qname}-b")
    ok(server, "send", f"{qname}-b", "x", "--ordering-key", "k")
    ok(server, "send", f"{qname}-b", "y", "--ordering-key", "k")


def _decoded(payload: str) -> str:
    """A payload as ``--json`` prints it (proto3 JSON: base64)."""
    return base64.b64decode(payload).decode()


def _rows(text: str, qname: str) -> dict[str, list[str]]:
    return {
        line.split()[0]: line.split()[1:] for line in text.splitlines() if line.startswith(qname)
    }


def test_stats_without_a_queue_prints_every_queue(server: _Server, qname: str) -> None:
    _workload(server, qname)
    out = ok(server, "stats", "--prefix", qname)
    header, *lines = out.splitlines()
    assert header.split() == [
        "NAME", "KIND", "READY", "IN_FLIGHT", "DELAYED", "DEAD_LETTERED", "OLDEST", "IN/S", "OUT/S",
        "STATE",
    ]  # fmt: skip
    assert len(lines) == 2
    assert len({line.index(line.split()[1]) for line in [header, *lines]}) == 1  # aligned
    rows = _rows(out, qname)
    a, b = rows[f"{qname}-a"], rows[f"{qname}-b"]
    assert a[:5] == ["standard", "3", "0", "0", "0"]
    assert float(a[6]) > 0  # sends in the last minute
    assert float(a[7]) > 0  # deliveries
    assert a[8] == "running"
    assert (b[:2], b[8]) == (["fifo", "2"], "paused")

    listed = json.loads(ok(server, "stats", "--prefix", qname, "--json"))
    assert [(s["queue"], s["ready"], s["paused"]) for s in listed] == [
        (f"{qname}-a", 3, False),
        (f"{qname}-b", 2, True),
    ]
    assert listed[0]["rates_1m"]["sent"] > 0
    assert listed[1]["kind"] == "QUEUE_KIND_FIFO"


def test_queue_pause_and_resume(server: _Server, qname: str) -> None:
    ok(server, "queue", "create", qname)
    assert ok(server, "queue", "pause", qname).strip() == f"paused queue {qname}"
    assert ok(server, "queue", "pause", qname).strip() == f"queue {qname} was already paused"
    stats: Any = json.loads(ok(server, "stats", qname, "--json"))
    assert stats["paused"] is True
    assert ok(server, "queue", "resume", qname).strip() == f"resumed queue {qname}"
    assert json.loads(ok(server, "stats", qname, "--json"))["paused"] is False


def _dead_letters_made_with_the_sdk(server: _Server, qname: str) -> str:
    """Two dead letters in ``{qname}-dlq``: "poison" (max deliveries, after a nack with a
    reason) and "rejected" (nacked to dead letters)."""
    from conveyor_client import Client, make_message

    dlq = f"{qname}-dlq"
    with Client(server.address, timeout=10) as client:
        client.create_queue(dlq)
        client.create_queue(qname, dead_letter_queue=dlq, max_deliveries=1)
        client.send([make_message(b"poison"), make_message(b"rejected")], qname)
        poison, rejected = client.pull(qname, "s", max_messages=2, wait=5)
        client.nack([poison.ack_id], reason="bad json")
        client.nack([rejected.ack_id], dead_letter=True, reason="not mine")
    return dlq


def test_dlq_list_filters_and_redrive_keeps_or_resets_attempts(server: _Server, qname: str) -> None:
    dlq = _dead_letters_made_with_the_sdk(server, qname)
    every = ok(server, "dlq", "list", dlq).splitlines()
    assert len(every) == 2
    poison = ok(server, "dlq", "list", dlq, "--reason", "max-deliveries")
    assert f"from={qname}" in poison
    assert "attempts=1" in poison
    assert "last_nack='bad json'" in poison
    assert poison.rstrip().endswith("poison")
    rejected = ok(server, "dlq", "list", dlq, "--reason", "nacked")
    assert "reason='not mine'" in rejected
    assert rejected.rstrip().endswith("rejected")
    assert ok(server, "dlq", "list", dlq, "--reason", "expired") == ""
    assert ok(server, "dlq", "list", dlq, "--source-queue", "elsewhere") == ""
    assert len(ok(server, "dlq", "list", dlq, "--source-queue", qname).splitlines()) == 2
    listed = json.loads(ok(server, "dlq", "list", dlq, "--reason", "max-deliveries", "--json"))
    assert listed[0]["dead_letter"]["reason_code"] == "DEAD_LETTER_REASON_MAX_DELIVERIES"

    rejected_id = json.loads(ok(server, "dlq", "list", dlq, "--reason", "nacked", "--json"))[0][
        "id"
    ]
    assert ok(server, "dlq", "redrive", dlq, "--id", "0").strip() == "redriven 0, skipped 1"
    assert ok(server, "dlq", "redrive", dlq, "--max", "1").strip() == "redriven 1, skipped 0"
    moved = ok(server, "dlq", "redrive", dlq, "--reset-attempts", "--id", rejected_id)
    assert moved.strip() == "redriven 1, skipped 0"
    got = [
        json.loads(line)
        for line in ok(server, "receive", qname, "-s", "s", "--max", "2", "--json").splitlines()
    ]
    attempts = {_decoded(d["message"]["payload"]): d["attempt"] for d in got}
    assert attempts == {"poison": 2, "rejected": 1}  # kept by default; reset when asked


def test_queue_create_dedup_by_content(server: _Server, qname: str) -> None:
    ok(server, "queue", "create", qname, "--dedup-by-content")
    assert json.loads(ok(server, "queue", "get", qname, "--json"))["dedup_by_content"] is True
    first = ok(server, "send", qname, "same body").strip()
    assert ok(server, "send", qname, "same body").strip().startswith(first)
    assert ok(server, "send", qname, "other body").strip() != first
    ok(server, "queue", "update", qname, "--no-dedup-by-content")
    assert "dedup_by_content" not in json.loads(ok(server, "queue", "get", qname, "--json"))


# -- conveyor top under a pseudo-terminal ---------------------------------------------------


class _Top:
    """``conveyor top`` with a pseudo-terminal as its stdin, stdout and stderr."""

    def __init__(self, server: _Server, *args: str) -> None:
        self.master, self.slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "broker", "--server", server.address, "top", *args],
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            close_fds=True,
        )
        self.output = b""

    def read_until(self, predicate: Any, timeout: float = 30.0) -> bytes:
        deadline = time.monotonic() + timeout
        while not predicate(self.output):
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; output so far: {self.output[-2000:]!r}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:  # the child closed its side
                    break
        return self.output

    def wait(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, "conveyor top did not exit"
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    break
        return self.proc.wait(timeout=5)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        os.close(self.master)
        os.close(self.slave)


def _frames(output: bytes) -> list[str]:
    return output.decode(errors="replace").split("\x1b[H\x1b[2J")[1:]


def test_top_redraws_the_table_for_its_iterations(server: _Server, qname: str) -> None:
    _workload(server, qname)
    top = _Top(server, "--prefix", qname, "--interval", "0.2", "--iterations", "3")
    try:
        assert top.wait() == 0
    finally:
        top.close()
    frames = _frames(top.output)
    assert len(frames) == 3
    for frame in frames:
        lines = frame.replace("\r\n", "\n").strip().splitlines()
        title = rf"conveyor top - {re.escape(server.address)} - \d\d:\d\d:\d\d - 2 "
        assert re.match(title, lines[0])
        assert lines[2].split()[:3] == ["NAME", "KIND", "READY"]
        rows = _rows("\n".join(lines[3:]), qname)
        assert rows[f"{qname}-a"][:2] == ["standard", "3"]
        assert rows[f"{qname}-b"][:2] == ["fifo", "2"]
        assert rows[f"{qname}-b"][-1] == "paused"


def test_top_into_a_pipe_prints_frames_in_turn(server: _Server, qname: str) -> None:
    ok(server, "queue", "create", qname)
    out = ok(server, "top", "--prefix", qname, "--interval", "0.1", "--iterations", "2")
    assert "\x1b[" not in out
    frames = out.split("\n\nconveyor top - ")
    assert len(frames) == 2
    assert all(_rows(frame, qname)[qname][:2] == ["standard", "0"] for frame in frames)


def test_top_follows_changes_and_quits_on_q(server: _Server, qname: str) -> None:
    ok(server, "queue", "create", qname)
    top = _Top(server, "--prefix", qname, "--interval", "0.2")
    try:
        top.read_until(lambda out: _frames(out) and qname.encode() in out)
        assert _rows(_frames(top.output)[-1].replace("\r\n", "\n"), qname)[qname][1] == "0"
        ok(server, "send", qname, "one")
        seen = len(_frames(top.output))
        top.read_until(
            lambda out: (
                len(_frames(out)) > seen + 1
                and _rows(_frames(out)[-2].replace("\r\n", "\n"), qname)[qname][1] == "1"
            )
        )
        os.write(top.master, b"q")
        assert top.wait() == 0
        # Keys were read without echo, and the terminal got its settings back on exit.
        assert b"q" not in top.output.split(b"\x1b[H\x1b[2J")[-1].split(qname.encode())[-1]
        assert termios.tcgetattr(top.slave)[3] & termios.ECHO
    finally:
        top.close()


def test_top_stops_on_ctrl_c_and_restores_the_terminal(server: _Server, qname: str) -> None:
    ok(server, "queue", "create", qname)
    top = _Top(server, "--prefix", qname, "--interval", "5")
    try:
        top.read_until(lambda out: bool(_frames(out)))
        assert not termios.tcgetattr(top.slave)[3] & termios.ECHO  # cbreak while running
        top.proc.send_signal(signal.SIGINT)
        assert top.wait() == 0
        assert termios.tcgetattr(top.slave)[3] & termios.ECHO
    finally:
        top.close()
