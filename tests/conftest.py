"""Shared fixtures: one real Conveyor server process per test module (tests use unique queue
names), channels and stubs to it. Starting servers is ``server_helpers``."""

from __future__ import annotations

import pathlib
import tempfile
import uuid
from collections.abc import Iterator

import grpc
import pytest
from server_helpers import ServerProcess, start_server

from conveyor.v1 import admin_pb2_grpc, broker_pb2_grpc


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with tempfile.TemporaryDirectory(prefix="conveyor-test-") as tmp:
        srv = start_server(pathlib.Path(tmp))
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture
def channel(server: ServerProcess) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        yield ch


@pytest.fixture
def broker_stub(channel: grpc.Channel) -> broker_pb2_grpc.BrokerStub:
    return broker_pb2_grpc.BrokerStub(channel)


@pytest.fixture
def admin_stub(channel: grpc.Channel) -> admin_pb2_grpc.AdminStub:
    return admin_pb2_grpc.AdminStub(channel)


@pytest.fixture
def qname() -> str:
    """A queue name unique to the test, so tests can share one server."""
    return f"q-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[object]:
    """One throwaway PostgreSQL for the session (``pg_cluster``); tests take a fresh
    database of it each."""
    from pg_cluster import Cluster

    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.destroy()
