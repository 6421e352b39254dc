"""Helpers of the PostgreSQL store's integration tests: several real servers on one
database, a client per server, and a ledger of what callers were told under load.

The ledger judges the servers only by their answers: a Send that returned OK, an Ack that
returned OK (and did not list the ack id as failed), each delivery's attempt number.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import rpc_helpers as rpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from server_helpers import ServerProcess, start_server

from conveyor.v1 import admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2


class Client:
    """Stubs over one channel to one server."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.channel = grpc.insecure_channel(address)
        self.broker = broker_pb2_grpc.BrokerStub(self.channel)
        self.admin = admin_pb2_grpc.AdminStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def health_status(self) -> int:
        req = health_pb2.HealthCheckRequest(service="")
        return self.health.Check(req, timeout=rpc.RPC_TIMEOUT).status


@contextmanager
def servers(tmp: Path, store: str, count: int = 3) -> Iterator[list[ServerProcess]]:
    """``count`` server processes sharing the database ``store``."""
    started: list[ServerProcess] = []
    try:
        for i in range(count):
            started.append(start_server(tmp / f"s{i}", store=store))
        yield started
    finally:
        for srv in started:
            srv.stop()


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent_ok: dict[str, str] = field(default_factory=dict)
    sent_unknown: set[str] = field(default_factory=set)
    seen: list[tuple[str, int, str]] = field(default_factory=list)
    acked_ok: dict[str, int] = field(default_factory=dict)
    ack_unknown: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def check(self) -> dict[str, int]:
        """No confirmed message lost, nothing made up, no acked message delivered again, and
        no (message, attempt) handed out twice."""
        assert not self.errors, self.errors[:10]
        sent = set(self.sent_ok)
        lost = sent - set(self.acked_ok) - self.ack_unknown
        assert not lost, f"{len(lost)} confirmed messages never acked, e.g. {sorted(lost)[:5]}"
        phantom = [s for s in self.seen if s[0] not in sent and s[2] not in self.sent_unknown]
        assert not phantom, f"deliveries nobody sent: {phantom[:5]}"
        pairs: dict[tuple[str, int], int] = defaultdict(int)
        for mid, attempt, _ in self.seen:
            pairs[(mid, attempt)] += 1
        twice = [k for k, n in pairs.items() if n > 1]
        assert not twice, f"(message, attempt) delivered twice: {twice[:5]}"
        again = [
            (mid, attempt, self.acked_ok[mid])
            for mid, attempt, _ in self.seen
            if mid in self.acked_ok and attempt > self.acked_ok[mid]
        ]
        assert not again, f"delivered again after an OK ack (id, attempt, acked): {again[:5]}"
        return {
            "sent": len(sent),
            "deliveries": len(self.seen),
            "redeliveries": sum(1 for _, a, _ in self.seen if a > 1),
        }


