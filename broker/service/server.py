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
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from broker import collector
from broker.config import ServerConfig
from broker.delivery.broker import Broker
from broker.errors import BrokerError
from broker.http import HttpListener, Part, health_part
from broker.service.admin_servicer import AdminServicer
from broker.service.broker_servicer import BrokerServicer, Gate
from broker.service.handlers import add_servicer
from broker.service.reflection import enable_reflection
from broker.store.base import Store
from broker.store.durable import DurableStore
from broker.store.faults import file_ops_from_env
from broker.store.memory import MemoryStore
from broker.wal import LogDamageError, UnsupportedFormatError
from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2

log = logging.getLogger(__name__)

SERVICES = (
    broker_pb2.DESCRIPTOR.services_by_name["Broker"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["Admin"].full_name,
)
MESSAGE_OVERHEAD = 64 * 1024
"""Room above the payload limit for a frame's other fields."""


def open_store(config: ServerConfig) -> Store:
    if config.store:
        from broker.store.postgres import PostgresStore

        return PostgresStore(config.store, max_payload_bytes=config.max_payload_bytes)
    if config.storage == "memory":
        return MemoryStore(max_payload_bytes=config.max_payload_bytes)
    return DurableStore(
        Path(config.data_dir),
        fsync=config.fsync,
        interval_ms=config.fsync_interval_ms,
        segment_bytes=config.segment_bytes,
        checkpoint_bytes=config.checkpoint_bytes,
        ops=file_ops_from_env(),
        max_payload_bytes=config.max_payload_bytes,
    )


async def _watch_store(store: Store, health_servicer: Any) -> None:
    """Once the store has failed nothing more can be made durable: say so to orchestrators."""
    error = await store.wait_failed()
    log.error("storage failed (%s): refusing writes; restart the server once fixed", error)
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
    config: ServerConfig, stop: asyncio.Event | None = None, store: Store | None = None
) -> None:
    """Serves until ``stop`` is set (or SIGTERM/SIGINT when it is None).

    ``store`` replaces the one ``config`` names (tests; other backends).
    """
    frame_limit = config.max_payload_bytes * min(config.max_batch_messages, 16) + MESSAGE_OVERHEAD
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", frame_limit),
            ("grpc.max_send_message_length", frame_limit),
            ("grpc.so_reuseport", 0),
        ]
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
        BrokerServicer(broker, gate, config.max_batch_messages, config.max_receive_window),
        server,
        broker_pb2.DESCRIPTOR.services_by_name["Broker"],
        keep_bytes=BrokerServicer.KEEP_BYTES,
    )
    admin_pb2_grpc.add_AdminServicer_to_server(AdminServicer(broker, gate), server)
    port = server.add_insecure_port(config.listen)
    host = config.listen.rpartition(":")[0]
    await server.start()
    stop = stop or _signal_event()
    watcher: asyncio.Task[None] | None = None
    db_watcher: asyncio.Task[None] | None = None
    http: HttpListener | None = None
    try:
        await broker.start()
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
            http = HttpListener(config.http_listen, parts)
            print(f"conveyor http on {await http.start()}", flush=True)
        print(f"conveyor listening on {host}:{port}", flush=True)
        await stop.wait()
        log.info("shutting down: draining streams")
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


def _signal_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, event.set)
    return event


def run(config: ServerConfig) -> int:
    """Blocks serving ``config`` until a signal; returns the process exit code."""
    logging.basicConfig(
        level=config.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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
