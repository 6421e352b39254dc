"""The client side of the benchmarks: ``grpc.aio`` publishers and a StreamingReceive consumer.

Everything runs on one uvloop event loop in the benchmark process (``run``). Publishers share a
bounded budget of messages: each takes up to ``batch`` of it per ``Send`` (AT_LEAST_ONCE,
WAIT_FOR_STORED) until it is spent or the deadline passes, and times every call. The consumer
opens one StreamingReceive stream and acks each frame's deliveries in one request frame.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2

T = TypeVar("T")

RPC_TIMEOUT_S = 60.0
"""Deadline of one Send or admin call: a stuck server fails the run instead of hanging it."""
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
]
DRAIN_TIMEOUT_S = 5.0
"""How long a finished consumer waits for its stream to close after its last acks."""
IDLE_TIMEOUT_S = 30.0
"""A consumer that receives nothing for this long gives up (publishing failed or stalled)."""


def run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs a coroutine on uvloop (asyncio where uvloop is missing), as the server does."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return asyncio.run(factory())
    result: T = uvloop.run(factory())
    return result


def channel(address: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)


async def create_queue(ch: grpc.aio.Channel, name: str) -> None:
    admin = admin_pb2_grpc.AdminStub(ch)
    await admin.CreateQueue(
        admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=name)), timeout=RPC_TIMEOUT_S
    )


def send_request(queue: str, count: int, payload: bytes) -> broker_pb2.SendRequest:
    message = types_pb2.Message(payload=payload, guarantee=types_pb2.GUARANTEE_AT_LEAST_ONCE)
    return broker_pb2.SendRequest(
        queue=queue, messages=[message] * count, wait_for=types_pb2.WAIT_FOR_STORED
    )


def payload_bytes(size: int) -> bytes:
    """Incompressible bytes, the same for every message (content does not matter here)."""
    return os.urandom(size)


@dataclass
class PublishResult:
    """What the publishers achieved: counts, wall time and per-Send latencies."""

    requested: int
    sent: int = 0
    failed: int = 0
    seconds: float = 0.0
    timed_out: bool = False
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


async def publish(
    ch: grpc.aio.Channel,
    queue: str,
    *,
    messages: int,
    batch: int,
    publishers: int,
    payload: int,
    deadline: float,
) -> PublishResult:
    """``publishers`` concurrent loops Send ``messages`` in all, ``batch`` per call, until the
    budget is spent or ``time.monotonic()`` passes ``deadline``. A failed call is recorded and
    ends its publisher (the budget it took is not retried)."""
    stub = broker_pb2_grpc.BrokerStub(ch)
    body = payload_bytes(payload)
    full = send_request(queue, batch, body)
    result = PublishResult(requested=messages)
    remaining = messages

    async def publisher() -> None:
        nonlocal remaining
        while remaining > 0:
            if time.monotonic() >= deadline:
                result.timed_out = True
                return
            count = min(batch, remaining)
            remaining -= count
            request = full if count == batch else send_request(queue, count, body)
            started = time.perf_counter()
            try:
                response = await stub.Send(request, timeout=RPC_TIMEOUT_S)
            except grpc.aio.AioRpcError as exc:
                result.failed += count
                result.errors.append(f"{exc.code().name}: {exc.details()}")
                return
            result.latencies_s.append(time.perf_counter() - started)
            bad = [r for r in response.results if r.HasField("error")]
            result.failed += len(bad)
            result.sent += count - len(bad)
            if bad:
                result.errors.append(f"{bad[0].error.code}: {bad[0].error.message}")

    started = time.perf_counter()
    await asyncio.gather(*(publisher() for _ in range(max(1, publishers))))
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class ConsumeResult:
    """What the consumer received: distinct messages, when, and each one's delivery latency
    (server ``publish_time`` to the frame's arrival; same machine, same clock)."""

    expected: int
    received: int = 0
    redelivered: int = 0
    frames: int = 0
    ack_frames: int = 0
    failed_acks: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    timed_out: bool = False
    latencies_s: list[float] = field(default_factory=list)


def fill(
    address: str,
    queue: str,
    *,
    messages: int,
    batch: int,
    publishers: int,
    payload: int,
    deadline: float,
) -> PublishResult:
    """Creates ``queue`` on the server at ``address`` and publishes into it (blocking)."""

    async def go() -> PublishResult:
        async with channel(address) as ch:
            await create_queue(ch, queue)
            return await publish(
                ch,
                queue,
                messages=messages,
                batch=batch,
                publishers=publishers,
                payload=payload,
                deadline=deadline,
            )

    return run(go)


async def consume(
    ch: grpc.aio.Channel,
    queue: str,
    *,
    messages: int,
    window: int,
    deadline: float,
    subscription: str = "bench",
    on_open: asyncio.Event | None = None,
    idle_timeout_s: float = IDLE_TIMEOUT_S,
) -> ConsumeResult:
    """Receives until ``messages`` distinct messages arrived, ``time.monotonic()`` passes
    ``deadline`` or nothing arrives for ``idle_timeout_s``; acks each response's deliveries in
    one request frame. ``on_open`` is set once the stream's first request is out."""
    stub = broker_pb2_grpc.BrokerStub(ch)
    result = ConsumeResult(expected=messages)
    outbox: asyncio.Queue[broker_pb2.StreamingReceiveRequest | None] = asyncio.Queue()
    first = broker_pb2.StreamingReceiveRequest(
        queue=queue, subscription=subscription, max_outstanding_messages=window
    )

    async def requests() -> AsyncIterator[broker_pb2.StreamingReceiveRequest]:
        yield first
        if on_open is not None:
            on_open.set()
        while (request := await outbox.get()) is not None:
            yield request

    seen: set[str] = set()
    call = stub.StreamingReceive(requests())
    responses = aiter(call)
    try:
        while len(seen) < messages:
            left = deadline - time.monotonic()
            if left <= 0:
                result.timed_out = True
                break
            try:
                response = await asyncio.wait_for(anext(responses), min(left, idle_timeout_s))
            except TimeoutError:
                result.timed_out = True
                break
            except StopAsyncIteration:
                break
            now = time.time()
            result.frames += 1
            result.failed_acks += len(response.failed_ack_ids)
            ack_ids = []
            for delivery in response.deliveries:
                ack_ids.append(delivery.ack_id)
                message = delivery.message
                if message.id in seen:
                    result.redelivered += 1
                    continue
                seen.add(message.id)
                published = message.publish_time.seconds + message.publish_time.nanos / 1e9
                result.latencies_s.append(now - published)
            if ack_ids:
                outbox.put_nowait(broker_pb2.StreamingReceiveRequest(ack_ids=ack_ids))
                result.ack_frames += 1
            if seen and not result.first_at:
                result.first_at = time.perf_counter()
        result.last_at = time.perf_counter()
        result.received = len(seen)
        outbox.put_nowait(None)  # half-close: the server ends the stream after the last acks
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT_S):
                async for _ in responses:
                    pass
        except (TimeoutError, grpc.aio.AioRpcError):
            pass
    finally:
        call.cancel()
    return result
