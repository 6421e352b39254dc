"""The console's guard against DNS rebinding, on a real server: requests naming a host it does
not know (``Host`` header) are refused on every console path, open or behind an auth file,
while ``/healthz`` and ``/metrics`` answer any host (probes send the pod's address)."""

from __future__ import annotations

import http.client
import json
import pathlib
import subprocess
import sys
from collections.abc import Iterator

import pytest
from console_helpers import TIMEOUT, TOKENS, auth_file, start_console
from server_helpers import ServerProcess, start_server

CONSOLE_PATHS = ("/", "/console/app.js", "/api/queues", "/api/whoami")


def get(
    server: ServerProcess, path: str, host: str | None, token: str = ""
) -> tuple[int, str, str]:
    """GET ``path`` with ``Host: host`` (None: no Host header); (status, content type, body)."""
    address, _, port = server.http_address.rpartition(":")
    conn = http.client.HTTPConnection(address, int(port), timeout=TIMEOUT)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        if token:
            conn.putheader("Authorization", f"Bearer {token}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        conn.close()


def test_a_foreign_host_is_refused_on_every_console_path_and_named_in_the_answer(
    server: ServerProcess,
) -> None:
    port = server.http_address.rpartition(":")[2]
    for path in CONSOLE_PATHS:
        status, kind, body = get(server, path, f"rebind.attacker.example:{port}")
        assert status == 421, (path, body)
        assert "--http-allowed-hosts" in body
        assert "rebind.attacker.example" in body
        if path.startswith("/api/"):
            assert kind.startswith("application/json")
            answer = json.loads(body)
            assert answer["code"] == "PERMISSION_DENIED"
            assert "DNS rebinding" in answer["error"]
        else:
            assert kind.startswith("text/plain")
    for tricky in ("127.0.0.1.attacker.example", "localhost.attacker.example", "localhost:x"):
        assert get(server, "/api/queues", tricky)[0] == 421, tricky
    # aiohttp itself refuses an HTTP/1.1 request without Host (400); either way no answer
    assert get(server, "/api/queues", None)[0] in (400, 421)


def test_local_names_and_addresses_are_answered_on_any_port(server: ServerProcess) -> None:
    port = server.http_address.rpartition(":")[2]
    for host in (
        server.http_address,
        f"localhost:{port}",
        "localhost",
        "LocalHost.:8080",
        f"[::1]:{port}",
        "10.12.0.7:8080",  # an address: the page's origin is that address, not a rebound name
        "[fd00::17]",
    ):
        status, _, body = get(server, "/api/queues", host)
        assert status == 200, (host, body)
        assert "queues" in json.loads(body)
    assert get(server, "/", f"localhost:{port}")[0] == 200


def test_health_and_metrics_answer_any_host(server: ServerProcess) -> None:
    for host in ("10.244.1.17:8080", "scraper.monitoring.svc", "rebind.attacker.example"):
        assert get(server, "/healthz", host)[:1] == (200,), host
        status, _, body = get(server, "/metrics", host)
        assert status == 200, host
        assert "conveyor" in body, host


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("console-hosts")
    srv = start_console(
        folder / "data",
        "--auth-file",
        str(auth_file(folder)),
        "--http-allowed-hosts",
        "console.example.com, Ops.Internal",
    )
    try:
        yield srv
    finally:
        srv.stop()


def test_names_given_by_the_option_are_answered_and_auth_does_not_lift_the_guard(
    named: ServerProcess,
) -> None:
    admin = TOKENS["admin"]
    for host in ("console.example.com", "console.example.com:443", "ops.internal:8080"):
        status, _, body = get(named, "/api/whoami", host, admin)
        assert (status, json.loads(body)["principal"]) == (200, "admin"), host
    status, _, body = get(named, "/api/whoami", "other.example.com", admin)
    assert status == 421
    assert "other.example.com" in body
    assert get(named, "/", "other.example.com")[0] == 421
    assert get(named, "/", "console.example.com")[0] == 200


def test_the_environment_can_open_the_guard_to_any_host(tmp_path: pathlib.Path) -> None:
    srv = start_server(
        tmp_path / "data",
        "--http-listen",
        "127.0.0.1:0",
        env={"CONVEYOR_HTTP_ALLOWED_HOSTS": "*"},
    )
    try:
        assert get(srv, "/api/queues", "anything.example")[0] == 200
    finally:
        srv.stop()


@pytest.mark.parametrize("value", ["console.example.com:8080", "http://console.example.com", "a b"])
def test_a_bad_allowed_host_stops_the_start_naming_the_setting(
    tmp_path: pathlib.Path, value: str
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "broker",
            "serve",
            "--data-dir",
            str(tmp_path),
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--http-allowed-hosts",
            value,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"http_allowed_hosts entry {value!r}" in done.stderr + done.stdout
