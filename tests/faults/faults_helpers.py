"""Helpers for the fault tests: gRPC clients of a real server, WAL files on disk, and a load
generator that records what the server acknowledged, so a test can check it after a crash.

The fault tests judge the server only by what it told its callers (SPEC §6): a Send that
returned OK, an Ack that returned OK, the attempt number of a delivery. They read the WAL's
files only to damage them, never to decide what should have survived.

``Client`` wraps the shared gRPC helpers of ``rpc_helpers`` around one channel's stubs.
"""

from __future__ import annotations

import random
import struct
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import rpc_helpers as rpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from server_helpers import start_server

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2

AT_LEAST_ONCE = types_pb2.GUARANTEE_AT_LEAST_ONCE


# -- protobuf values ---------------------------------------------------------------------------


def msg(payload: str | bytes, **fields: Any) -> types_pb2.Message:
    """An at-least-once Message; ``delay`` and ``ttl`` may be float seconds."""
    fields.setdefault("guarantee", AT_LEAST_ONCE)
    return rpc.message(payload, **fields)


def text(d: types_pb2.Delivery | types_pb2.Message) -> str:
    m = d.message if isinstance(d, types_pb2.Delivery) else d
    return m.payload.decode()


# -- a client of one server ------------------------------------------------------------------


class Client:
    """Stubs over one channel; a thread that needs its own channel makes its own Client."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.insecure_channel(address)
        self.broker = broker_pb2_grpc.BrokerStub(self.channel)
        self.admin = admin_pb2_grpc.AdminStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # admin

    def create_queue(self, name: str, **fields: Any) -> types_pb2.Queue:
        return rpc.create_queue(self.admin, name, **fields)

    def get_queue(self, name: str) -> types_pb2.Queue:
        return self.admin.GetQueue(
            admin_pb2.GetQueueRequest(queue=name), timeout=rpc.RPC_TIMEOUT
        ).queue

    def list_queues(self) -> list[types_pb2.Queue]:
        return list(
            self.admin.ListQueues(admin_pb2.ListQueuesRequest(), timeout=rpc.RPC_TIMEOUT).queues
        )

    def bind(self, pattern: str, queue: str) -> None:
        req = admin_pb2.CreateBindingRequest(pattern=pattern, queue=queue)
        self.admin.CreateBinding(req, timeout=rpc.RPC_TIMEOUT)

    def bindings(self, queue: str = "") -> set[tuple[str, str]]:
        req = admin_pb2.ListBindingsRequest(queue=queue)
        resp = self.admin.ListBindings(req, timeout=rpc.RPC_TIMEOUT)
        return {(b.pattern, b.queue) for b in resp.bindings}

    def subscriptions(self, queue: str) -> dict[str, str]:
        """Subscription name -> filter."""
        req = admin_pb2.ListSubscriptionsRequest(queue=queue)
        resp = self.admin.ListSubscriptions(req, timeout=rpc.RPC_TIMEOUT)
        return {s.name: s.filter for s in resp.subscriptions}

    def stats(self, queue: str) -> admin_pb2.GetQueueStatsResponse:
        return rpc.stats(self.admin, queue)

    def peek(self, queue: str, max_messages: int = 0) -> list[admin_pb2.PeekedMessage]:
        return rpc.peek(self.admin, queue, max_messages)

    def dead_letters(self, queue: str) -> list[types_pb2.Message]:
        return rpc.dead_letters(self.admin, queue)

    def health_status(self, service: str = "") -> int:
        req = health_pb2.HealthCheckRequest(service=service)
        return self.health.Check(req, timeout=rpc.RPC_TIMEOUT).status

    # data plane

    def send(
        self, queue: str, messages: Sequence[types_pb2.Message]
    ) -> list[broker_pb2.SendResult]:
        """Sends one batch; returns a result per message, accepted or not."""
        return rpc.send(self.broker, queue, *messages, expect_ok=False)

    def send_ok(self, queue: str, *messages: types_pb2.Message | str) -> list[str]:
        """Sends one batch; asserts every message was accepted; returns their ids."""
        batch = [m if isinstance(m, types_pb2.Message) else msg(m) for m in messages]
        return [r.message_id for r in rpc.send(self.broker, queue, *batch)]

    def send_topic(self, *messages: types_pb2.Message) -> list[broker_pb2.SendResult]:
        """Sends to no queue: each message is routed by its topic through the bindings."""
        return self.send("", messages)

    def pull(
        self,
        queue: str,
        sub: str = "sub",
        *,
        max_messages: int = 100,
        wait: float = 0.0,
        lease: float | None = None,
        filter_: str = "",
    ) -> list[types_pb2.Delivery]:
        return rpc.pull(
            self.broker,
            queue,
            sub,
            max_messages=max_messages,
            wait=wait,
            lease=lease,
            filter_=filter_,
        )

    def ack(self, ack_ids: Iterable[str]) -> list[str]:
        return rpc.ack(self.broker, ack_ids)

    def nack(
        self,
        ack_ids: Iterable[str],
        *,
        delay: float | None = None,
        dead_letter: bool = False,
        reason: str = "",
    ) -> list[str]:
        return rpc.nack(self.broker, ack_ids, delay=delay, dead_letter=dead_letter, reason=reason)

    def status(self, queue: str, message_id: str) -> types_pb2.MessageStatus:
        return rpc.status(self.broker, queue, message_id)

    def drain(
        self,
        queue: str,
        sub: str = "sub",
        *,
        lease: float = 30.0,
        timeout: float = 30.0,
        on_delivery: Callable[[types_pb2.Delivery], None] | None = None,
    ) -> list[types_pb2.Delivery]:
        """Pulls and acks until the queue holds nothing; returns every delivery, in order.

        Fails the test if an ack is refused or the queue is not empty within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        out: list[types_pb2.Delivery] = []
        while True:
            got = self.pull(queue, sub, max_messages=500, wait=0.2, lease=lease)
            for d in got:
                if on_delivery is not None:
                    on_delivery(d)
            out += got
            if got:
                failed = self.ack(d.ack_id for d in got)
                assert not failed, f"acks refused while draining {queue}: {failed}"
                continue
            if self.stats(queue).depth == 0:
                return out
            if time.monotonic() > deadline:
                st = self.stats(queue)
                pytest.fail(f"{queue} not drained within {timeout}s: {st}")


