"""Logs of a real server process: ``--log-format text|json``, ``--log-level``, one line per
notable event, and never a payload or an attribute value."""

from __future__ import annotations

import json
import os
import pathlib
import queue
import re
import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest
from rpc_helpers import create_queue, message, send
from server_helpers import ServerProcess, start_server

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc

SECRET = "s3cret-payload-do-not-log"
TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) [\w.]+: .+$"
)
PRINTED = ("conveyor listening on", "conveyor http on")


def workload(server: ServerProcess) -> None:
    """Queue created and deleted, a redrive, messages enough for a checkpoint, and a
    StreamingReceive ended by the broker for a bad second request."""
    with grpc.insecure_channel(server.address) as channel:
        admin = admin_pb2_grpc.AdminStub(channel)
        broker = broker_pb2_grpc.BrokerStub(channel)
        create_queue(admin, "logged")
        create_queue(admin, "logged-dlq")
        for _ in range(20):
            send(broker, "logged", message(SECRET * 20, attributes={"token": SECRET}))
        admin.RedriveDeadLetters(
            admin_pb2.RedriveDeadLettersRequest(queue="logged-dlq", destination="logged"),
            timeout=10,
        )
        requests: queue.Queue[broker_pb2.StreamingReceiveRequest | None] = queue.Queue()
        requests.put(broker_pb2.StreamingReceiveRequest(queue="logged", subscription="s"))
        requests.put(broker_pb2.StreamingReceiveRequest(queue="not-again"))

        def outgoing() -> Iterator[broker_pb2.StreamingReceiveRequest]:
            while (r := requests.get(timeout=10)) is not None:
                yield r

        stream = broker.StreamingReceive(outgoing(), timeout=10)
        try:
            with pytest.raises(grpc.RpcError) as ended:
                for _ in stream:
                    pass
            assert ended.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
        finally:
            requests.put(None)
        admin.DeleteQueue(admin_pb2.DeleteQueueRequest(queue="logged-dlq"), timeout=10)


def log_lines(server: ServerProcess) -> list[str]:
    return [line.rstrip("\n") for line in server.output if not line.startswith(PRINTED)]


def test_json_logs_one_object_per_line_with_event_fields(tmp_path: pathlib.Path) -> None:
    server = start_server(
        tmp_path / "data",
        "--log-format",
        "json",
        env={"CONVEYOR_CHECKPOINT_BYTES": "1024"},
    )
    try:
        workload(server)
    finally:
        assert server.stop() == 0
    lines = log_lines(server)
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys(), record
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", record["time"])
    events = {r["event"]: r for r in records if "event" in r}
    assert events["store.recovered"]["entries"] == 0
    assert events["server.started"]["listen"] == server.address
    assert events["server.started"]["storage"] == "wal"
    assert events["queue.created"]["level"] == "INFO"
    assert {r["queue"] for r in records if r.get("event") == "queue.created"} == {
        "logged",
        "logged-dlq",
    }
    assert events["queue.deleted"]["queue"] == "logged-dlq"
    assert events["dlq.redrive"]["redriven"] == 0
    assert events["store.checkpoint"]["entries"] > 0
    failed = events["stream.error"]
    assert (failed["level"], failed["method"], failed["code"]) == (
        "WARNING",
        "StreamingReceive",
        "INVALID_ARGUMENT",
    )
    assert (failed["queue"], failed["subscription"]) == ("logged", "s")
    assert "server.stopping" in events
    assert "stream.opened" not in events  # DEBUG
    assert not any(SECRET in line for line in server.output)


def test_text_logs_and_levels(tmp_path: pathlib.Path) -> None:
    server = start_server(tmp_path / "text")
    try:
        workload(server)
    finally:
        server.stop()
    lines = log_lines(server)
    assert lines
    assert all(TEXT_LINE.match(line) for line in lines), lines
    assert any("INFO broker.delivery.broker: queue logged created (standard)" in x for x in lines)
    assert any(
        "WARNING broker.service.broker_servicer: StreamingReceive on logged" in x for x in lines
    )
    assert not any(SECRET in line for line in server.output)

    quiet = start_server(tmp_path / "quiet", "--log-level", "warning")
    try:
        workload(quiet)
    finally:
        quiet.stop()
    levels = {TEXT_LINE.match(line).group(1) for line in log_lines(quiet)}  # type: ignore[union-attr]
    assert levels == {"WARNING"}

    verbose = start_server(tmp_path / "verbose", "--log-level", "DEBUG", "--log-format", "json")
    try:
        workload(verbose)
    finally:
        verbose.stop()
    events = [json.loads(line).get("event") for line in log_lines(verbose)]
    assert "stream.opened" in events
    assert "stream.closed" in events


def test_a_bad_log_format_stops_the_start(tmp_path: pathlib.Path) -> None:
    args = [sys.executable, "-m", "broker", "serve", "--data-dir", str(tmp_path)]
    flag = subprocess.run(
        [*args, "--log-format", "xml"], capture_output=True, text=True, timeout=60
    )
    assert flag.returncode == 2
    assert "--log-format" in flag.stderr
    env = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CONVEYOR_LOG_FORMAT": "xml"},
    )
    assert env.returncode == 2
    assert "log_format 'xml': expected text or json" in env.stderr
