"""The SDK's OpenTelemetry: create/send/process spans and client metrics, against a real
server, with an OpenTelemetry SDK set up globally as an application would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sdk_helpers import wait_event
from server_helpers import ServerProcess

from conveyor_client import AsyncClient, AsyncPublisher, AsyncSubscriber, ReceivedMessage

EXPORTER = InMemorySpanExporter()
READER = InMemoryMetricReader()


@pytest.fixture(scope="module", autouse=True)
def otel_sdk() -> Iterator[None]:
    """The global providers can be set once per process; this module's tests share them."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        pytest.skip("another test set a global tracer provider first")
    return


@pytest.fixture
async def client(server: ServerProcess, qname: str) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.address, timeout=10) as c:
        await c.create_queue(qname)
        EXPORTER.clear()
        yield c


def spans(name: str) -> list[ReadableSpan]:
    return [s for s in EXPORTER.get_finished_spans() if s.name == name]


def metric_points(name: str) -> list[Any]:
    data = READER.get_metrics_data()
    assert data is not None
    return [
        point
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == name
        for point in m.data.data_points
    ]


def for_queue(points: list[Any], queue: str) -> list[Any]:
    return [p for p in points if p.attributes.get("messaging.destination.name") == queue]


async def test_create_send_and_process_spans_carry_the_context(
    client: AsyncClient, server: ServerProcess, qname: str
) -> None:
    tracer = trace.get_tracer("the-app")
    with tracer.start_as_current_span("request") as app:
        async with AsyncPublisher(client, qname) as publisher:
            futures = [await publisher.publish(b"a"), await publisher.publish(b"b")]
            ids = [await f for f in futures]
    creates = spans(f"create {qname}")
    assert len(creates) == 2
    assert all(s.kind is SpanKind.PRODUCER for s in creates)
    assert all(
        s.parent is not None and s.parent.span_id == app.get_span_context().span_id for s in creates
    )
    [send] = spans(f"send {qname}")
    assert send.kind is SpanKind.CLIENT
    assert (send.attributes or {})["messaging.batch.message_count"] == 2
    assert {link.context.span_id for link in send.links} == {s.context.span_id for s in creates}

    seen: dict[str, tuple[str, Any]] = {}
    done = asyncio.Event()

    async def handle(message: ReceivedMessage) -> None:
        current = trace.get_current_span()
        with tracer.start_as_current_span("handler work"):
            pass
        seen[message.id] = (message.attributes["traceparent"], current.get_span_context())
        if len(seen) == 2:
            done.set()

    async with AsyncSubscriber(server.address, qname, "billing", handle):
        await wait_event(done, what="both messages handled")
    by_create = {s.context.span_id: s for s in creates}
    processes = {s.context.span_id: s for s in spans(f"process {qname}")}
    assert len(processes) == 2
    for message_id in ids:
        traceparent, process_context = seen[message_id]
        create_span_id = int(traceparent.split("-")[2], 16)
        assert create_span_id in by_create  # the create span's context travelled
        process = processes[process_context.span_id]  # the handler ran inside it
        assert process.kind is SpanKind.CONSUMER
        assert process.parent is not None
        assert process.parent.span_id == create_span_id
        assert process.context.trace_id == app.get_span_context().trace_id
        assert [link.context.span_id for link in process.links] == [create_span_id]
        attributes = process.attributes or {}
        assert attributes["messaging.message.id"] == message_id
        assert attributes["messaging.destination.subscription.name"] == "billing"
        assert attributes["messaging.operation.type"] == "process"
    work = spans("handler work")
    assert {s.parent.span_id for s in work if s.parent} == set(processes)

    [sent] = for_queue(metric_points("messaging.client.sent.messages"), qname)
    assert sent.value == 2
    [consumed] = for_queue(metric_points("messaging.client.consumed.messages"), qname)
    assert consumed.value == 2
    assert consumed.attributes["messaging.destination.subscription.name"] == "billing"
    [duration] = for_queue(metric_points("messaging.client.operation.duration"), qname)
    assert duration.count == 1
    [processing] = for_queue(metric_points("messaging.process.duration"), qname)
    assert processing.count == 2


async def test_a_failing_handler_has_error_type_and_a_callers_traceparent_is_kept(
    client: AsyncClient, server: ServerProcess, qname: str
) -> None:
    mine = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    async with AsyncPublisher(client, qname) as publisher:
        await (await publisher.publish(b"x", attributes={"traceparent": mine}))
    assert spans(f"create {qname}") == []  # the caller's context is the creation context
    attempts: list[int] = []
    done = asyncio.Event()

    async def handle(message: ReceivedMessage) -> None:
        assert message.attributes["traceparent"] == mine
        attempts.append(message.attempt)
        if len(attempts) == 1:
            raise ValueError("first time fails")
        done.set()

    async with AsyncSubscriber(server.address, qname, "s", handle):
        await wait_event(done, what="the retry")
    first, second = sorted(spans(f"process {qname}"), key=lambda s: s.start_time or 0)
    assert (first.attributes or {})["error.type"] == "ValueError"
    assert first.status.status_code is StatusCode.ERROR
    assert "error.type" not in (second.attributes or {})
    assert first.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    failed = [
        p
        for p in for_queue(metric_points("messaging.process.duration"), qname)
        if p.attributes.get("error.type") == "ValueError"
    ]
    assert failed
    assert failed[0].count == 1
