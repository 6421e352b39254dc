"""``GET /metrics`` on the HTTP listener: the broker's metrics in Prometheus' text format.

The OpenTelemetry Prometheus exporter turns the instruments into ``prometheus_client``
collectors (``conveyor.queue.acked`` -> ``conveyor_queue_acked_total``, attributes -> labels);
the send -> deliver latency histogram, kept by the store as bucket counts, is one more
collector. ``prometheus_client`` renders the registry; the handler first refreshes the stats
snapshot so a scrape sees the state at that moment.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from broker.http import Part
from broker.store.base import DELIVER_LATENCY_BOUNDS_S
from broker.telemetry.metrics import DESTINATION, LATENCY, LATENCY_DESCRIPTION, BrokerMetrics

LABEL = DESTINATION.replace(".", "_")


class LatencyCollector(Collector):
    """``conveyor_delivery_latency_seconds`` from the store's bucket counts."""

    def __init__(self, metrics: BrokerMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            LATENCY.replace(".", "_") + "_seconds", LATENCY_DESCRIPTION, labels=[LABEL]
        )
        for queue, counts, total in self.metrics.latency_points():
            cumulative, buckets = 0, []
            for bound, count in zip(
                [*map(str, DELIVER_LATENCY_BOUNDS_S), "+Inf"], counts, strict=True
            ):
                cumulative += count
                buckets.append((bound, cumulative))
            family.add_metric([queue], buckets, total)
        yield family


class Prometheus:
    """The Prometheus reader, its collectors in a registry, and the route serving them."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.reader = PrometheusMetricReader()  # registers itself in the default registry
        self._latency: LatencyCollector | None = None

    def attach(self, metrics: BrokerMetrics) -> None:
        self.metrics = metrics
        self._latency = LatencyCollector(metrics)
        self.registry.register(self._latency)

    def part(self) -> Part:
        async def scrape(_request: web.Request) -> web.Response:
            await self.metrics.refresh()
            body = generate_latest(self.registry)
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

        def install(app: web.Application) -> None:
            app.router.add_get("/metrics", scrape)

        return install

    def close(self) -> None:
        if self._latency is not None:
            self.registry.unregister(self._latency)
            self._latency = None
