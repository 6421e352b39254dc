"""The server shell: grpc.aio server, health, reflection, signals and graceful shutdown.

Start-up order: health says NOT_SERVING, the store recovers, then the services are marked
SERVING and the ready line is printed. SIGTERM/SIGINT: health goes NOT_SERVING, new work gets
UNAVAILABLE, open streams end, in-flight calls get the grace period, the store is flushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from broker import collector
from broker.config import ServerConfig
from broker.console import console_part
from broker.delivery.broker import Broker
from broker.errors import BrokerError, InvalidArgument
from broker.http import HttpListener, Part, health_part
from broker.service.admin_servicer import AdminServicer
from broker.service.broker_servicer import BrokerServicer, Gate
from broker.service.guards import Guards
from broker.service.handlers import add_servicer
from broker.service.reflection import enable_reflection
from broker.service.spans import ServerSpans
from broker.store.at_rest import AtRest, Keyring
from broker.store.base import Store
from broker.store.durable import DurableStore
from broker.store.faults import file_ops_from_env
from broker.store.memory import MemoryStore
from broker.telemetry import logs
from broker.telemetry.setup import Telemetry
from broker.wal import LogDamageError, UnsupportedFormatError
from conveyor.v1 import admin_pb2, broker_pb2

log = logging.getLogger(__name__)

SERVICES = (
    broker_pb2.DESCRIPTOR.services_by_name["Broker"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["Admin"].full_name,
)
MESSAGE_OVERHEAD = 64 * 1024
"""Room above the payload limit for a frame's other fields."""


def _at_rest(config: ServerConfig) -> AtRest:
    try:
        keyring = Keyring.load(config.encryption_keys, config.encryption_key_file)
    except OSError as exc:
        raise InvalidArgument(f"encryption key file: {exc}") from None
    return AtRest(keyring, config.compress_above_bytes)


def open_store(config: ServerConfig) -> Store:
    if config.store:
        from broker.store.postgres import PostgresStore

        return PostgresStore(
            config.store,
            max_payload_bytes=config.max_payload_bytes,
            status_retention_s=config.status_retention_s,
            at_rest=_at_rest(config),
        )
    if config.storage == "memory":
        return MemoryStore(
            max_payload_bytes=config.max_payload_bytes,
            status_retention_s=config.status_retention_s,
            max_memory_bytes=config.max_memory,
            max_queues=config.max_queues,
        )
    return DurableStore(
        Path(config.data_dir),
        fsync=config.fsync,
        interval_ms=config.fsync_interval_ms,
        segment_bytes=config.segment_bytes,
        checkpoint_bytes=config.checkpoint_bytes,
        ops=file_ops_from_env(),
        max_payload_bytes=config.max_payload_bytes,
        at_rest=_at_rest(config),
        status_retention_s=config.status_retention_s,
        max_memory_bytes=config.max_memory,
        max_queues=config.max_queues,
    )


async def _watch_store(store: Store, health_servicer: Any) -> None:
    """Once the store has failed nothing more can be made durable: say so to orchestrators."""
    error = await store.wait_failed()
    log.error(
        "storage failed (%s): refusing writes; restart the server once fixed",
        error,
        extra=logs.event("storage.failed", error=str(error)),
    )
    for name in ("", *SERVICES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)


async def _watch_database(store: Store, health_servicer: Any) -> None:
    """A shared database comes and goes: NOT_SERVING while it is unreachable, then back."""
    available = getattr(store, "availability_changed", None)
    if available is None:
        return
    serving = True
    while True:
        serving = await available(serving)
        status = health_pb2.HealthCheckResponse
        for name in ("", *SERVICES):
            await health_servicer.set(name, status.SERVING if serving else status.NOT_SERVING)


