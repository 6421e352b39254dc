"""Traces: server spans per RPC, messaging spans per batch, and the producer -> consumer link.

In-process: the server runs on the test's loop with an in-memory span exporter, so every span
can be inspected. Out of process: ``conveyor serve`` configured only by ``OTEL_*`` variables
exports OTLP to a collector servicer in the test; without them nothing is traced and the
messages are delivered byte for byte as sent.
"""

from __future__ import annotations

import asyncio
import pathlib
import socket
import threading
import time
from collections.abc import AsyncIterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from broker.config import ServerConfig
from broker.service.server import serve
from broker.store.memory import MemoryStore
from broker.telemetry.setup import Telemetry
from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2
from tests.server_helpers import start_server

CLIENT_TRACE = 0x4BF92F3577B34DA6A3CE929D0E0E4736
CLIENT_SPAN = 0x00F067AA0BA902B7
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE:032x}-{CLIENT_SPAN:016x}-01"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def traceparent_of(context: Any) -> str:
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


@pytest.fixture
async def traced() -> AsyncIterator[tuple[grpc.aio.Channel, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    address = f"127.0.0.1:{free_port()}"
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve(ServerConfig(listen=address), stop, MemoryStore(), Telemetry(provider, {}))
    )
    channel = grpc.aio.insecure_channel(address)
    try:
        await asyncio.wait_for(channel.channel_ready(), 10)
        admin = admin_pb2_grpc.AdminStub(channel)
        for _ in range(100):  # until the store has recovered and the gate is open
            try:
                await admin.CreateQueue(
                    admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name="orders")), timeout=5
                )
                break
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                await asyncio.sleep(0.05)
        yield channel, exporter
    finally:
        await channel.close()
        stop.set()
        await asyncio.wait_for(server, 30)


def named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


async def test_send_receive_and_ack_spans_are_linked_to_each_message(
    traced: tuple[grpc.aio.Channel, InMemorySpanExporter],
) -> None:
    channel, exporter = traced
    broker = broker_pb2_grpc.BrokerStub(channel)
    messages = [
        types_pb2.Message(payload=b"plain-1"),
        types_pb2.Message(payload=b"plain-2"),
        types_pb2.Message(payload=b"traced", attributes={"traceparent": CLIENT_TRACEPARENT}),
    ]
    sent = await broker.Send(broker_pb2.SendRequest(queue="orders", messages=messages), timeout=10)
    ids = [r.message_id for r in sent.results]
    assert all(ids)

    requests: asyncio.Queue[broker_pb2.StreamingReceiveRequest | None] = asyncio.Queue()
    await requests.put(broker_pb2.StreamingReceiveRequest(queue="orders", subscription="billing"))

    async def outgoing() -> AsyncIterator[broker_pb2.StreamingReceiveRequest]:
        while (r := await requests.get()) is not None:
            yield r

    stream = broker.StreamingReceive(outgoing(), timeout=20)
    got: dict[str, types_pb2.Delivery] = {}
    async for response in stream:
        for d in response.deliveries:
            got[d.message.id] = d
        if len(got) == 3:
            break
    await requests.put(broker_pb2.StreamingReceiveRequest(ack_ids=[d.ack_id for d in got.values()]))
    deadline = time.monotonic() + 10
    while not named(exporter.get_finished_spans(), "ack orders"):
        assert time.monotonic() < deadline, "no ack span"
        await asyncio.sleep(0.02)
    await requests.put(None)
    stream.cancel()

    spans = exporter.get_finished_spans()
    [send] = named(spans, "send orders")
    [send_rpc] = named(spans, "conveyor.v1.Broker/Send")
    assert send_rpc.kind is SpanKind.SERVER
    assert send_rpc.attributes is not None
    assert send_rpc.attributes["rpc.method"] == "Send"
    assert send.parent is not None
    assert send.parent.span_id == send_rpc.context.span_id
    assert send.kind is SpanKind.PRODUCER  # its context is the creation context of two
    assert dict(send.attributes or {}) == {
        "messaging.system": "conveyor",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.destination.name": "orders",
        "messaging.batch.message_count": 3,
    }
    assert [link.context.span_id for link in send.links] == [CLIENT_SPAN]

    # Each message carries its creation context: the send span's, or the sender's own.
    send_tp = traceparent_of(send.context)
    carried = {mid: d.message.attributes.get("traceparent") for mid, d in got.items()}
    assert carried == {ids[0]: send_tp, ids[1]: send_tp, ids[2]: CLIENT_TRACEPARENT}
    assert got[ids[0]].message.payload == b"plain-1"

    receives = named(spans, "receive orders")
    assert receives
    assert all(s.kind is SpanKind.CLIENT for s in receives)
    linked = {(link.context.trace_id, link.context.span_id) for s in receives for link in s.links}
    assert linked == {
        (send.context.trace_id, send.context.span_id),
        (CLIENT_TRACE, CLIENT_SPAN),
    }
    assert all(s.parent is not None for s in receives), "children of the stream's RPC span"
    first = receives[0].attributes or {}
    assert first["messaging.destination.subscription.name"] == "billing"
    assert first["messaging.operation.type"] == "receive"
    assert (
        sum(int((s.attributes or {}).get("messaging.batch.message_count", 1)) for s in receives)
        == 3
    )

    [ack] = named(spans, "ack orders")
    assert ack.kind is SpanKind.CLIENT
    assert (ack.attributes or {})["messaging.operation.type"] == "settle"
    assert (ack.attributes or {})["messaging.operation.name"] == "ack"
    assert (ack.attributes or {})["messaging.batch.message_count"] == 3
    assert {(lk.context.trace_id, lk.context.span_id) for lk in ack.links} == linked


