"""The tools people point at a gRPC service, driven by reflection alone (no proto files).

grpcurl, grpc_health_probe and ghz are installed by ``scripts/setup`` into ``tools/bin``
(``go install`` from the Go module proxy). Each test runs the real binary against a real
``conveyor serve`` process, so what passes here works for a user typing the same command.
"""

from __future__ import annotations

import base64
import json
import pathlib
import subprocess
import tempfile
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from server_helpers import ServerProcess, start_server

from conveyor_client import Client, Unavailable

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / "tools" / "bin"
TOOL_TIMEOUT_S = 60.0
V1_REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"


def tool(name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs ``tools/bin/NAME args`` with a time limit."""
    path = BIN / name
    assert path.exists(), f"{path} missing: run scripts/setup"
    return subprocess.run(
        [str(path), *args], capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=check
    )


def grpcurl(server: ServerProcess, *args: str) -> str:
    return tool("grpcurl", "-plaintext", *args[:-1], server.address, args[-1]).stdout


def grpcurl_call(server: ServerProcess, method: str, body: object) -> dict[str, object]:
    out = tool("grpcurl", "-plaintext", "-d", json.dumps(body), server.address, method).stdout
    parsed: dict[str, object] = json.loads(out)
    return parsed


# -- grpcurl ---------------------------------------------------------------------------------


def test_grpcurl_lists_services_through_reflection(server: ServerProcess) -> None:
    services = set(tool("grpcurl", "-plaintext", server.address, "list").stdout.split())
    assert {
        "conveyor.v1.Broker",
        "conveyor.v1.Admin",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= services
    methods = tool("grpcurl", "-plaintext", server.address, "list", "conveyor.v1.Broker").stdout
    assert "conveyor.v1.Broker.StreamingReceive" in methods.split()


def test_grpcurl_describes_a_service(server: ServerProcess) -> None:
    out = tool("grpcurl", "-plaintext", server.address, "describe", "conveyor.v1.Admin").stdout
    assert "service Admin {" in out
    assert "rpc CreateQueue ( .conveyor.v1.CreateQueueRequest )" in out


@pytest.mark.parametrize(
    ("method", "signature"),
    [
        ("conveyor.v1.Broker.Send", "rpc Send ( .conveyor.v1.SendRequest )"),
        (
            "conveyor.v1.Broker.StreamingReceive",
            "rpc StreamingReceive ( stream .conveyor.v1.StreamingReceiveRequest )",
        ),
        ("conveyor.v1.Admin.GetQueueStats", "rpc GetQueueStats ( .conveyor.v1.GetQueueStatsRe"),
    ],
)
def test_grpcurl_describes_a_method(server: ServerProcess, method: str, signature: str) -> None:
    # Python's reflection could not resolve method symbols (grpc/grpc#34743).
    out = tool("grpcurl", "-plaintext", server.address, "describe", method).stdout
    assert f"{method} is a method:" in out
    assert signature in out


def test_grpcurl_describe_of_an_unknown_symbol_fails(server: ServerProcess) -> None:
    res = tool(
        "grpcurl", "-plaintext", server.address, "describe", "conveyor.v1.Broker.Nope", check=False
    )
    assert res.returncode != 0
    assert "Symbol not found" in res.stderr


def test_grpcurl_send_and_pull(server: ServerProcess, qname: str) -> None:
    grpcurl_call(server, "conveyor.v1.Admin/CreateQueue", {"queue": {"name": qname}})
    payload = base64.b64encode(b"hello grpcurl").decode()
    sent = grpcurl_call(
        server,
        "conveyor.v1.Broker/Send",
        {"queue": qname, "messages": [{"payload": payload, "attributes": {"k": "v"}}]},
    )
    (result,) = sent["results"]  # type: ignore[misc]
    message_id = result["messageId"]
    pulled = grpcurl_call(
        server,
        "conveyor.v1.Broker/Pull",
        {"queue": qname, "subscription": "cli", "max_messages": 10, "wait": "5s"},
    )
    (delivery,) = pulled["deliveries"]  # type: ignore[misc]
    assert delivery["message"]["id"] == message_id
    assert base64.b64decode(delivery["message"]["payload"]) == b"hello grpcurl"
    assert delivery["message"]["attributes"] == {"k": "v"}
    assert delivery["attempt"] == 1


def test_reflection_v1_is_served(server: ServerProcess) -> None:
    # grpcurl falls back to v1alpha silently; ask v1 directly (the messages are wire-identical).
    with grpc.insecure_channel(server.address) as ch:
        call = ch.stream_stream(
            V1_REFLECTION,
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="conveyor.v1.Broker.Send"
            ),
            reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="grpc.reflection.v1.ServerReflection"
            ),
        ]
        listed, send_file, v1_file = list(call(iter(requests), timeout=10))
    names = {s.name for s in listed.list_services_response.service}
    assert {"conveyor.v1.Broker", "grpc.reflection.v1.ServerReflection"} <= names
    assert send_file.HasField("file_descriptor_response")
    assert v1_file.HasField("file_descriptor_response")


# -- grpc_health_probe -------------------------------------------------------------------------


def test_grpc_health_probe_exit_codes(server: ServerProcess) -> None:
    ok = tool("grpc_health_probe", f"-addr={server.address}", check=False)
    assert ok.returncode == 0, ok.stderr
    assert "SERVING" in ok.stdout + ok.stderr
    per_service = tool(
        "grpc_health_probe", f"-addr={server.address}", "-service=conveyor.v1.Broker", check=False
    )
    assert per_service.returncode == 0


@pytest.fixture
def failing_disk_server() -> Iterator[ServerProcess]:
    """A server whose disk fails at its first write after start: it serves until then.

    The data directory is made by a healthy start first, as in tests/faults, so the restart
    itself needs no fsync.
    """
    with tempfile.TemporaryDirectory(prefix="conveyor-probe-") as tmp:
        data = pathlib.Path(tmp)
        healthy = start_server(data)
        with Client(healthy.address, timeout=10) as client:
            client.create_queue("probe")
        assert healthy.stop() == 0
        srv = start_server(data, env={"CONVEYOR_FAILPOINT": "wal-fsync-fails-after:0"})
        try:
            yield srv
        finally:
            srv.kill()


def test_grpc_health_probe_fails_while_not_serving(failing_disk_server: ServerProcess) -> None:
    srv = failing_disk_server
    assert tool("grpc_health_probe", f"-addr={srv.address}", check=False).returncode == 0
    with grpc.insecure_channel(srv.address) as ch:
        watch = health_pb2_grpc.HealthStub(ch).Watch(health_pb2.HealthCheckRequest(), timeout=30)
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        with Client(srv.address, timeout=10) as client, pytest.raises(Unavailable):
            client.publish("probe", b"the write that fails the disk")
        assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
        watch.cancel()
    res = tool("grpc_health_probe", f"-addr={srv.address}", check=False)
    assert res.returncode != 0
    assert "NOT_SERVING" in res.stdout + res.stderr


# -- ghz -------------------------------------------------------------------------------------


def test_ghz_load_tests_send_through_reflection(server: ServerProcess, qname: str) -> None:
    with Client(server.address, timeout=10) as client:
        client.create_queue(qname)
        body = {"queue": qname, "messages": [{"payload": base64.b64encode(b"x" * 64).decode()}]}
        res = tool(
            "ghz",
            "--insecure",
            "--call=conveyor.v1.Broker.Send",
            f"--data={json.dumps(body)}",
            "--total=200",
            "--concurrency=4",
            "--timeout=10s",
            "--format=json",
            server.address,
        )
        report = json.loads(res.stdout)
        assert report["count"] == 200
        assert report["statusCodeDistribution"] == {"OK": 200}
        assert client.stats(qname).sent == 200