async def serve(
    config: ServerConfig,
    stop: asyncio.Event | None = None,
    store: Store | None = None,
    telemetry: Telemetry | None = None,
) -> None:
    """Serves until ``stop`` is set (or SIGTERM/SIGINT when it is None).

    ``store`` replaces the one ``config`` names (tests; other backends); ``telemetry`` the
    one the ``OTEL_*`` environment configures.
    """
    frame_limit = config.max_payload_bytes * min(config.max_batch_messages, 16) + MESSAGE_OVERHEAD
    guards = Guards(config)
    telemetry = telemetry or Telemetry.from_env()
    tracing = telemetry.tracing
    spans = ServerSpans(tracing.tracer).wrap if tracing is not None else None
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", config.max_request_bytes or frame_limit),
            ("grpc.max_send_message_length", frame_limit),
            ("grpc.so_reuseport", 0),
        ],
        interceptors=guards.interceptors,
    )
    health_servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *SERVICES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    enable_reflection(server, (*SERVICES, health.SERVICE_NAME))
    gate = Gate()
    store = store or open_store(config)
    broker = Broker(store)
    add_servicer(
        BrokerServicer(broker, gate, config.max_batch_messages, config.max_receive_window, tracing),
        server,
        broker_pb2.DESCRIPTOR.services_by_name["Broker"],
        keep_bytes=BrokerServicer.KEEP_BYTES,
        wrap=spans,
    )
    add_servicer(
        AdminServicer(broker, gate),
        server,
        admin_pb2.DESCRIPTOR.services_by_name["Admin"],
        wrap=spans,
    )
    if guards.certificates is not None:
        port = server.add_secure_port(config.listen, guards.certificates.credentials())
    else:
        port = server.add_insecure_port(config.listen)
    host = config.listen.rpartition(":")[0]
    await server.start()
    stop = stop or _signal_event()
    guards.reload_on_sighup()
    watcher: asyncio.Task[None] | None = None
    db_watcher: asyncio.Task[None] | None = None
    http: HttpListener | None = None
    try:
        scrape = telemetry.start_metrics(store, prometheus=bool(config.http_listen))
        started = time.perf_counter()
        await broker.start()
        recovery_s = time.perf_counter() - started
        telemetry.recovered(recovery_s)
        collector.install()
        gate.open = True
        for name in ("", *SERVICES):
            await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        watcher = asyncio.create_task(
            _watch_store(store, health_servicer), name="conveyor-store-watch"
        )
        db_watcher = asyncio.create_task(
            _watch_database(store, health_servicer), name="conveyor-database-watch"
        )
        if config.http_listen:
            parts: list[Part] = [health_part(lambda: gate.open and not store.failed)]
            parts.append(
                console_part(
                    broker,
                    gate,
                    store,
                    lambda: guards.auth.authority if guards.auth else None,
                    listen_host=config.http_listen.rpartition(":")[0],
                    allowed_hosts=config.allowed_hosts(),
                )
            )
            if scrape is not None:
                parts.append(scrape)
            http = HttpListener(config.http_listen, parts)
            print(f"conveyor http on {await http.start()}", flush=True)
        print(f"conveyor listening on {host}:{port}", flush=True)
        log.info(
            "serving on %s:%d (storage %s, recovered in %.3fs)",
            host,
            port,
            config.storage,
            recovery_s,
            extra=logs.event(
                "server.started",
                listen=f"{host}:{port}",
                http=config.http_listen or None,
                storage=config.storage,
                fsync=config.fsync,
                tracing=tracing is not None,
                recovery_s=round(recovery_s, 6),
            ),
        )
        await stop.wait()
        log.info("shutting down: draining streams", extra=logs.event("server.stopping"))
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if db_watcher is not None:
            db_watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await db_watcher
        await health_servicer.enter_graceful_shutdown()
        gate.open = False
        if http is not None:
            await http.stop()
        broker.close_streams()
        await server.stop(config.shutdown_grace_s)
        await broker.stop()
        await telemetry.close()


def _signal_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, event.set)
    return event


def run(config: ServerConfig) -> int:
    """Blocks serving ``config`` until a signal; returns the process exit code."""
    logs.setup(config.log_level, config.log_format)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        runner = asyncio.run
    else:
        runner = uvloop.run
    try:
        runner(serve(config))
    except UnsupportedFormatError as exc:
        print(f"conveyor: cannot start: {exc}", file=sys.stderr)
        return 1
    except LogDamageError as exc:
        print(
            f"conveyor: cannot start: the write-ahead log is damaged: {exc}\n"
            f"  check it with:  conveyor wal verify --data-dir {config.data_dir}\n"
            f"  cut it there:   conveyor wal repair --data-dir {config.data_dir}"
            " (records after the damage are lost; copies are kept as *.broken)",
            file=sys.stderr,
        )
        return 1
    except BrokerError as exc:
        print(f"conveyor: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0