# -- the server's files and CLI --------------------------------------------------------------


def wal_dir(data_dir: Path) -> Path:
    return data_dir / "wal"


def segments(data_dir: Path) -> list[Path]:
    """Segment files, oldest first (names are zero-padded hex, so they sort by index)."""
    return sorted(wal_dir(data_dir).glob("*.wal"))


def snapshots(data_dir: Path) -> list[Path]:
    return sorted(wal_dir(data_dir).glob("*.snap"))


_FRAME_HEADER = struct.Struct("<III")
"""length, header CRC, CRC (broker.wal's format 2); the type byte is counted in length."""
_SEGMENT_HEADER = 16


def frames(path: Path) -> list[tuple[int, int]]:
    """``(start, end)`` of each frame of an undamaged segment, read from the length fields."""
    buf = path.read_bytes()
    out, offset = [], _SEGMENT_HEADER
    while offset + _FRAME_HEADER.size <= len(buf):
        length, _, _ = _FRAME_HEADER.unpack_from(buf, offset)
        end = offset + _FRAME_HEADER.size + length
        assert length > 0, f"{path}: zero length at {offset}"
        assert end <= len(buf), f"{path}: frame at {offset} runs past the end"
        out.append((offset, end))
        offset = end
    assert offset == len(buf), f"{path} has {len(buf) - offset} stray bytes at its end"
    return out


def conveyor_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m broker ARGS`` (the ``conveyor`` command) and captures its output."""
    return subprocess.run(
        [sys.executable, "-m", "broker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_refused(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    """``start_server`` on a data directory the server must refuse; returns the error's text."""
    try:
        srv = start_server(data_dir, *extra, env=env)
    except RuntimeError as exc:
        return str(exc)
    srv.stop()
    pytest.fail("the server started on a damaged log instead of refusing")


