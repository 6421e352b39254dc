"""Each language's client against a real server with TLS, mutual TLS and an auth file.

The client's interop program (``clients/<lang>``, run as ``... security TARGET PREFIX``) takes
its CA, client certificate, key and token from ``CONVEYOR_CLIENT_TLS_CA``/``_CERT``/``_KEY`` and
``CONVEYOR_TOKEN``, as a user would set them, and prints what it observed: a round trip (queue
created, a message sent, received on a StreamingReceive stream and acked) with file paths and
again with PEM bytes, and the code of a send with a wrong token, with no token, and without a
client certificate. The tests assert on those facts and cross-check with the Python SDK.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from certs import Authority
from server_helpers import ServerProcess, start_server
from test_clients import BUILDERS, ROOT, RUN_TIMEOUT_S

from broker.auth import hash_token
from conveyor.v1 import types_pb2
from conveyor_client import Client

TOKEN = "tok-interop-3b9e7d"
Facts = dict[str, dict[str, Any]]


class Files:
    def __init__(self, folder: pathlib.Path) -> None:
        ca = Authority()
        self.ca = folder / "ca.pem"
        self.ca.write_bytes(ca.pem)
        self.server_cert, self.server_key = ca.issue("localhost", server=True).write(
            folder, "server"
        )
        # The client certificate's subject is no principal's: the token decides who calls.
        self.client_cert, self.client_key = ca.issue("interop-client", server=False).write(
            folder, "client"
        )
        self.auth = folder / "auth.toml"
        self.auth.write_text(
            f"""
[[principal]]
name = "interop"
token_sha256 = "{hash_token(TOKEN)}"
[[principal.grant]]
actions = ["admin", "send", "receive"]
queues = ["*"]
"""
        )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def secure_server(
    files: Files, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    srv = start_server(
        tmp_path_factory.mktemp("data"),
        "--storage",
        "memory",
        "--tls-cert",
        str(files.server_cert),
        "--tls-key",
        str(files.server_key),
        "--tls-client-ca",
        str(files.ca),
        "--auth-file",
        str(files.auth),
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def secure(
    request: pytest.FixtureRequest,
    secure_server: ServerProcess,
    files: Files,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, Facts]:
    """Builds one language's interop program, runs its security scenarios once."""
    language: str = request.param
    command = BUILDERS[language](tmp_path_factory.mktemp(language))
    prefix = f"{language[:2]}{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CONVEYOR_CLIENT_TLS_CA": str(files.ca),
        "CONVEYOR_CLIENT_TLS_CERT": str(files.client_cert),
        "CONVEYOR_CLIENT_TLS_KEY": str(files.client_key),
        "CONVEYOR_TOKEN": TOKEN,
    }
    res = subprocess.run(
        [*command, "security", secure_server.address, prefix],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=env,
    )
    assert res.returncode == 0, f"{language} security run failed:\n{res.stdout}\n{res.stderr}"
    return language, json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def client(secure_server: ServerProcess, files: Files) -> Iterator[Client]:
    with Client(
        secure_server.address,
        tls_ca=files.ca,
        tls_cert=files.client_cert,
        tls_key=files.client_key,
        token=TOKEN,
        timeout=10,
    ) as c:
        yield c


@pytest.mark.parametrize("scenario", ["round_trip", "pem_bytes"])
def test_send_and_receive_with_ca_client_certificate_and_token(
    secure: tuple[str, Facts], client: Client, scenario: str
) -> None:
    _, facts = secure
    f = facts[scenario]
    assert f["error"] == ""
    assert f["received"] == ["secret cargo"]
    # The ack went back on the stream, carrying the token, and the server took it.
    assert client.message_status(f["queue"], f["id"]).state == types_pb2.MESSAGE_STATE_DELIVERED


@pytest.mark.parametrize("scenario", ["wrong_token", "no_token"])
def test_a_wrong_or_missing_token_is_unauthenticated(
    secure: tuple[str, Facts], client: Client, scenario: str
) -> None:
    language, facts = secure
    assert facts[scenario]["code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]
    # Refused before the broker: the queue holds only what the round trip sent.
    stats = client.stats(facts["round_trip"]["queue"])
    assert (stats.ready, stats.in_flight, stats.acked) == (0, 0, 1), language


def test_no_client_certificate_against_mtls_fails(secure: tuple[str, Facts]) -> None:
    _, facts = secure
    # The handshake fails, so the call never starts: UNAVAILABLE in every language.
    assert facts["no_cert"]["code"] == grpc.StatusCode.UNAVAILABLE.value[0]