async def test_pull_ack_and_failures_have_spans_with_error_type(
    traced: tuple[grpc.aio.Channel, InMemorySpanExporter],
) -> None:
    channel, exporter = traced
    broker = broker_pb2_grpc.BrokerStub(channel)
    sent = await broker.Send(
        broker_pb2.SendRequest(queue="orders", messages=[types_pb2.Message(payload=b"one")]),
        timeout=10,
    )
    [single] = named(exporter.get_finished_spans(), "send orders")
    assert (single.attributes or {})["messaging.message.id"] == sent.results[0].message_id
    assert "messaging.batch.message_count" not in (single.attributes or {})

    pulled = await broker.Pull(
        broker_pb2.PullRequest(queue="orders", subscription="s", max_messages=5), timeout=10
    )
    [delivery] = pulled.deliveries
    await broker.Ack(broker_pb2.AckRequest(ack_ids=[delivery.ack_id]), timeout=10)
    spans = exporter.get_finished_spans()
    [receive] = named(spans, "receive orders")
    assert (receive.attributes or {})["messaging.message.id"] == delivery.message.id
    [ack] = named(spans, "ack orders")
    assert [lk.context.span_id for lk in ack.links] == [single.context.span_id]

    refused = await broker.Send(
        broker_pb2.SendRequest(queue="nowhere", messages=[types_pb2.Message(payload=b"x")]),
        timeout=10,
    )
    assert refused.results[0].error.code == grpc.StatusCode.NOT_FOUND.value[0]
    [failed] = named(exporter.get_finished_spans(), "send nowhere")
    assert (failed.attributes or {})["error.type"] == "NOT_FOUND"
    assert failed.status.status_code is StatusCode.ERROR

    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await broker.Pull(broker_pb2.PullRequest(queue="nowhere", subscription="s"), timeout=10)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    [rpc] = named(exporter.get_finished_spans(), "conveyor.v1.Broker/Pull")[-1:]
    assert (rpc.attributes or {})["error.type"] == "NOT_FOUND"
    assert (rpc.attributes or {})["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert rpc.status.status_code is StatusCode.ERROR


async def test_links_are_capped_and_deduplicated(
    traced: tuple[grpc.aio.Channel, InMemorySpanExporter],
) -> None:
    channel, exporter = traced
    broker = broker_pb2_grpc.BrokerStub(channel)
    messages = [
        types_pb2.Message(
            payload=b"m", attributes={"traceparent": f"00-{i + 1:032x}-{i + 1:016x}-01"}
        )
        for i in range(200)
    ] + [types_pb2.Message(payload=b"again", attributes={"traceparent": CLIENT_TRACEPARENT})] * 3
    await broker.Send(broker_pb2.SendRequest(queue="orders", messages=messages), timeout=10)
    [send] = named(exporter.get_finished_spans(), "send orders")
    assert send.kind is SpanKind.CLIENT  # every message came with its own creation context
    assert len(send.links) == 128
    pulled = await broker.Pull(
        broker_pb2.PullRequest(queue="orders", subscription="s", max_messages=1000), timeout=10
    )
    assert len(pulled.deliveries) == 203
    [receive] = named(exporter.get_finished_spans(), "receive orders")
    assert len(receive.links) == 128
    assert (receive.attributes or {})["messaging.batch.message_count"] == 203


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP trace receiver: keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.lock = threading.Lock()

    def Export(self, request: Any, context: Any) -> Any:
        with self.lock:
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    self.spans.extend(scope.spans)
        return trace_service_pb2.ExportTraceServiceResponse()

    def named(self, name: str) -> list[Any]:
        with self.lock:
            return [s for s in self.spans if s.name == name]


def test_otlp_export_configured_by_otel_variables(tmp_path: pathlib.Path) -> None:
    collector = Collector()
    otlp = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, otlp)
    port = otlp.add_insecure_port("127.0.0.1:0")
    otlp.start()
    env = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_SEMCONV_STABILITY_OPT_IN": "messaging/dup",
    }
    server = start_server(tmp_path / "data", env=env)
    try:
        with grpc.insecure_channel(server.address) as channel:
            admin_pb2_grpc.AdminStub(channel).CreateQueue(
                admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name="jobs")), timeout=10
            )
            broker = broker_pb2_grpc.BrokerStub(channel)
            broker.Send(
                broker_pb2.SendRequest(queue="jobs", messages=[types_pb2.Message(payload=b"a")]),
                timeout=10,
            )
            pulled = broker.Pull(
                broker_pb2.PullRequest(queue="jobs", subscription="w", max_messages=1), timeout=10
            )
            assert pulled.deliveries[0].message.attributes["traceparent"].startswith("00-")
        deadline = time.monotonic() + 20
        while not (collector.named("send jobs") and collector.named("receive jobs")):
            assert time.monotonic() < deadline, f"spans: {[s.name for s in collector.spans]}"
            time.sleep(0.05)
        [send] = collector.named("send jobs")
        [receive] = collector.named("receive jobs")
        assert [(lk.trace_id, lk.span_id) for lk in receive.links] == [
            (send.trace_id, send.span_id)
        ]
        attributes = {a.key: a.value.string_value for a in send.attributes}
        assert attributes["messaging.system"] == "conveyor"
        assert attributes["messaging.operation"] == "publish"  # messaging/dup: the old name too
        assert attributes["messaging.operation.type"] == "send"
    finally:
        server.stop()
        otlp.stop(0)


def test_nothing_is_traced_or_added_without_otel_variables(tmp_path: pathlib.Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        with grpc.insecure_channel(server.address) as channel:
            admin_pb2_grpc.AdminStub(channel).CreateQueue(
                admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name="jobs")), timeout=10
            )
            broker = broker_pb2_grpc.BrokerStub(channel)
            sent = types_pb2.Message(payload=b"as sent", topic="t")
            broker.Send(broker_pb2.SendRequest(queue="jobs", messages=[sent]), timeout=10)
            pulled = broker.Pull(
                broker_pb2.PullRequest(queue="jobs", subscription="w", max_messages=1), timeout=10
            )
            message = pulled.deliveries[0].message
            assert dict(message.attributes) == {}
            assert sent.SerializeToString() in message.SerializeToString()  # nothing added
    finally:
        server.stop()
