"""While the store recovers, health says NOT_SERVING and every RPC gets UNAVAILABLE.

The server runs in-process here with a store whose recovery waits for the test, so the
in-between state can be observed deterministically rather than raced against a real replay.
"""

from __future__ import annotations

import asyncio
import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from broker.config import ServerConfig
from broker.service.server import serve
from broker.store.memory import MemoryStore
from conveyor.v1 import admin_pb2, admin_pb2_grpc, types_pb2

SERVICES = ("", "conveyor.v1.Broker", "conveyor.v1.Admin")


class SlowStore(MemoryStore):
    """Recovers only once the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.recovering = asyncio.Event()

    async def open(self) -> None:
        self.recovering.set()
        await self.release.wait()
        await super().open()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def health(channel: grpc.aio.Channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return int(reply.status)


async def test_not_serving_until_recovery_is_done(tmp_path: object) -> None:
    address = f"127.0.0.1:{free_port()}"
    store = SlowStore()
    stop = asyncio.Event()
    server = asyncio.create_task(serve(ServerConfig(listen=address), stop, store))
    try:
        await asyncio.wait_for(store.recovering.wait(), 10)
        async with grpc.aio.insecure_channel(address) as channel:
            for service in SERVICES:
                assert await health(channel, service) == health_pb2.HealthCheckResponse.NOT_SERVING
            admin = admin_pb2_grpc.AdminStub(channel)
            request = admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name="q"))
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await admin.CreateQueue(request, timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE

            store.release.set()
            watch = health_pb2_grpc.HealthStub(channel).Watch(
                health_pb2.HealthCheckRequest(service=""), timeout=10
            )
            async for reply in watch:
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    break
            watch.cancel()
            for service in SERVICES:
                assert await health(channel, service) == health_pb2.HealthCheckResponse.SERVING
            created = await admin.CreateQueue(request, timeout=5)
            assert created.queue.name == "q"
    finally:
        stop.set()
        store.release.set()
        await asyncio.wait_for(server, 30)
