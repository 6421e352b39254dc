"""Fixtures of the console's tests: one real server with an HTTP listener per module."""

from __future__ import annotations

import pathlib
import tempfile
from collections.abc import Iterator

import grpc
import pytest
from console_helpers import start_console
from server_helpers import ServerProcess


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with tempfile.TemporaryDirectory(prefix="conveyor-console-") as tmp:
        srv = start_console(pathlib.Path(tmp))
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture
def channel(server: ServerProcess) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        yield ch
