"""A SERVER span per RPC (OpenTelemetry RPC conventions), installed only when tracing is on.

The span's parent is the caller's ``traceparent`` metadata, and it is the current span while
the handler runs, so the messaging spans of the batches it handles (``broker.telemetry``) are
its children. Health and reflection calls are not traced: probes would drown the traces.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_UNTRACED = ("/grpc.health.", "/grpc.reflection.")
_PROPAGATOR = TraceContextTextMapPropagator()


class ServerSpans(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or method.startswith(_UNTRACED):
            return handler
        carrier = {k: v for k, v in details.invocation_metadata or () if isinstance(v, str)}
        parent = _PROPAGATOR.extract(carrier) if "traceparent" in carrier else None
        service, _, name = method[1:].rpartition("/")
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
        tracer = self.tracer

        def start() -> trace.Span:
            return tracer.start_span(
                method[1:], context=parent, kind=SpanKind.SERVER, attributes=attributes
            )

        h: Any = handler
        if h.unary_unary is not None:
            inner = h.unary_unary

            async def unary_unary(request: Any, context: Any) -> Any:
                with trace.use_span(start(), end_on_exit=True) as span:
                    try:
                        return await inner(request, context)
                    finally:
                        _status(span, context)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, h.request_deserializer, h.response_serializer
            )
        if h.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _streaming(start, h.unary_stream), h.request_deserializer, h.response_serializer
            )
        if h.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                _streaming(start, h.stream_stream), h.request_deserializer, h.response_serializer
            )
        return handler  # stream-unary: none in the contract


def _streaming(
    start: Callable[[], trace.Span], inner: Callable[[Any, Any], AsyncIterator[Any]]
) -> Callable[[Any, Any], AsyncIterator[Any]]:
    async def behavior(request: Any, context: Any) -> AsyncIterator[Any]:
        with trace.use_span(start(), end_on_exit=True) as span:
            try:
                async for response in inner(request, context):
                    yield response
            finally:
                _status(span, context)

    return behavior


def _status(span: trace.Span, context: Any) -> None:
    code = context.code()
    if code is None or code == grpc.StatusCode.OK:
        return
    name = code.name if isinstance(code, grpc.StatusCode) else str(code)
    span.set_attribute("rpc.grpc.status_code", code.value[0] if hasattr(code, "value") else 0)
    span.set_attribute("error.type", name)
    span.set_status(Status(StatusCode.ERROR, context.details() or name))