class Load:
    """Producers and consumers (threads, a channel each), spread over several servers. A
    worker whose server stops answering moves to the next one (as the SDK reconnects
    elsewhere); errors from a server while ``expect_errors`` is unset are recorded."""

    def __init__(
        self,
        addresses: list[str],
        queue: str,
        ledger: Ledger,
        *,
        producers: int = 3,
        consumers: int = 3,
        batch: int = 20,
        lease: float = 3.0,
        max_sent: int = 3000,
    ) -> None:
        self.addresses = addresses
        self.queue = queue
        self.ledger = ledger
        self.batch = batch
        self.lease = lease
        self.max_sent = max_sent
        self.stop = threading.Event()
        self.expect_errors = threading.Event()
        self.sent = 0
        self.down: set[str] = set()
        self.threads = [
            threading.Thread(target=self._produce, args=(i,), daemon=True) for i in range(producers)
        ] + [
            threading.Thread(target=self._consume, args=(i,), daemon=True) for i in range(consumers)
        ]

    def start(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def join(self, timeout: float = 60.0) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout)

    def _address(self, i: int) -> str:
        live = [a for a in self.addresses if a not in self.down] or self.addresses
        return live[i % len(live)]

    def _error(self, where: str, exc: grpc.RpcError) -> None:
        if not self.expect_errors.is_set():
            with self.ledger.lock:
                self.ledger.errors.append(f"{where}: {exc.code()} {exc.details()}")
        time.sleep(0.05)

    def _produce(self, n: int) -> None:
        i = 0
        while not self.stop.is_set() and self.sent < self.max_sent:
            client = Client(self._address(n))
            try:
                while not self.stop.is_set() and self.sent < self.max_sent:
                    payloads = [f"p{n}-{i + k}" for k in range(self.batch)]
                    i += self.batch
                    req = broker_pb2.SendRequest(
                        queue=self.queue, messages=[rpc.message(p) for p in payloads]
                    )
                    try:
                        results = client.broker.Send(req, timeout=rpc.RPC_TIMEOUT).results
                    except grpc.RpcError as exc:
                        with self.ledger.lock:
                            self.ledger.sent_unknown.update(payloads)
                        self._error(f"send via {client.address}", exc)
                        break
                    with self.ledger.lock:
                        for p, r in zip(payloads, results, strict=True):
                            if not r.HasField("error"):
                                self.ledger.sent_ok[r.message_id] = p
                        self.sent += len(payloads)
            finally:
                client.close()
            n += 1

    def _consume(self, n: int) -> None:
        while not self.stop.is_set():
            client = Client(self._address(n))
            try:
                while not self.stop.is_set():
                    try:
                        got = rpc.pull(
                            client.broker,
                            self.queue,
                            "workers",
                            max_messages=50,
                            wait=0.2,
                            lease=self.lease,
                        )
                    except grpc.RpcError as exc:
                        self._error(f"pull via {client.address}", exc)
                        break
                    with self.ledger.lock:
                        self.ledger.seen += [
                            (d.message.id, d.attempt, d.message.payload.decode()) for d in got
                        ]
                    if not got:
                        continue
                    try:
                        failed = set(rpc.ack(client.broker, [d.ack_id for d in got]))
                    except grpc.RpcError as exc:
                        with self.ledger.lock:
                            self.ledger.ack_unknown.update(d.message.id for d in got)
                        self._error(f"ack via {client.address}", exc)
                        break
                    with self.ledger.lock:
                        for d in got:
                            if d.ack_id not in failed:
                                self.ledger.acked_ok.setdefault(d.message.id, d.attempt)
            finally:
                client.close()
            n += 1


def drain(client: Client, queue: str, ledger: Ledger, timeout: float = 60.0) -> None:
    """Pulls and acks through ``client`` until the queue is empty (leases of a killed
    server's consumers must run out first)."""
    deadline = time.monotonic() + timeout
    while True:
        got = rpc.pull(client.broker, queue, "workers", max_messages=500, wait=0.3, lease=30.0)
        ledger.seen += [(d.message.id, d.attempt, d.message.payload.decode()) for d in got]
        if got:
            failed = set(rpc.ack(client.broker, [d.ack_id for d in got]))
            for d in got:
                if d.ack_id not in failed:
                    ledger.acked_ok.setdefault(d.message.id, d.attempt)
            continue
        if rpc.stats(client.admin, queue).depth == 0:
            return
        assert time.monotonic() < deadline, f"{queue} not drained: {rpc.stats(client.admin, queue)}"


AT_LEAST_ONCE = types_pb2.GUARANTEE_AT_LEAST_ONCE


class Pump:
    """Reads a server stream in a thread so a test can wait for each frame with a timeout."""

    def __init__(self, call: object) -> None:
        import queue

        self.call = call
        self.frames: queue.Queue[object] = queue.Queue()
        self.error: grpc.RpcError | None = None
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            for frame in self.call:  # type: ignore[attr-defined]
                self.frames.put(frame)
        except grpc.RpcError as exc:
            self.error = exc
        self.frames.put(None)

    def next(self, timeout: float) -> object | None:
        import queue

        try:
            return self.frames.get(timeout=timeout)
        except queue.Empty:
            return None

    def cancel(self) -> None:
        self.call.cancel()  # type: ignore[attr-defined]
