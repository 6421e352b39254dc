"""Metrics: ``GET /metrics`` of a real server after a known workload, and OTLP export.

The values are checked exactly where the workload fixes them (counts, depths by state, the
latency histogram's count), and by bounds where time decides them (ages, fsync durations).
"""

from __future__ import annotations

import pathlib
import threading
import time
import urllib.request
from concurrent import futures
from typing import Any

import grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from prometheus_client.parser import text_string_to_metric_families
from rpc_helpers import ack, create_queue, message, nack, pull, send
from server_helpers import ServerProcess, start_server

from conveyor.v1 import admin_pb2_grpc, broker_pb2_grpc

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: ServerProcess) -> tuple[str, Samples]:
    with urllib.request.urlopen(f"http://{server.http_address}/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        text = r.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = {k: v for k, v in s.labels.items() if not k.startswith("otel_scope")}
            samples[(s.name, frozenset(labels.items()))] = s.value
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def workload(channel: grpc.Channel) -> None:
    """jobs: 5 sent and 1 delayed; 3 pulled, 2 acked, 1 nacked; then 3 more pulled (the
    nacked one again). dl: 1 dead-lettered by nack. short: 1 expired."""
    admin = admin_pb2_grpc.AdminStub(channel)
    broker = broker_pb2_grpc.BrokerStub(channel)
    create_queue(admin, "jobs")
    create_queue(admin, "dl-dlq")
    create_queue(admin, "dl", dead_letter_queue="dl-dlq")
    create_queue(admin, "short", message_ttl=0.2)
    send(broker, "jobs", *[f"m{i}" for i in range(5)], message("later", delay=3600))
    first = pull(broker, "jobs", max_messages=3)
    assert len(first) == 3
    assert ack(broker, [d.ack_id for d in first[:2]]) == []
    assert nack(broker, [first[2].ack_id], delay=0) == []
    second = pull(broker, "jobs", max_messages=10)
    assert sorted(d.attempt for d in second) == [1, 1, 2]
    send(broker, "dl", "bad")
    [bad] = pull(broker, "dl")
    assert nack(broker, [bad.ack_id], dead_letter=True, reason="poison") == []
    send(broker, "short", "soon gone")


def test_metrics_endpoint_after_a_known_workload(tmp_path: pathlib.Path) -> None:
    server = start_server(tmp_path / "data", "--http-listen", "127.0.0.1:0")
    try:
        with grpc.insecure_channel(server.address) as channel:
            workload(channel)
        time.sleep(1.0)  # "short"'s TTL runs out
        text, samples = scrape(server)
    finally:
        server.stop()
    jobs = {"messaging_destination_name": "jobs"}
    for name, expected in {
        "conveyor_queue_sent_total": 6,
        "conveyor_queue_delivered_total": 6,
        "conveyor_queue_acked_total": 2,
        "conveyor_queue_nacked_total": 1,
        "conveyor_queue_redelivered_total": 1,
        "conveyor_queue_dead_lettered_total": 0,
    }.items():
        assert value(samples, name, **jobs) == expected, name
    for state, expected in {"ready": 0, "delayed": 1, "in_flight": 3}.items():
        got = value(samples, "conveyor_queue_messages", conveyor_message_state=state, **jobs)
        assert got == expected, state
    assert value(samples, "conveyor_queue_dead_lettered_total", messaging_destination_name="dl")
    assert value(samples, "conveyor_queue_sent_total", messaging_destination_name="dl-dlq") == 1
    assert value(samples, "conveyor_queue_expired_total", messaging_destination_name="short") == 1
    assert 0 < value(samples, "conveyor_queue_oldest_message_age_seconds", **jobs) < 60

    # send -> deliver: 5 first deliveries in jobs, 1 in dl; each well under 10 s
    assert value(samples, "conveyor_delivery_latency_seconds_count", **jobs) == 5
    assert value(samples, "conveyor_delivery_latency_seconds_bucket", le="10.0", **jobs) == 5
    assert value(samples, "conveyor_delivery_latency_seconds_bucket", le="+Inf", **jobs) == 5
    assert 0 < value(samples, "conveyor_delivery_latency_seconds_sum", **jobs) < 50

    # The log: fsyncs happened (fsync always), each covering at least one record.
    fsyncs = value(samples, "conveyor_wal_fsync_duration_seconds_count")
    assert fsyncs >= 1
    assert value(samples, "conveyor_wal_fsync_records_count") == fsyncs
    assert value(samples, "conveyor_wal_fsync_records_sum") >= fsyncs
    assert value(samples, "conveyor_recovery_duration_seconds") >= 0
    assert "# HELP conveyor_queue_acked_total" in text


class MetricsCollector(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self) -> None:
        self.metrics: dict[str, Any] = {}
        self.lock = threading.Lock()

    def Export(self, request: Any, context: Any) -> Any:
        with self.lock:
            for resource in request.resource_metrics:
                for scope in resource.scope_metrics:
                    for metric in scope.metrics:
                        self.metrics[metric.name] = metric
        return metrics_service_pb2.ExportMetricsServiceResponse()


def point_for(metric: Any, queue: str) -> Any:
    data = metric.sum if metric.HasField("sum") else metric.histogram
    for point in data.data_points:
        attributes = {a.key: a.value.string_value for a in point.attributes}
        if attributes.get("messaging.destination.name") == queue:
            return point
    return None


def test_metrics_exported_by_otlp_when_configured(tmp_path: pathlib.Path) -> None:
    collector = MetricsCollector()
    otlp = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(collector, otlp)
    port = otlp.add_insecure_port("127.0.0.1:0")
    otlp.start()
    env = {
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_METRIC_EXPORT_INTERVAL": "300",
    }
    server = start_server(tmp_path / "data", env=env)
    try:
        with grpc.insecure_channel(server.address) as channel:
            workload(channel)
        deadline = time.monotonic() + 30
        while True:
            with collector.lock:
                acked = collector.metrics.get("conveyor.queue.acked")
                latency = collector.metrics.get("conveyor.delivery.latency")
            if acked is not None and latency is not None:
                acked_point, latency_point = point_for(acked, "jobs"), point_for(latency, "jobs")
                if (acked_point and acked_point.as_int) == 2 and (
                    latency_point and latency_point.count
                ) == 5:
                    break
            assert time.monotonic() < deadline, (sorted(collector.metrics), "".join(server.output))
            time.sleep(0.1)
        assert "conveyor.wal.fsync.duration" in collector.metrics
    finally:
        server.stop()
        otlp.stop(0)
