"""What the server sets up: OpenTelemetry providers, the tracing hooks, the metrics.

``Telemetry.from_env`` builds what the standard ``OTEL_*`` variables ask for
(``providers``); with none set, tracing is off (the service skips its hooks) and metrics
exist only when something reads them (the ``/metrics`` endpoint). The server owns one
``Telemetry`` and shuts it down last, so what was recorded is flushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter
from opentelemetry.sdk.trace import TracerProvider

from broker.http import Part
from broker.store.base import Store
from broker.telemetry import providers
from broker.telemetry.metrics import BrokerMetrics, WithLatency
from broker.telemetry.tracing import Tracing, stability_dup

INSTRUMENTATION = "conveyor.broker"


class Telemetry:
    """The server's tracer provider (None: tracing off) and the ``Tracing`` over it."""

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.environ = env
        self.tracer_provider = tracer_provider
        self.tracing: Tracing | None = None
        self.meter_provider: MeterProvider | None = None
        self.metrics: BrokerMetrics | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._prometheus: object | None = None
        if tracer_provider is not None:
            self.tracing = Tracing(
                tracer_provider.get_tracer(INSTRUMENTATION), dup=stability_dup(env)
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Telemetry:
        env = os.environ if environ is None else environ
        return cls(providers.tracer_provider(env), env)

    def start_metrics(self, store: Store, prometheus: bool) -> Part | None:
        """Creates the broker's instruments if anything reads them: the ``/metrics`` route
        (returned, for the HTTP listener) when ``prometheus``, OTLP when ``OTEL_*`` says."""
        scrape = None
        readers = []
        if prometheus:
            from broker.telemetry.prometheus import Prometheus

            scrape = Prometheus()
            readers.append(scrape.reader)
        exporters: list[WithLatency] = []

        def wrap(exporter: MetricExporter) -> MetricExporter:
            exporters.append(WithLatency(exporter))
            return exporters[-1]

        provider = providers.meter_provider(self.environ, readers, wrap)
        if provider is None:
            return None
        self.meter_provider = provider
        self.metrics = BrokerMetrics(provider, store)
        for exporter in exporters:
            exporter.metrics = self.metrics
        if exporters:
            self._refresher = asyncio.create_task(
                self.metrics.refresh_every(), name="conveyor-metrics-refresh"
            )
        if scrape is None:
            return None
        scrape.attach(self.metrics)
        self._prometheus = scrape
        return scrape.part()

    def recovered(self, seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.recovery_s = seconds

    async def close(self) -> None:
        """Takes a last snapshot, flushes and stops the exporters (the end of a shutdown)."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self.metrics is not None:
            with contextlib.suppress(Exception):
                await self.metrics.refresh()
            self.metrics.close()
        if self._prometheus is not None:
            self._prometheus.close()  # type: ignore[attr-defined]
        if self.meter_provider is not None:
            self.meter_provider.shutdown()
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
