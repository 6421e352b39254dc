"""OpenTelemetry in the SDK, through the global API: a no-op until the application sets up
an OpenTelemetry SDK (``trace.set_tracer_provider``, ``metrics.set_meter_provider``).

Spans follow the messaging conventions: ``create {queue}`` (PRODUCER) per published message,
whose context goes into the message's ``traceparent`` attribute (unless the caller set one);
``send {queue}`` (CLIENT) per batch, linked to its messages' creation contexts;
``process {queue}`` (CONSUMER) around each handler call, parented to a single message's
creation context and linked to every message's. Metrics: ``messaging.client.sent.messages``,
``messaging.client.operation.duration`` (per Send), ``messaging.client.consumed.messages``
and ``messaging.process.duration`` (per handler call).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation import set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from conveyor.v1 import types_pb2

NAME = "conveyor_client"
SYSTEM = "conveyor"
TRACEPARENT = "traceparent"
MAX_LINKS = 128
_PROPAGATOR = TraceContextTextMapPropagator()
_tracer = trace.get_tracer(NAME)
_meter = metrics.get_meter(NAME)
sent_messages = _meter.create_counter(
    "messaging.client.sent.messages", unit="{message}", description="Messages sent."
)
consumed_messages = _meter.create_counter(
    "messaging.client.consumed.messages",
    unit="{message}",
    description="Messages delivered to the application.",
)
operation_duration = _meter.create_histogram(
    "messaging.client.operation.duration", unit="s", description="Duration of each Send."
)
process_duration = _meter.create_histogram(
    "messaging.process.duration", unit="s", description="Duration of each handler call."
)


_on = False


def tracing() -> bool:
    """Whether an SDK is set up (the default global provider is a proxy that records nothing).

    A yes is kept for good (the global provider can be set only once); a no is asked again
    each time (under a microsecond), so spans start as soon as the application sets one up."""
    global _on
    if not _on:
        _on = not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    return _on


def attributes(operation: str, kind: str, queue: str, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "messaging.system": SYSTEM,
        "messaging.operation.type": kind,
        "messaging.operation.name": operation,
    }
    if queue:
        out["messaging.destination.name"] = queue
    out.update({k: v for k, v in more.items() if v is not None and v != ""})
    return out


def created(queue: str, message: types_pb2.Message) -> None:
    """A ``create`` span for a message about to be queued; its context goes in the message."""
    if not tracing() or TRACEPARENT in message.attributes:
        return
    span = _tracer.start_span(
        f"create {queue}" if queue else "create",
        kind=SpanKind.PRODUCER,
        attributes=attributes("create", "create", queue or message.topic),
    )
    _PROPAGATOR.inject(message.attributes, context=set_span_in_context(span))
    span.end()


def creation_context(carrier: Any) -> SpanContext | None:
    if TRACEPARENT not in carrier:
        return None
    context = trace.get_current_span(_PROPAGATOR.extract(dict(carrier))).get_span_context()
    return context if context.is_valid else None


def links(messages: Sequence[Any]) -> list[Link]:
    """Links to the creation contexts in ``messages``' attributes, deduplicated, capped."""
    out: list[Link] = []
    seen: set[tuple[int, int]] = set()
    for m in messages:
        context = creation_context(m.attributes)
        if context is None or (context.trace_id, context.span_id) in seen:
            continue
        seen.add((context.trace_id, context.span_id))
        out.append(Link(context))
        if len(out) >= MAX_LINKS:
            break
    return out


def start_send(queue: str, messages: Sequence[types_pb2.Message]) -> trace.Span | None:
    if not tracing():
        return None
    more = {"messaging.batch.message_count": len(messages) if len(messages) > 1 else None}
    return _tracer.start_span(
        f"send {queue}" if queue else "send",
        kind=SpanKind.CLIENT,
        attributes=attributes("send", "send", queue, **more),
        links=links(messages),
    )


def start_process(queue: str, subscription: str, unit: Sequence[Any]) -> trace.Span | None:
    """``unit``: the ``ReceivedMessage``s of one handler call."""
    if not tracing():
        return None
    single = len(unit) == 1
    parent = creation_context(unit[0].attributes) if single else None
    more: dict[str, Any] = {"messaging.destination.subscription.name": subscription}
    if single:
        more["messaging.message.id"] = unit[0].id
    else:
        more["messaging.batch.message_count"] = len(unit)
    return _tracer.start_span(
        f"process {queue}",
        context=set_span_in_context(trace.NonRecordingSpan(parent)) if parent else None,
        kind=SpanKind.CONSUMER,
        attributes=attributes("process", "process", queue, **more),
        links=links(unit),
    )


def failed(span: trace.Span | None, error: BaseException) -> str:
    """Marks ``span`` failed; returns the ``error.type`` (the exception's class name)."""
    kind = type(error).__qualname__
    if span is not None:
        span.set_attribute("error.type", kind)
        span.set_status(Status(StatusCode.ERROR, str(error)))
    return kind
