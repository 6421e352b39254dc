"""A consumer process: open its streams, take deliveries, ack them in batches, time them.

``main`` is the entry point of a spawned process (its own uvloop loop and grpc channel). For
each stream of its ``ConsumerSpec`` it opens ``StreamingReceive`` (acks of each response go
back in one request frame on the stream) or ``Receive`` (acks of each response in one unary
``Ack``, several in flight), then waits until ``ListSubscriptions`` shows every one of its
subscriptions, so nothing published after it reports ready can miss them (a broadcast copies
a message only to the subscriptions that exist when it is sent).

Per delivery it reads only the payload header (``wire``) and the ack id: send → deliver latency
is the header's send time to the arrival of the response carrying it, on the same
``CLOCK_MONOTONIC`` as the producer's; ``(producer, sequence)`` marks the message as seen in a
byte per message, so distinct messages and duplicates are counted exactly, and the parent can
merge what several processes saw of one subscription. Runs until ``Shared.stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from broker.bench import plan, wire
from broker.bench.plan import ConsumerSpec, Shared
from broker.bench.stats import Samples
from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc

SUBSCRIBE_TIMEOUT_S = 30.0
"""Longest wait for the server to show this process's subscriptions."""
STOP_POLL_S = 0.02
DRAIN_TIMEOUT_S = 2.0
"""After the stop, how long a stream may take to end once half-closed."""
MAX_ACKS_IN_FLIGHT = 16
"""Receive mode: unary Ack calls outstanding at once per stream."""
GROW = 1 << 16


class Seen:
    """What one subscription has received in this process: a byte per (producer, sequence)."""

    def __init__(self) -> None:
        self.flags: dict[int, bytearray] = {}
        self.distinct = 0
        self.duplicates = 0


