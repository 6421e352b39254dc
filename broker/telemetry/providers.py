"""OpenTelemetry providers from the standard ``OTEL_*`` environment, or none at all.

Nothing is exported unless asked: traces when ``OTEL_TRACES_EXPORTER`` names an exporter
(``otlp``, ``console``) or an OTLP endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``..._TRACES_ENDPOINT``) and the exporter is not ``none``; metrics likewise with
``OTEL_METRICS_EXPORTER``. ``OTEL_SDK_DISABLED=true`` turns everything off. The SDK reads the
rest itself: sampler (``OTEL_TRACES_SAMPLER``), batching (``OTEL_BSP_*``), export interval
(``OTEL_METRIC_EXPORT_INTERVAL``), endpoint, headers, protocol, resource.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from broker.errors import InvalidArgument

SERVICE = "conveyor"


def _exporters(environ: Mapping[str, str], signal: str) -> list[str]:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    raw = environ.get(f"OTEL_{signal.upper()}_EXPORTER")
    if raw is None:
        endpoint = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get(
            f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"
        )
        return ["otlp"] if endpoint else []
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    return [] if "none" in names else names


def _protocol(environ: Mapping[str, str], signal: str) -> str:
    protocol = environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL") or environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"
    )
    if protocol != "grpc":
        raise InvalidArgument(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: this server exports OTLP over grpc only"
        )
    return protocol


def resource(environ: Mapping[str, str]) -> Resource:
    """``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``, with ``service.name=conveyor``
    when neither names the service."""
    detected = Resource.create()
    if "OTEL_SERVICE_NAME" in environ or "service.name=" in environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    ):
        return detected
    return detected.merge(Resource({SERVICE_NAME: SERVICE}))


def tracer_provider(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """A provider exporting where ``OTEL_*`` says, or None when no exporter is configured."""
    env = os.environ if environ is None else environ
    names = _exporters(env, "traces")
    if not names:
        return None
    provider = TracerProvider(resource=resource(env))
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_span_exporter(env, name)))
    return provider


def _span_exporter(env: Mapping[str, str], name: str) -> SpanExporter:
    if name == "otlp":
        _protocol(env, "traces")
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    raise InvalidArgument(f"OTEL_TRACES_EXPORTER={name!r}: expected otlp, console or none")


def meter_provider(
    environ: Mapping[str, str] | None = None,
    readers: Sequence[MetricReader] = (),
    wrap: Callable[[MetricExporter], MetricExporter] = lambda exporter: exporter,
) -> MeterProvider | None:
    """A provider with ``readers`` (the Prometheus one) plus the exporters ``OTEL_*`` names,
    each passed through ``wrap``; None when there is neither."""
    env = os.environ if environ is None else environ
    all_readers = list(readers)
    for name in _exporters(env, "metrics"):
        if name == "otlp":
            _protocol(env, "metrics")
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter,
            )

            all_readers.append(PeriodicExportingMetricReader(wrap(OTLPMetricExporter())))
        elif name == "console":
            from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

            all_readers.append(PeriodicExportingMetricReader(wrap(ConsoleMetricExporter())))
        elif name != "prometheus":  # prometheus: the /metrics endpoint, already a reader
            raise InvalidArgument(
                f"OTEL_METRICS_EXPORTER={name!r}: expected otlp, console, prometheus or none"
            )
    if not all_readers:
        return None
    return MeterProvider(metric_readers=all_readers, resource=resource(env))
