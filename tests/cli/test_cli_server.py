"""The real ``conveyor`` CLI, run as a subprocess, against a real server (the ``server`` fixture).

Each test uses its own queue names, so the module shares one server. Assertions rely only on what
the contract fixes (proto field names, status codes, SPEC §9) and on the CLI's own output format.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Protocol

CLI_TIMEOUT_S = 60.0
"""Generous: a subprocess pays Python start-up and imports; a hang still fails the test."""


class _Server(Protocol):
    address: str


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "broker", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def ok(server: _Server, *args: str) -> str:
    """Runs a client command against ``server``; returns stdout, failing on a non-zero exit."""
    done = cli("--server", server.address, *args)
    assert done.returncode == 0, f"conveyor {' '.join(args)}: {done.stderr}"
    return done.stdout


def ok_json(server: _Server, *args: str) -> Any:
    return json.loads(ok(server, *args, "--json"))


def test_queue_create_get_list_update_delete(server: _Server, qname: str) -> None:
    created = ok(server, "queue", "create", qname, "--kind", "fifo", "--lease", "45s",
                 "--max-deliveries", "3")  # fmt: skip
    assert created.strip() == f"created queue {qname}"

    queue = ok_json(server, "queue", "get", qname)
    assert (queue["name"], queue["kind"], queue["lease"]) == (qname, "QUEUE_KIND_FIFO", "45s")
    assert queue["max_deliveries"] == 3
    assert qname in [q["name"] for q in ok_json(server, "queue", "list")]
    assert qname in ok(server, "queue", "list").split()

    ok(server, "queue", "update", qname, "--lease", "1m", "--max-depth", "100")
    queue = ok_json(server, "queue", "get", qname)
    assert (queue["lease"], queue["max_depth"]) == ("60s", "100")  # uint64 is a JSON string
    assert (queue["kind"], queue["max_deliveries"]) == ("QUEUE_KIND_FIFO", 3)  # not in the mask

    again = cli("--server", server.address, "queue", "create", qname)
    assert again.returncode == 1
    assert again.stderr.startswith("error: ALREADY_EXISTS: ")

    ok(server, "queue", "delete", qname)
    gone = cli("--server", server.address, "queue", "get", qname)
    assert gone.returncode == 1
    assert gone.stderr.startswith("error: NOT_FOUND: ")


def test_bind_send_by_topic_receive_and_ack(server: _Server, qname: str) -> None:
    ok(server, "queue", "create", qname)
    ok(server, "bind", "orders.*", qname)
    assert ["orders.*", qname] in [
        line.split() for line in ok(server, "bindings", qname).splitlines()
    ]

    (message_id,) = ok(server, "send", "--topic", "orders.created", "hello").split()

    received = ok(server, "receive", qname, "--subscription", "billing", "--max", "1",
                  "--wait", "10s", "--json")  # fmt: skip
    (line,) = received.splitlines()
    delivery = json.loads(line)
    assert delivery["message"]["id"] == message_id
    assert delivery["message"]["topic"] == "orders.created"
    assert base64.b64decode(delivery["message"]["payload"]) == b"hello"
    assert delivery["attempt"] == 1

    status = json.loads(ok(server, "status", qname, message_id, "--json"))
    assert status["state"] == "MESSAGE_STATE_DELIVERED"
    assert "billing" in [s["name"] for s in ok_json(server, "subscriptions", qname)]


def test_stats_json_counts_sends_and_acks(server: _Server, qname: str) -> None:
    ok(server, "queue", "create", qname)
    assert len(ok(server, "send", qname, "payload", "--count", "3").split()) == 3

    received = ok(server, "receive", qname, "-s", "worker", "--max", "2", "--wait", "10s")
    assert len(received.splitlines()) == 2

    stats = ok_json(server, "stats", qname)
    assert stats["sent"] == 3
    assert stats["acked"] == 2
    assert stats["in_flight"] == 0
    assert stats["ready"] == 1
    assert stats["delivered"] >= 2
    assert stats["dead_lettered"] == 0


def test_receive_no_ack_hands_the_message_back(server: _Server, qname: str) -> None:
    ok(server, "queue", "create", qname)
    (message_id,) = ok(server, "send", qname, "retry me").split()

    first = ok(server, "receive", qname, "-s", "s", "--max", "1", "--wait", "10s", "--no-ack")
    assert first.split()[0] == message_id

    again = ok(server, "receive", qname, "-s", "s", "--max", "1", "--wait", "10s", "--json")
    delivery = json.loads(again)
    assert (delivery["message"]["id"], delivery["attempt"]) == (message_id, 2)


def test_send_to_a_missing_queue_is_not_found(server: _Server) -> None:
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    done = cli("--server", server.address, "send", missing, "hello")
    assert done.returncode == 1
    assert done.stderr.startswith("error: NOT_FOUND: ")
    assert done.stdout == ""


def test_serve_with_a_bad_listen_address_exits_2(tmp_path: Path) -> None:
    done = cli("serve", "--listen", "bad", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: invalid configuration: listen 'bad': expected HOST:PORT, e.g. 127.0.0.1:50051\n"
    )


def test_health_reports_serving_and_unknown_services(server: _Server) -> None:
    assert ok(server, "health").strip() == "SERVING"
    assert ok(server, "health", "--service", "conveyor.v1.Broker").strip() == "SERVING"
    unknown = cli("--server", server.address, "health", "--service", "no.such.Service")
    assert unknown.returncode == 1
    assert "NOT_FOUND" in unknown.stderr


def test_health_fails_when_nothing_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        done = cli("--server", f"127.0.0.1:{port}", "health", "--timeout", "1")
    assert done.returncode == 1
    assert "UNAVAILABLE" in done.stderr