def serve_expecting_exit(data_dir: Path, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Runs ``conveyor serve`` on a data directory it must refuse; returns the finished process.

    If it starts serving instead, it is killed when ``timeout`` passes and the test fails.
    """
    cmd = [
        sys.executable,
        *("-m", "broker", "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir)),
    ]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"server started on a damaged log instead of refusing: {exc.stdout!r}")


# -- load with a ledger of what the server acknowledged --------------------------------------


@dataclass(frozen=True)
class Seen:
    """One delivery as a consumer saw it."""

    phase: int
    message_id: str
    attempt: int
    payload: str


@dataclass
class Ledger:
    """What callers were told, per message, across every phase (server life) of a test."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent_ok: dict[str, str] = field(default_factory=dict)
    """Message id -> payload, for every message whose Send returned OK with no error for it."""
    send_unknown: set[str] = field(default_factory=set)
    """Payloads of Sends whose RPC failed (the kill): may or may not be stored."""
    seen: list[Seen] = field(default_factory=list)
    acked_ok: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    """Message id -> (phase, attempt) of each delivery whose Ack returned OK and did not list it."""
    ack_unknown: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    """Message id -> (phase, attempt) of each delivery whose Ack RPC failed (the kill)."""
    ack_refused: list[tuple[int, str]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    """Errors while the server was alive: these fail the test."""

    def record_seen(self, phase: int, deliveries: Iterable[types_pb2.Delivery]) -> None:
        with self.lock:
            self.seen += [Seen(phase, d.message.id, d.attempt, text(d)) for d in deliveries]

    def check(self) -> dict[str, int]:
        """Asserts SPEC §6 over everything recorded; returns a few counts for the caller.

        - nothing lost: each message whose Send returned OK was acked with an OK Ack (or with
          an Ack cut off by a kill, which may have counted);
        - nothing made up: each delivery is of a message whose Send returned OK or was cut off;
        - acked stays acked: after an OK Ack of attempt n, no delivery of that message has an
          attempt above n, nor comes in a later server life;
        - attempts count across crashes: a message seen in one life and delivered again in a
          later one comes back with a higher attempt number than any seen before (its lease at
          the crash counted as an attempt); so no (message, attempt) is delivered twice.
        """
        assert not self.unexpected, "errors while the server was up:\n" + "\n".join(
            self.unexpected[:20]
        )
        sent = set(self.sent_ok)
        acked = set(self.acked_ok)
        lost = sent - acked - set(self.ack_unknown)
        assert not lost, (
            f"{len(lost)} of {len(sent)} messages whose Send returned OK were never delivered "
            f"and acked, e.g. {[(i, self.sent_ok[i]) for i in sorted(lost)[:5]]}"
        )
        phantom = [
            s for s in self.seen if s.message_id not in sent and s.payload not in self.send_unknown
        ]
        assert not phantom, f"deliveries of messages nobody sent: {phantom[:5]}"
        wrong_payload = [
            s for s in self.seen if s.message_id in sent and self.sent_ok[s.message_id] != s.payload
        ]
        assert not wrong_payload, f"payload changed: {wrong_payload[:5]}"

        by_id: dict[str, list[Seen]] = defaultdict(list)
        for s in self.seen:
            by_id[s.message_id].append(s)
        pairs: dict[tuple[str, int], int] = defaultdict(int)
        for s in self.seen:
            pairs[(s.message_id, s.attempt)] += 1
        repeated = [(k, n) for k, n in pairs.items() if n > 1]
        assert not repeated, (
            f"{len(repeated)} (message, attempt) pairs delivered more than once, e.g. "
            f"{repeated[:5]}: an attempt handed to a consumer was not counted durably"
        )

        redelivered_after_ack = []
        for mid, acks in self.acked_ok.items():
            phase, attempt = min(acks, key=lambda a: (a[0], a[1]))
            for s in by_id[mid]:
                if s.phase > phase or (s.phase == phase and s.attempt > attempt):
                    redelivered_after_ack.append((mid, (phase, attempt), (s.phase, s.attempt)))
        assert not redelivered_after_ack, (
            f"{len(redelivered_after_ack)} messages delivered again after an Ack returned OK "
            f"(id, acked (life, attempt), redelivered (life, attempt)): "
            f"{redelivered_after_ack[:5]}"
        )

        came_back = 0
        attempt_not_counted = []
        for mid, seen in by_id.items():
            for phase in sorted({s.phase for s in seen})[:-1]:
                before = max(s.attempt for s in seen if s.phase <= phase)
                later = [s for s in seen if s.phase > phase]
                first_later = min(later, key=lambda s: (s.phase, s.attempt))
                came_back += 1
                if first_later.attempt <= before:
                    attempt_not_counted.append((mid, before, first_later))
        assert not attempt_not_counted, (
            f"{len(attempt_not_counted)} messages in flight at a kill came back without their "
            f"attempt counted (id, highest attempt before, first delivery after): "
            f"{attempt_not_counted[:5]}"
        )
        return {
            "sent_ok": len(sent),
            "send_unknown_stored": len({s.message_id for s in self.seen} - sent),
            "delivered_ids": len(by_id),
            "deliveries": len(self.seen),
            "came_back_after_kill": came_back,
            "ack_unknown": len(self.ack_unknown),
            "max_attempt": max((s.attempt for s in self.seen), default=0),
        }


class Load:
    """Producers and consumers (threads, one channel each) against one server life.

    Producers Send batches of unique payloads ``L{phase}-p{n}-{i}``; consumers Pull with a
    short lease, skip acking a few deliveries (so some are in flight at any moment and their
    leases expire) and Ack the rest. Everything the server answers goes into the ledger.
    An RPC error while ``killing`` is not set is recorded as unexpected.
    """

    def __init__(
        self,
        address: str,
        queue: str,
        ledger: Ledger,
        phase: int,
        *,
        producers: int = 3,
        consumers: int = 2,
        batch: int = 25,
        lease: float = 3.0,
        skip_ack: float = 0.05,
        payload_bytes: int = 64,
        max_sent: int = 5000,
        sub: str = "workers",
    ) -> None:
        self.address = address
        self.queue = queue
        self.ledger = ledger
        self.phase = phase
        self.batch = batch
        self.lease = lease
        self.skip_ack = skip_ack
        self.pad = "x" * max(0, payload_bytes - 16)
        self.max_sent = max_sent
        self.sub = sub
        self.stop = threading.Event()
        self.killing = threading.Event()
        self.sent = 0
        self._rng = random.Random(phase)
        self.threads = [
            threading.Thread(target=self._produce, args=(i,), name=f"producer-{phase}-{i}")
            for i in range(producers)
        ] + [
            threading.Thread(target=self._consume, args=(i,), name=f"consumer-{phase}-{i}")
            for i in range(consumers)
        ]

    def start(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def join(self, timeout: float = 20.0) -> None:
        self.stop.set()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        assert not alive, f"load threads did not stop: {alive}"

    def _error(self, where: str, exc: grpc.RpcError) -> None:
        if not self.killing.is_set():
            with self.ledger.lock:
                self.ledger.unexpected.append(
                    f"life {self.phase} {where}: {exc.code()} {exc.details()}"  # type: ignore[attr-defined]
                )

    def _produce(self, n: int) -> None:
        with Client(self.address) as client:
            i = 0
            while not self.stop.is_set() and self.sent < self.max_sent:
                payloads = [f"L{self.phase}-p{n}-{i + k}-{self.pad}" for k in range(self.batch)]
                i += self.batch
                try:
                    results = client.send(self.queue, [msg(p) for p in payloads])
                except grpc.RpcError as exc:
                    with self.ledger.lock:
                        self.ledger.send_unknown.update(payloads)
                    self._error("Send", exc)
                    return
                with self.ledger.lock:
                    for p, r in zip(payloads, results, strict=True):
                        if r.HasField("error"):
                            self.ledger.unexpected.append(f"Send of {p}: {r.error}")
                        else:
                            self.ledger.sent_ok[r.message_id] = p
                    self.sent += len(payloads)

    def _consume(self, n: int) -> None:
        rng = random.Random(f"{self.phase}-{n}")
        with Client(self.address) as client:
            while not self.stop.is_set():
                try:
                    got = client.pull(
                        self.queue, self.sub, max_messages=64, wait=0.2, lease=self.lease
                    )
                except grpc.RpcError as exc:
                    self._error("Pull", exc)
                    return
                self.ledger.record_seen(self.phase, got)
                to_ack = [d for d in got if rng.random() >= self.skip_ack]
                if not to_ack:
                    continue
                if rng.random() < 0.3:
                    time.sleep(rng.uniform(0.0, 0.03))  # a slow handler: in flight for a while
                try:
                    failed = set(client.ack(d.ack_id for d in to_ack))
                except grpc.RpcError as exc:
                    with self.ledger.lock:
                        for d in to_ack:
                            self.ledger.ack_unknown[d.message.id].append((self.phase, d.attempt))
                    self._error("Ack", exc)
                    return
                with self.ledger.lock:
                    for d in to_ack:
                        if d.ack_id in failed:
                            self.ledger.ack_refused.append((self.phase, d.message.id))
                        else:
                            self.ledger.acked_ok[d.message.id].append((self.phase, d.attempt))
