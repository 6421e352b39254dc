"""In-process tests of the gRPC layer (pytest-grpc-aio): the Broker servicer over a memory
store on a real ``grpc.aio`` server on 127.0.0.1, so what is checked is the service's own job -
request checks, status codes, and the frames it assembles from bytes."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from service_limits import MAX_BATCH, MAX_WINDOW

from broker.delivery.broker import Broker
from broker.service.broker_servicer import BrokerServicer, Gate
from broker.service.handlers import add_servicer
from broker.store.memory import MemoryStore
from conveyor.v1 import broker_pb2, broker_pb2_grpc


@pytest.fixture
def grpc_addr() -> Iterator[str]:
    """A free port on 127.0.0.1 (the plugin's own binds ``localhost`` and leaks its socket)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"


@pytest.fixture
def grpc_add_to_server() -> Callable[[Any, grpc.aio.Server], None]:
    return lambda servicer, server: add_servicer(
        servicer,
        server,
        broker_pb2.DESCRIPTOR.services_by_name["Broker"],
        keep_bytes=BrokerServicer.KEEP_BYTES,
    )


@pytest.fixture
def grpc_stub_cls() -> type[broker_pb2_grpc.BrokerStub]:
    return broker_pb2_grpc.BrokerStub


@pytest.fixture
async def broker() -> Broker:
    b = Broker(MemoryStore())
    await b.start()
    return b


@pytest.fixture
def gate() -> Gate:
    g = Gate()
    g.open = True
    return g


@pytest.fixture
def grpc_servicer(broker: Broker, gate: Gate) -> BrokerServicer:
    return BrokerServicer(broker, gate, MAX_BATCH, MAX_WINDOW)
