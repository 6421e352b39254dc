"""A SERVER span per RPC (OpenTelemetry RPC conventions), only when tracing is on.

``ServerSpans.wrap`` wraps a servicer method where ``handlers.add_servicer`` registers it, so
tracing off leaves the handlers untouched and tracing on costs no gRPC interceptor. The span's
parent is the caller's ``traceparent`` metadata, and it is the current span while the handler
runs, so the messaging spans of the batches it handles (``broker.telemetry``) are its
children. Health and reflection are not registered through here: probes are not traced.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
Behavior = Callable[[Any, Any], Any]


class ServerSpans:
    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    def wrap(self, service: str, method: str, behavior: Behavior, streaming: bool) -> Behavior:
        """``behavior`` (a servicer method) inside a SERVER span named ``service/method``;
        ``streaming``: it answers with a stream (an async generator)."""
        start_span = self.tracer.start_span
        name = f"{service}/{method}"
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}

        def start(context: Any) -> trace.Span:
            # Most calls carry no traceparent: look for it before building a carrier.
            metadata = context.invocation_metadata() or ()
            parent = None
            for key, _value in metadata:
                if key == "traceparent":
                    carrier = {k: v for k, v in metadata if isinstance(v, str)}
                    parent = _PROPAGATOR.extract(carrier)
                    break
            return start_span(name, parent, SpanKind.SERVER, attributes)

        if streaming:

            async def streamed(request: Any, context: Any) -> AsyncIterator[Any]:
                with trace.use_span(start(context), end_on_exit=True) as span:
                    try:
                        async for response in behavior(request, context):
                            yield response
                    finally:
                        _status(span, context)

            return streamed

        async def unary(request: Any, context: Any) -> Any:
            with trace.use_span(start(context), end_on_exit=True) as span:
                try:
                    return await behavior(request, context)
                finally:
                    _status(span, context)

        return unary


def _status(span: trace.Span, context: Any) -> None:
    code = context.code()
    if code is None or code == grpc.StatusCode.OK or not isinstance(code, grpc.StatusCode):
        return
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    span.set_attribute("error.type", code.name)
    span.set_status(Status(StatusCode.ERROR, context.details() or code.name))
