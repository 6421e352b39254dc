"""The broker's metrics: per queue depth and counters, send -> deliver latency, WAL fsyncs.

Per-queue values are not counted twice: the store counts them anyway (``QueueStats``), so
the instruments are observable ones read from a snapshot of every queue's stats. The snapshot
is taken on the event loop (the store's verbs are async) before each Prometheus scrape and
every ``REFRESH_S`` while an OTLP exporter runs; collection then only reads it. The WAL's
fsync latency and group-commit size are histograms recorded once per fsync (``WalWriter``'s
hook), never per message.

The send -> deliver latency is counted by the store into fixed buckets (one increment per
first delivery; an OpenTelemetry histogram record costs microseconds), and published as a
histogram from those counts: to Prometheus by a collector beside the OpenTelemetry one, to
OTLP by adding its points to each export (``WithLatency``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    ScopeMetrics,
)
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from broker.errors import BrokerError
from broker.store.base import DELIVER_LATENCY_BOUNDS_S, QueueStats, Store
from broker.wal.writer import WalWriter

log = logging.getLogger(__name__)

INSTRUMENTATION = "conveyor.broker"
REFRESH_S = 5.0
DESTINATION = "messaging.destination.name"
LATENCY = "conveyor.delivery.latency"
LATENCY_DESCRIPTION = "Time from a message's Send to its first delivery."
COUNTERS = (
    ("sent", "Messages stored by Send (each copy of a routed message counts once per queue)."),
    ("delivered", "Deliveries made, redeliveries included."),
    ("acked", "Messages (or copies) acknowledged."),
    ("nacked", "Negative acknowledgements."),
    ("redelivered", "Deliveries after the first attempt."),
    ("dead_lettered", "Messages moved to a dead-letter queue (or dropped without one)."),
    ("expired", "Messages whose TTL ran out."),
    ("dropped", "Messages dropped by a depth limit."),
    ("duplicates", "Sends refused as duplicates within the dedup window."),
)


class BrokerMetrics:
    """Instruments over a store, on ``provider``. ``refresh`` takes the snapshot."""

    def __init__(self, provider: MeterProvider, store: Store) -> None:
        self.store = store
        self.stats: dict[str, QueueStats] = {}
        self.recovery_s: float | None = None
        self._started = time.time()
        meter = provider.get_meter(INSTRUMENTATION)
        meter.create_observable_gauge(
            "conveyor.queue.messages",
            [self._depth],
            unit="{message}",
            description="Messages stored, by state (ready, delayed, in_flight).",
        )
        meter.create_observable_gauge(
            "conveyor.queue.oldest_message.age",
            [self._oldest],
            unit="s",
            description="Age of the oldest stored message.",
        )
        for name, description in COUNTERS:
            meter.create_observable_counter(
                f"conveyor.queue.{name}",
                [self._counter(name)],
                unit="{message}",
                description=description + " Since the server started.",
            )
        meter.create_observable_gauge(
            "conveyor.recovery.duration",
            [self._recovery],
            unit="s",
            description="How long the last start took to recover the stored state.",
        )
        self.fsync_duration = meter.create_histogram(
            "conveyor.wal.fsync.duration",
            unit="s",
            description="Duration of each fsync of the write-ahead log.",
            explicit_bucket_boundaries_advisory=[
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ],
        )  # fmt: skip
        self.fsync_records = meter.create_histogram(
            "conveyor.wal.fsync.records",
            unit="{record}",
            description="Log records made durable by one fsync (group commit).",
            explicit_bucket_boundaries_advisory=[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
        )
        WalWriter.on_sync = self._fsynced

    def _fsynced(self, seconds: float, records: int) -> None:
        self.fsync_duration.record(seconds)
        self.fsync_records.record(records)

    def close(self) -> None:
        if WalWriter.on_sync == self._fsynced:
            WalWriter.on_sync = None

    async def refresh(self) -> None:
        """Takes a snapshot of every queue's stats (a queue deleted meanwhile is skipped)."""
        stats: dict[str, QueueStats] = {}
        for config in await self.store.list_queues():
            with contextlib.suppress(BrokerError):
                stats[config.name] = await self.store.stats(config.name)
        self.stats = stats

    async def refresh_every(self, interval_s: float = REFRESH_S) -> None:
        while True:
            try:
                await self.refresh()
            except BrokerError as exc:  # a failed store: keep the last snapshot
                log.debug("metrics snapshot failed: %s", exc)
            await asyncio.sleep(interval_s)

    # -- callbacks (collection time: read the snapshot only) ------------------------------

    def _depth(self, _options: CallbackOptions) -> Iterable[Observation]:
        for queue, s in self.stats.items():
            for state, value in (("ready", s.ready), ("delayed", s.delayed)):
                yield Observation(value, {DESTINATION: queue, "conveyor.message.state": state})
            yield Observation(
                s.in_flight, {DESTINATION: queue, "conveyor.message.state": "in_flight"}
            )

    def _oldest(self, _options: CallbackOptions) -> Iterable[Observation]:
        for queue, s in self.stats.items():
            yield Observation(s.oldest_age_s, {DESTINATION: queue})

    def _counter(self, name: str) -> Any:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            for queue, s in self.stats.items():
                yield Observation(getattr(s, name), {DESTINATION: queue})

        return observe

    def _recovery(self, _options: CallbackOptions) -> Iterable[Observation]:
        if self.recovery_s is not None:
            yield Observation(self.recovery_s)

    # -- the latency histogram from the store's buckets ----------------------------------

    def latency_points(self) -> Iterator[tuple[str, Sequence[int], float]]:
        """(queue, cumulative-free bucket counts, sum) per queue whose store measures it."""
        for queue, s in self.stats.items():
            if s.deliver_latency:
                yield queue, s.deliver_latency, s.deliver_latency_sum_s

    def latency_metric(self) -> Metric:
        now = time.time_ns()
        start = int(self._started * 1e9)
        points = [
            HistogramDataPoint(
                attributes={DESTINATION: queue},
                start_time_unix_nano=start,
                time_unix_nano=now,
                count=sum(counts),
                sum=total,
                bucket_counts=list(counts),
                explicit_bounds=list(DELIVER_LATENCY_BOUNDS_S),
                min=0.0,  # not tracked: the buckets are all the store keeps
                max=0.0,
            )
            for queue, counts, total in self.latency_points()
        ]
        return Metric(
            name=LATENCY,
            description=LATENCY_DESCRIPTION,
            unit="s",
            data=Histogram(
                data_points=points, aggregation_temporality=AggregationTemporality.CUMULATIVE
            ),
        )


class WithLatency(MetricExporter):
    """An exporter that adds the latency histogram (from the store's buckets) to each batch."""

    def __init__(self, inner: MetricExporter, metrics: BrokerMetrics | None = None) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self.inner = inner
        self.metrics = metrics

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        latency = self.metrics.latency_metric() if self.metrics is not None else None
        if latency is not None and latency.data.data_points and metrics_data.resource_metrics:
            scopes = metrics_data.resource_metrics[0].scope_metrics
            # Into the broker's own scope: encoders key scopes by name, so a second one with
            # the same name would replace the first.
            for i, scope in enumerate(scopes):
                if scope.scope.name == INSTRUMENTATION:
                    scopes[i] = ScopeMetrics(  # type: ignore[index]
                        scope=scope.scope,
                        metrics=[*scope.metrics, latency],
                        schema_url=scope.schema_url,
                    )
                    break
            else:
                scopes.append(  # type: ignore[attr-defined]
                    ScopeMetrics(
                        scope=InstrumentationScope(INSTRUMENTATION),
                        metrics=[latency],
                        schema_url="",
                    )
                )
        return self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)
