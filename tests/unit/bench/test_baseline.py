"""The baseline server keeps Conveyor's contract where the benchmark depends on it: one result
per message, a copy per subscription for broadcast, and the stream's window."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from broker.bench.server import BenchServer
from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2


@pytest.fixture
def baseline(tmp_path: Path) -> AsyncIterator[BenchServer]:
    server = BenchServer(tmp_path, kind="baseline")
    try:
        server.start()
        yield server
    finally:
        server.kill()


def _send(n: int, guarantee: int = types_pb2.GUARANTEE_AT_LEAST_ONCE) -> broker_pb2.SendRequest:
    return broker_pb2.SendRequest(
        queue="q",
        messages=[types_pb2.Message(payload=b"%d" % i, guarantee=guarantee) for i in range(n)],
    )


async def test_send_answers_a_fresh_id_per_message(baseline: BenchServer) -> None:
    async with grpc.aio.insecure_channel(baseline.address) as ch:
        response = await broker_pb2_grpc.BrokerStub(ch).Send(_send(3), timeout=10)
    ids = [r.message_id for r in response.results]
    assert len(set(ids)) == 3
    assert all(r.queues == ["q"] and r.message_ids == [r.message_id] for r in response.results)


async def test_streams_respect_the_window_and_broadcast_copies(baseline: BenchServer) -> None:
    async with grpc.aio.insecure_channel(baseline.address) as ch:
        stub, admin = broker_pb2_grpc.BrokerStub(ch), admin_pb2_grpc.AdminStub(ch)
        calls = [stub.StreamingReceive() for _ in range(2)]
        for i, call in enumerate(calls):
            await call.write(
                broker_pb2.StreamingReceiveRequest(
                    queue="q", subscription=f"s{i}", max_outstanding_messages=4
                )
            )
        for _ in range(100):
            listed = await admin.ListSubscriptions(
                admin_pb2.ListSubscriptionsRequest(queue="q"), timeout=10
            )
            if len(listed.subscriptions) == 2:
                break
            await asyncio.sleep(0.01)
        await stub.Send(_send(10, types_pb2.GUARANTEE_BROADCAST), timeout=10)
        got = {}
        for i, call in enumerate(calls):
            first = await asyncio.wait_for(call.read(), 10)
            assert len(first.deliveries) == 4  # the window, not the 10 ready
            assert first.deliveries[0].message.id
            assert first.deliveries[0].attempt == 1
            got[i] = len(first.deliveries)
            while got[i] < 10:
                pending = asyncio.ensure_future(call.read())
                done, _ = await asyncio.wait([pending], timeout=0.2)
                assert not done, "more than the window before any ack"
                await call.write(broker_pb2.StreamingReceiveRequest(ack_ids=["x"] * 4))
                frame = await asyncio.wait_for(pending, 10)
                assert len(frame.deliveries) <= 4
                got[i] += len(frame.deliveries)
            await call.done_writing()
        assert got == {0: 10, 1: 10}  # each subscription got every message
