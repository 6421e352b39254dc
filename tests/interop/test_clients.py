"""Each language's client against the real Python server (SPEC §7).

Per language, the client's interop program (``clients/<lang>``, built once per run with the
language's own tool) runs every scenario through that client and prints what it observed as
one JSON object; the tests below assert on those facts and cross-check them with the server
through the Python SDK. One server serves the module; each language gets its own queue prefix.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from rpc_helpers import wait_until
from server_helpers import ServerProcess

from conveyor.v1 import types_pb2
from conveyor_client import Client

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients"
BUILD_TIMEOUT_S = 300.0
RUN_TIMEOUT_S = 120.0

Facts = dict[str, dict[str, Any]]
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION.value[0]
"""Codes travel as numbers in the facts, the same in every language."""
MAX_REASON_CHARS = 1000
"""Every SDK cuts a nack reason to this many characters (code points), as the Python one does."""
REASON_PREFIX = {"go": "", "typescript": "", "java": "IllegalStateException: "}
"""What each SDK puts before its handler's error text in a nack reason."""


def _run(cmd: list[str], cwd: pathlib.Path, timeout: float) -> str:
    res = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ}
    )
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def _go(tmp: pathlib.Path) -> list[str]:
    binary = tmp / "conveyor-interop"
    _run(
        ["go", "build", "-o", str(binary), "./cmd/conveyor-interop"],
        CLIENTS / "go",
        BUILD_TIMEOUT_S,
    )
    return [str(binary)]


def _typescript(tmp: pathlib.Path) -> list[str]:
    ts = CLIENTS / "typescript"
    _run(["npm", "run", "--silent", "build"], ts, BUILD_TIMEOUT_S)
    return ["node", str(ts / "dist" / "clients" / "typescript" / "src" / "interop.js")]


def _java(tmp: pathlib.Path) -> list[str]:
    java = CLIENTS / "java"
    _run(["mvn", "-B", "-q", "-o", "package", "-DskipTests"], java, BUILD_TIMEOUT_S)
    classpath = f"{java / 'target' / 'classes'}:{java / 'target' / 'lib'}/*"
    return ["java", "-cp", classpath, "dev.conveyor.client.Interop"]


BUILDERS: dict[str, Callable[[pathlib.Path], list[str]]] = {
    "go": _go,
    "typescript": _typescript,
    "java": _java,
}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def interop(
    request: pytest.FixtureRequest, server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Facts]:
    """Builds one language's interop program, runs it once, returns (language, facts)."""
    language: str = request.param
    command = BUILDERS[language](tmp_path_factory.mktemp(language))
    prefix = f"{language[:2]}{uuid.uuid4().hex[:8]}"
    out = _run([*command, server.address, prefix], ROOT, RUN_TIMEOUT_S)
    return language, json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def client(server: ServerProcess) -> Iterator[Client]:
    with Client(server.address, timeout=10) as c:
        yield c


def _state(client: Client, queue: str, message_id: str) -> int:
    return client.message_status(queue, message_id).state


def test_at_least_once_round_trip(interop, client):
    _, facts = interop
    f = facts["round_trip"]
    assert f["error"] == ""
    assert len(f["published"]) == 3
    assert sorted(f["received"]) == sorted(f["published"])
    assert f["payloads"] == ["a", "b", "c"]
    for message_id in f["published"]:  # the consume loop's acks reached the server
        assert _state(client, f["queue"], message_id) == types_pb2.MESSAGE_STATE_DELIVERED


def test_routing_by_topic(interop):
    _, facts = interop
    f = facts["routing"]
    eu, created = f["eu"], f["created"]
    assert f["stored_in"] == [sorted([eu, created]), [created], [eu]]
    assert f["pulled"] == {eu: ["eu-created", "eu-deleted"], created: ["eu-created", "us-created"]}
    assert f["unrouted_code"] == FAILED_PRECONDITION  # no binding matched: told, not dropped


def test_broadcast_to_two_subscriptions(interop, client):
    _, facts = interop
    f = facts["broadcast"]
    assert f["received"] == {"s1": "to all", "s2": "to all"}
    assert f["acked_by"] == ["s1", "s2"]
    assert f["state"] == "MESSAGE_STATE_DELIVERED"
    assert _state(client, f["queue"], f["id"]) == types_pb2.MESSAGE_STATE_DELIVERED


def test_quorum_with_wait_for_delivered(interop, client):
    _, facts = interop
    f = facts["quorum"]
    # Send was held until the quorum of 2 acked: it returned only after the second ack began.
    assert f["acks_started_before_send_returned"] == 2
    assert f["state"] == "MESSAGE_STATE_DELIVERED"
    assert f["too_many_code"] == FAILED_PRECONDITION
    status = client.message_status(f["queue"], f["id"])
    assert len(status.acked_by) == 2
    assert status.required_acks == 2


def test_nack_redelivers_with_attempt_two(interop, client):
    _, facts = interop
    f = facts["nack_redeliver"]
    assert f["error"] == ""
    assert f["attempts"] == [1, 2]
    status = client.message_status(f["queue"], f["id"])
    assert status.state == types_pb2.MESSAGE_STATE_DELIVERED
    assert status.attempts == 2


def test_streaming_receive_with_flow_control(interop, client):
    _, facts = interop
    f = facts["flow_control"]
    assert f["first_window"] == 2
    assert int(f["in_flight_at_window"]) == 2  # the server held the other 3 back
    assert int(f["ready_at_window"]) == 3
    assert f["total"] == 5
    stats = client.stats(f["queue"])
    assert (stats.acked, stats.in_flight, stats.ready) == (5, 0, 0)


def test_stale_ack_is_reported(interop):
    _, facts = interop
    f = facts["stale_ack"]
    assert f["attempts"] == [1, 2]
    assert f["failed_old"] == [f["stale"]]
    assert f["failed_new"] == []


def test_failing_handler_text_is_the_dead_letters_last_nack_reason(interop, client):
    language, facts = interop
    f = facts["nack_reason"]
    assert f["error"] == ""
    assert f["calls"] == 4  # two messages, max_deliveries 2

    def both_dead() -> list[types_pb2.Message]:
        letters = client.list_dead_letters(f["dlq"])
        return letters if len(letters) == 2 else []

    letters = wait_until(both_dead, timeout=10, what="both messages dead-lettered")
    infos = {m.dead_letter.source_message_id: m.dead_letter for m in letters}
    short_id, long_id = f["ids"]
    assert sorted(infos) == sorted(f["ids"]) == sorted(f["errors"])
    for message_id, text in f["errors"].items():
        info = infos[message_id]
        assert info.reason_code == types_pb2.DEAD_LETTER_REASON_MAX_DELIVERIES
        assert info.attempts == 2
        assert info.last_nack_reason == (REASON_PREFIX[language] + text)[:MAX_REASON_CHARS]
    # The last attempt's text, whole, multi-byte characters and all.
    assert infos[short_id].last_nack_reason.endswith("handler failed on attempt 2: naïve ✓")
    # The long one was cut to the cap by characters, never inside one (1 to 4 bytes in UTF-8).
    assert len(f["errors"][long_id]) > MAX_REASON_CHARS
    cut = infos[long_id].last_nack_reason
    assert len(cut) == MAX_REASON_CHARS
    assert cut.startswith(REASON_PREFIX[language] + "attempt 2 ")
