"""Helpers for the console's tests: a real server with ``--http-listen``, a JSON client for
``/api/`` over urllib, and an auth file with an admin and a non-admin principal.

Every request has a deadline (``TIMEOUT``) so a hung server fails a test instead of hanging it.
"""

from __future__ import annotations

import json
import pathlib
import urllib.error
import urllib.request
from typing import Any

from server_helpers import ServerProcess, start_server

from broker.auth import hash_token

TIMEOUT = 10.0
TOKENS = {
    "admin": "console-admin-3b9f",
    "sender": "console-sender-77c1",
    "orders": "console-orders-a51e",
    "ops": "console-ops-9d04",
}


def auth_file(folder: pathlib.Path) -> pathlib.Path:
    """An auth file: ``admin`` may do anything anywhere, ``sender`` may only send, ``orders``
    may administer the queues named ``orders*`` only, ``ops`` those named ``orders.*`` and
    ``billing.eu`` (and receive from any)."""
    path = folder / "auth.toml"
    path.write_text(
        f"""
[[principal]]
name = "admin"
token_sha256 = "{hash_token(TOKENS["admin"])}"
[[principal.grant]]
actions = ["admin", "send", "receive"]
queues = ["*"]

[[principal]]
name = "sender"
token_sha256 = "{hash_token(TOKENS["sender"])}"
[[principal.grant]]
actions = ["send"]
queues = ["*"]

[[principal]]
name = "orders"
token_sha256 = "{hash_token(TOKENS["orders"])}"
[[principal.grant]]
actions = ["admin"]
queues = ["orders*"]

[[principal]]
name = "ops"
token_sha256 = "{hash_token(TOKENS["ops"])}"
[[principal.grant]]
actions = ["admin"]
queues = ["orders.*"]
[[principal.grant]]
actions = ["admin", "send"]
queues = ["billing.eu"]
[[principal.grant]]
actions = ["receive"]
queues = ["*"]
"""
    )
    return path


def start_console(data_dir: pathlib.Path, *extra: str) -> ServerProcess:
    return start_server(data_dir, "--http-listen", "127.0.0.1:0", *extra)


class Http:
    """Calls ``/api/`` of one server (``call``, ``get``, ``post`` take paths below it);
    answers are (status, decoded JSON body). ``raw`` takes any path and returns bytes."""

    def __init__(self, server: ServerProcess, token: str | None = None) -> None:
        self.base = f"http://{server.http_address}"
        self.token = token

    def raw(
        self, method: str, path: str, body: bytes | None = None, token: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "application/json"} if method != "GET" else {}
        token = token if token is not None else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), error.read()

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        status, _, raw = self.raw(method, "/api" + path, data, token)
        return status, json.loads(raw) if raw else None

    def get(self, path: str) -> Any:
        status, body = self.call("GET", path)
        assert status == 200, body
        return body

    def post(self, path: str, body: Any = None) -> Any:
        status, answer = self.call("POST", path, {} if body is None else body)
        assert status in (200, 201), answer
        return answer