class Consumer:
    def __init__(self, spec: ConsumerSpec, shared: Shared) -> None:
        self.spec = spec
        self.w = spec.workload
        self.shared = shared
        self.seen = {s: Seen() for s, _ in spec.streams}
        self.deliver = Samples()
        self.frames = self.ack_frames = self.failed_acks = 0
        self.first_ns = self.last_ns = 0
        self.errors: list[str] = []
        self.cpu_s = 0.0
        self.closers: list[Callable[[], Awaitable[None]]] = []
        self.cancels: list[Callable[[], bool]] = []

    # -- per response --------------------------------------------------------------------

    def take(self, subscription: int, deliveries: Any) -> list[str]:
        """Records one response's deliveries; their ack ids."""
        now = time.monotonic_ns()
        seen = self.seen[subscription]
        flags_of, unpack = seen.flags, wire.HEADER.unpack_from
        add = self.deliver.add
        ack_ids = []
        run_stamp, run = 0, 0
        for d in deliveries:
            ack_ids.append(d.ack_id)
            stamp, producer, sequence = unpack(d.message.payload)
            flags = flags_of.get(producer)
            if flags is None:
                flags = flags_of[producer] = bytearray(GROW)
            if sequence >= len(flags):
                flags.extend(bytes(sequence - len(flags) + GROW))
            if flags[sequence]:
                seen.duplicates += 1
                continue
            flags[sequence] = 1
            seen.distinct += 1
            if stamp == run_stamp:
                run += 1
            else:
                if run:
                    add(now - run_stamp, run)
                run_stamp, run = stamp, 1
        if run:
            add(now - run_stamp, run)
        self.frames += 1
        if ack_ids:
            self.last_ns = now
            if not self.first_ns:
                self.first_ns = now
        self.shared.counters[self.spec.first_slot + subscription] = seen.distinct
        return ack_ids

    def _error(self, text: str) -> None:
        if len(self.errors) < 5:
            self.errors.append(text)

    # -- streams -------------------------------------------------------------------------

    def _first(self, name: str) -> dict[str, Any]:
        return {
            "queue": plan.QUEUE,
            "subscription": name,
            "max_outstanding_messages": self.w.window,
        }

    async def streaming(self, stub: Any, subscription: int, name: str) -> None:
        call = stub.StreamingReceive(metadata=self.w.metadata)
        await call.write(broker_pb2.StreamingReceiveRequest(**self._first(name)))

        async def close() -> None:
            # Half-close after the last acks: the server ends the stream, as a client's would.
            with contextlib.suppress(grpc.aio.AioRpcError, grpc.aio.UsageError):
                await call.done_writing()

        self.closers.append(close)
        self.cancels.append(call.cancel)
        while (response := await call.read()) is not plan.EOF:
            self.failed_acks += len(response.failed_ack_ids)
            ack_ids = self.take(subscription, response.deliveries)
            if ack_ids and not self.shared.stop.is_set():
                try:
                    await call.write(broker_pb2.StreamingReceiveRequest(ack_ids=ack_ids))
                except grpc.aio.UsageError:  # half-closed by the stop meanwhile
                    continue
                self.ack_frames += 1

    async def receive(self, stub: Any, subscription: int, name: str) -> None:
        call = stub.Receive(
            broker_pb2.ReceiveRequest(**self._first(name)), metadata=self.w.metadata
        )
        acks: set[asyncio.Task[None]] = set()

        async def ack(ids: list[str]) -> None:
            try:
                response = await stub.Ack(
                    broker_pb2.AckRequest(ack_ids=ids),
                    timeout=plan.RPC_TIMEOUT_S,
                    metadata=self.w.metadata,
                )
                self.failed_acks += len(response.failed_ack_ids)
            except grpc.aio.AioRpcError as exc:
                self.failed_acks += len(ids)
                self._error(f"Ack: {exc.code().name}: {exc.details()}")

        async def close() -> None:
            # No half-close on a server stream: let the last acks land, then cancel it.
            if acks:
                await asyncio.wait(acks, timeout=DRAIN_TIMEOUT_S)
            call.cancel()

        self.closers.append(close)
        self.cancels.append(call.cancel)
        try:
            async for response in call:
                ack_ids = self.take(subscription, response.deliveries)
                if ack_ids:
                    if len(acks) >= MAX_ACKS_IN_FLIGHT:
                        await asyncio.wait(acks, return_when=asyncio.FIRST_COMPLETED)
                    task = asyncio.create_task(ack(ack_ids))
                    acks.add(task)
                    task.add_done_callback(acks.discard)
                    self.ack_frames += 1
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED or not self.shared.stop.is_set():
                raise

    async def subscribed(
        self, admin: Any, names: set[str], tasks: list[asyncio.Task[None]]
    ) -> None:
        """Returns once the server lists every one of ``names``."""
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S
        while True:
            ended(tasks)
            listed = await admin.ListSubscriptions(
                admin_pb2.ListSubscriptionsRequest(queue=plan.QUEUE),
                timeout=plan.RPC_TIMEOUT_S,
                metadata=self.w.metadata,
            )
            if names <= {s.name for s in listed.subscriptions}:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"subscriptions {sorted(names)} did not appear")
            await asyncio.sleep(0.01)

    async def run(self) -> None:
        async with grpc.aio.insecure_channel(
            self.spec.address, options=list(plan.CHANNEL_OPTIONS)
        ) as channel:
            stub = broker_pb2_grpc.BrokerStub(channel)
            admin = admin_pb2_grpc.AdminStub(channel)
            body = self.streaming if self.w.consume == "streaming" else self.receive
            tasks = [
                asyncio.create_task(body(stub, s, name), name=f"bench-consume-{name}")
                for s, name in self.spec.streams
            ]
            try:
                await self.subscribed(admin, {name for _, name in self.spec.streams}, tasks)
                self.shared.ready[self.spec.ready_slot] = 1
                cpu0 = time.process_time()
                while not self.shared.stop.is_set():
                    ended(tasks)
                    await asyncio.sleep(STOP_POLL_S)
                self.cpu_s = time.process_time() - cpu0
                for close in self.closers:
                    await close()
                _, late = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT_S)
                if late:
                    self._error(f"{len(late)} streams did not end within {DRAIN_TIMEOUT_S}s")
                for task in tasks:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        self._error(f"stream: {describe(task.exception())}")
            finally:
                for cancel in self.cancels:
                    cancel()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def result(self) -> dict[str, Any]:
        return {
            "kind": "consumer",
            "index": self.spec.index,
            "subscriptions": {
                s: {
                    "distinct": seen.distinct,
                    "duplicates": seen.duplicates,
                    "flags": {p: bytes(f) for p, f in seen.flags.items()},
                }
                for s, seen in self.seen.items()
            },
            "deliver": self.deliver.to_bytes(),
            "frames": self.frames,
            "ack_frames": self.ack_frames,
            "failed_acks": self.failed_acks,
            "first_ns": self.first_ns,
            "last_ns": self.last_ns,
            "cpu_s": self.cpu_s,
            "errors": self.errors,
        }


def ended(tasks: list[asyncio.Task[None]]) -> None:
    """Raises if a stream has ended before the stop (the server closed or failed it)."""
    for task in tasks:
        if task.done():
            task.result()  # its error, if it failed
            raise RuntimeError("a receive stream ended before the benchmark stopped it")


def describe(exc: BaseException | None) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return repr(exc)


def main(spec: ConsumerSpec, shared: Shared) -> None:
    """Process entry point: run until the stop, then report (failures are reported)."""
    import uvloop

    consumer = Consumer(spec, shared)
    error = ""
    try:
        uvloop.run(consumer.run())
    except BaseException:  # reported to the parent, which decides
        error = traceback.format_exc(limit=5)
        shared.ready[spec.ready_slot] = -1
    finally:
        shared.results.put({**consumer.result(), "crash": error})
