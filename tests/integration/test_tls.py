"""TLS and mutual TLS on a real server: certificates made in the test, clients refused when
they should be, and a certificate swapped on disk while the server runs."""

from __future__ import annotations

import os
import pathlib
import signal
import time
from collections.abc import Iterator

import grpc
import pytest
from certs import Authority, Pair
from click.testing import CliRunner
from grpc_health.v1 import health_pb2, health_pb2_grpc
from server_helpers import ServerProcess, start_server

from broker.cli import main
from conveyor_client import Client, ConveyorError, Unavailable
from conveyor_client.client import Client as _Client

TIMEOUT = 10.0


@pytest.fixture(scope="module")
def ca() -> Authority:
    return Authority()


def _start(tmp: pathlib.Path, ca: Authority, *, mtls: bool = False) -> ServerProcess:
    cert, key = ca.issue("localhost", server=True).write(tmp, "server")
    (tmp / "ca.pem").write_bytes(ca.pem)
    extra = ["--tls-cert", str(cert), "--tls-key", str(key)]
    if mtls:
        extra += ["--tls-client-ca", str(tmp / "ca.pem")]
    return start_server(tmp / "data", *extra, "--storage", "memory")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory, ca: Authority) -> Iterator[ServerProcess]:
    srv = _start(tmp_path_factory.mktemp("tls"), ca)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def mtls_server(tmp_path_factory: pytest.TempPathFactory, ca: Authority) -> Iterator[ServerProcess]:
    srv = _start(tmp_path_factory.mktemp("mtls"), ca, mtls=True)
    yield srv
    srv.stop()


def _round_trip(client: _Client, queue: str) -> None:
    client.create_queue(queue)
    [result] = client.send([client_message(b"over tls")], queue)
    assert result.message_id
    [delivery] = client.pull(queue, "s", max_messages=1, wait=5)
    assert delivery.message.payload == b"over tls"
    assert client.ack([delivery.ack_id]) == []


def client_message(payload: bytes) -> object:
    from conveyor.v1 import types_pb2

    return types_pb2.Message(payload=payload)


def test_a_client_trusting_the_ca_works_over_tls(tls_server: ServerProcess, ca: Authority) -> None:
    with Client(tls_server.address, tls_ca=ca.pem, timeout=TIMEOUT) as client:
        _round_trip(client, "tls-ok")


def test_a_plaintext_client_is_refused_by_a_tls_server(tls_server: ServerProcess) -> None:
    with Client(tls_server.address, timeout=3) as client, pytest.raises(Unavailable):
        client.list_queues()


def test_a_client_not_trusting_the_servers_ca_is_refused(tls_server: ServerProcess) -> None:
    other = Authority("Someone Else")
    with (
        Client(tls_server.address, tls_ca=other.pem, timeout=3) as client,
        pytest.raises(Unavailable),
    ):
        client.list_queues()


