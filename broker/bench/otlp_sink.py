"""A real OTLP trace receiver for ``conveyor bench --trace``: counts what a traced server exports.

The traced server exports over OTLP/gRPC exactly as in production (batch span processor,
protobuf encoding, a gRPC call per batch); the sink decodes each request to count its spans
and drops them, so the run pays the export and not a collector's storage.
"""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

TRACE_ENV = {
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_TRACES_SAMPLER": "always_on",
    "OTEL_EXPORTER_OTLP_INSECURE": "true",
    "OTEL_METRICS_EXPORTER": "none",
}
"""The server under test's tracing: every span sampled, exported by OTLP (plus the endpoint)."""


class _Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, sink: OtlpSink) -> None:
        self.sink = sink

    def Export(self, request: Any, context: Any) -> Any:
        spans = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
        with self.sink.lock:
            self.sink.spans += spans
            self.sink.requests += 1
        return trace_service_pb2.ExportTraceServiceResponse()


class OtlpSink:
    """An OTLP/gRPC trace service on a free 127.0.0.1 port, counting spans received."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans = 0
        self.requests = 0
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        add = trace_service_pb2_grpc.add_TraceServiceServicer_to_server
        add(_Receiver(self), self._server)  # type: ignore[no-untyped-call]
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    def __enter__(self) -> OtlpSink:
        self._server.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.stop(0)

    def env(self) -> dict[str, str]:
        return {**TRACE_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{self.port}"}

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return self.spans, self.requests
