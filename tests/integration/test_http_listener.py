"""``--http-listen``: an HTTP listener beside gRPC, off unless asked for."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.server_helpers import start_server


def test_healthz_says_serving_and_the_listener_is_off_by_default(tmp_path: pathlib.Path) -> None:
    server = start_server(tmp_path / "a", "--http-listen", "127.0.0.1:0")
    try:
        with urllib.request.urlopen(f"http://{server.http_address}/healthz", timeout=10) as r:
            assert (r.status, r.read()) == (200, b"SERVING\n")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://{server.http_address}/nothing-here", timeout=10)
        assert missing.value.code == 404
        missing.value.close()
    finally:
        server.stop()
    plain = start_server(tmp_path / "b")
    try:
        assert not any("conveyor http on" in line for line in plain.output)
    finally:
        plain.stop()


def test_a_bad_http_address_stops_the_server_with_a_message(tmp_path: pathlib.Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "broker",
            "serve",
            "--data-dir",
            str(tmp_path),
            "--http-listen",
            "localhost",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "http_listen 'localhost': expected HOST:PORT" in result.stderr