def test_health_and_the_cli_speak_tls(
    tls_server: ServerProcess, ca: Authority, tmp_path: pathlib.Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.pem)
    runner = CliRunner()
    base = ["--server", tls_server.address, "--tls-ca", str(ca_file)]
    result = runner.invoke(main, [*base, "health"])
    assert result.exit_code == 0, result.output
    assert "SERVING" in result.output
    result = runner.invoke(main, [*base, "queue", "create", "tls-cli"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, [*base, "send", "tls-cli", "hello"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["--server", tls_server.address, "health", "--timeout", "2"])
    assert result.exit_code == 1  # plaintext health check against TLS


def test_mtls_accepts_a_client_certificate_from_the_ca(
    mtls_server: ServerProcess, ca: Authority
) -> None:
    pair = ca.issue("orders-service", server=False)
    with Client(
        mtls_server.address, tls_ca=ca.pem, tls_cert=pair.cert, tls_key=pair.key, timeout=TIMEOUT
    ) as client:
        _round_trip(client, "mtls-ok")


def test_mtls_refuses_a_client_without_a_certificate(
    mtls_server: ServerProcess, ca: Authority
) -> None:
    with (
        Client(mtls_server.address, tls_ca=ca.pem, timeout=3) as client,
        pytest.raises(Unavailable),
    ):
        client.list_queues()


def test_mtls_refuses_a_certificate_from_another_ca(
    mtls_server: ServerProcess, ca: Authority
) -> None:
    pair = Authority("Rogue CA").issue("intruder", server=False)
    with (
        Client(
            mtls_server.address, tls_ca=ca.pem, tls_cert=pair.cert, tls_key=pair.key, timeout=3
        ) as client,
        pytest.raises(Unavailable),
    ):
        client.list_queues()


def _health(address: str, root: bytes) -> int:
    creds = grpc.ssl_channel_credentials(root_certificates=root)
    with grpc.secure_channel(address, creds) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=3
        )
    return int(reply.status)


def _refused(address: str, root: bytes) -> bool:
    try:
        _health(address, root)
    except grpc.RpcError as exc:
        return exc.code() == grpc.StatusCode.UNAVAILABLE
    return False


def test_a_certificate_replaced_on_disk_is_used_for_new_connections(
    tmp_path: pathlib.Path, ca: Authority
) -> None:
    srv = _start(tmp_path, ca)
    try:
        assert _health(srv.address, ca.pem) == health_pb2.HealthCheckResponse.SERVING
        with Client(srv.address, tls_ca=ca.pem, timeout=TIMEOUT) as kept:
            kept.create_queue("rotated")
            # A new CA, a new server certificate, renamed over the old files.
            new_ca = Authority("Rotated CA")
            new_ca.issue("localhost", server=True).write(tmp_path, "server")
            deadline = time.monotonic() + 10
            while not _refused(srv.address, ca.pem) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _refused(srv.address, ca.pem), "old CA still accepted after the swap"
            assert _health(srv.address, new_ca.pem) == health_pb2.HealthCheckResponse.SERVING
            # The connection made before the swap carries on.
            assert [q.name for q in kept.list_queues()] == ["rotated"]
            # A broken file is refused and the certificate in use stays.
            (tmp_path / "server.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\ngarbage\n")
            assert _health(srv.address, new_ca.pem) == health_pb2.HealthCheckResponse.SERVING
            assert any("TLS reload failed" in line for line in srv.output)
    finally:
        srv.stop()


def test_sighup_reloads_a_certificate_whose_file_looks_unchanged(
    tmp_path: pathlib.Path, ca: Authority
) -> None:
    # Files rewritten in place, padded to one size and given back their mtime: nothing a
    # stat can see changed, so only SIGHUP makes the server read them again.
    crt, key = tmp_path / "server.crt", tmp_path / "server.key"

    def put(pair: Pair) -> None:
        for path, data in ((crt, pair.cert), (key, pair.key)):
            with open(path, "r+b" if path.exists() else "wb") as fh:
                fh.write(data.ljust(4096, b"\n"))
            os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))

    put(ca.issue("localhost", server=True))
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    srv = start_server(
        tmp_path / "data", "--tls-cert", str(crt), "--tls-key", str(key), "--storage", "memory"
    )
    try:
        assert _health(srv.address, ca.pem) == health_pb2.HealthCheckResponse.SERVING
        new_ca = Authority("Hup CA")
        put(new_ca.issue("localhost", server=True))
        assert _health(srv.address, ca.pem) == health_pb2.HealthCheckResponse.SERVING
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not _refused(srv.address, ca.pem) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _refused(srv.address, ca.pem)
        assert _health(srv.address, new_ca.pem) == health_pb2.HealthCheckResponse.SERVING
    finally:
        srv.stop()


def test_sdk_refuses_half_a_client_certificate(ca: Authority) -> None:
    with pytest.raises(ValueError, match="tls_cert and tls_key go together"):
        Client("127.0.0.1:1", tls_ca=ca.pem, tls_cert=b"x")
    assert issubclass(Unavailable, ConveyorError)
