"""A producer process: Send (or SendStream) batches of pre-built bytes, timing each one.

``main`` is the entry point of a spawned process: its own uvloop loop and grpc channel. Once
connected it reports ready and waits for ``Shared.start_at``; then, either

- as fast as it can: ``concurrency`` loops, each with one batch in flight, share the budget
  (``messages``) or run until ``duration_s``; every batch is stamped with the time just
  before its call;
- at a fixed rate: batch ``k`` is due at ``start + k * batch / rate`` and is stamped with that
  due time (not the time it actually went out), so a server that makes the producer fall
  behind is charged for the wait (no coordinated omission); at most ``concurrency`` batches
  are in flight, and how late each batch went out is reported (``lag``).

Send → ack latency is the stamp to the arrival of the batch's response (the server's "stored"),
counted once per message of the batch. The result is a plain dict put on ``Shared.results``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import traceback
from typing import Any

import grpc

from broker.bench import plan, wire
from broker.bench.plan import ProducerSpec, Shared
from broker.bench.stats import Samples
from conveyor.v1 import broker_pb2, types_pb2

SEND = "/conveyor.v1.Broker/Send"
SEND_STREAM = "/conveyor.v1.Broker/SendStream"
READY_TIMEOUT_S = 60.0
"""Longest wait for the channel to connect, and then for the parent's start."""
MAX_ERRORS = 5


class SendFailed(Exception):
    """A batch could not be sent (the call or its stream failed)."""


class UnarySender:
    """``Send`` with the request given as bytes and the response parsed by upb."""

    def __init__(self, channel: grpc.aio.Channel, metadata: Any = None) -> None:
        self._call = channel.unary_unary(
            SEND, request_serializer=None, response_deserializer=broker_pb2.SendResponse.FromString
        )
        self._metadata = metadata

    async def send(self, body: bytes) -> Any:
        try:
            return await self._call(body, timeout=plan.RPC_TIMEOUT_S, metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            raise SendFailed(f"{exc.code().name}: {exc.details()}") from None

    async def close(self) -> None:
        return None


class StreamSender:
    """One ``SendStream``: any number of callers may have a batch in flight on it; responses
    are matched to them by the echoed ``sequence``."""

    def __init__(self, channel: grpc.aio.Channel, metadata: Any = None) -> None:
        open_stream: Any = channel.stream_stream(
            SEND_STREAM,
            request_serializer=None,
            response_deserializer=broker_pb2.SendStreamResponse.FromString,
        )
        self._call: Any = open_stream(metadata=metadata)  # no iterator: written to with write()
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._sequence = itertools.count(1)
        self._write_lock = asyncio.Lock()  # grpc.aio allows one write at a time per call
        self._broken: str | None = None
        self._reader = asyncio.create_task(self._read(), name="bench-send-stream-reader")

    async def _read(self) -> None:
        try:
            while (response := await self._call.read()) is not plan.EOF:
                future = self._pending.pop(response.sequence, None)
                if future is not None and not future.done():
                    future.set_result(response)
            self._broken = "the server ended the stream"
        except grpc.aio.AioRpcError as exc:
            self._broken = f"{exc.code().name}: {exc.details()}"
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(SendFailed(self._broken or "stream closed"))
            self._pending.clear()

    async def send(self, body: bytes) -> Any:
        if self._broken is not None:
            raise SendFailed(self._broken)
        sequence = next(self._sequence)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = future
        try:
            async with self._write_lock:
                await self._call.write(wire.stream_request(body, sequence))
        except (grpc.aio.AioRpcError, grpc.aio.UsageError) as exc:
            self._pending.pop(sequence, None)
            raise SendFailed(f"stream write failed: {exc}") from None
        try:
            async with asyncio.timeout(plan.RPC_TIMEOUT_S):
                return await future
        except TimeoutError:
            raise SendFailed("DEADLINE_EXCEEDED: no response on the stream") from None

    async def close(self) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError, grpc.aio.UsageError):
            await self._call.done_writing()
        try:
            async with asyncio.timeout(5.0):
                await self._reader
        except TimeoutError:
            self._call.cancel()


class Producer:
    """The state of one producer process's run."""

    def __init__(self, spec: ProducerSpec, shared: Shared) -> None:
        self.spec = spec
        self.w = spec.workload
        self.shared = shared
        guarantee = (
            types_pb2.GUARANTEE_BROADCAST
            if self.w.broadcast
            else (types_pb2.GUARANTEE_AT_LEAST_ONCE)
        )
        self.guarantee = guarantee
        self.templates = {self.w.batch: self._template(self.w.batch)}
        self.remaining = spec.messages
        self.sequence = 0
        self.sent = self.failed = self.batches = 0
        self.errors: list[str] = []
        self.ack = Samples()
        self.lag = Samples()
        self.timed_out = False
        self.start_ns = self.end_ns = 0
        self.cpu_s = 0.0
        self._slot_sent = plan.producer_slot(spec.index, plan.SENT)
        self._slot_failed = plan.producer_slot(spec.index, plan.FAILED)

    def _template(self, count: int) -> wire.BatchTemplate:
        return wire.BatchTemplate(plan.QUEUE, count, self.w.payload, self.guarantee)

    def take(self) -> int:
        """Messages for the next batch (0: the budget is spent)."""
        if self.remaining is None:
            return self.w.batch
        count = min(self.w.batch, self.remaining)
        self.remaining -= count
        return count

    def render(self, count: int, stamp_ns: int) -> bytes:
        template = self.templates.get(count)
        if template is None:
            template = self.templates[count] = self._template(count)
        body = template.render(stamp_ns, self.spec.index, self.sequence)
        self.sequence += count
        return body

    async def one(
        self, sender: UnarySender | StreamSender, body: bytes, stamp: int, n: int
    ) -> bool:
        """Sends one batch and records it; False once the sender is unusable."""
        try:
            response = await sender.send(body)
        except SendFailed as exc:
            self.failed += n
            self._error(str(exc))
            self.shared.counters[self._slot_failed] = self.failed
            return False
        now = time.monotonic_ns()
        self.end_ns = max(self.end_ns, now)
        results = response.results
        bad = n - len(results) + sum(1 for r in results if r.HasField("error"))
        if bad:
            for r in results:
                if r.HasField("error"):
                    self._error(f"{r.error.code}: {r.error.message}")
                    break
            else:
                self._error(f"{len(results)} results for {n} messages")
        self.sent += n - bad
        self.failed += bad
        self.batches += 1
        self.ack.add(now - stamp, n - bad)
        counters = self.shared.counters
        counters[self._slot_sent] = self.sent
        counters[self._slot_failed] = self.failed
        return True

    def _error(self, text: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(text)

    def stopping(self, now: int, end: int | None, deadline: int) -> bool:
        if now >= deadline:
            self.timed_out = True
            return True
        return (end is not None and now >= end) or self.shared.stop.is_set()

    async def flat_out(
        self, senders: list[Any], start: int, end: int | None, deadline: int
    ) -> None:
        async def loop(sender: Any) -> None:
            while not self.stopping(time.monotonic_ns(), end, deadline):
                n = self.take()
                if n == 0:
                    return
                stamp = time.monotonic_ns()
                if not await self.one(sender, self.render(n, stamp), stamp, n):
                    return

        await asyncio.gather(
            *(loop(senders[i % len(senders)]) for i in range(max(1, self.w.concurrency)))
        )

    async def paced(
        self, senders: list[Any], rate: float, start: int, end: int | None, deadline: int
    ) -> None:
        interval_ns = self.w.batch * 1e9 / rate
        slots = asyncio.Semaphore(max(1, self.w.concurrency))
        tasks: set[asyncio.Task[bool]] = set()
        broken = False

        def finished(t: asyncio.Task[bool]) -> None:
            nonlocal broken
            tasks.discard(t)
            slots.release()
            if t.cancelled() or t.exception() is not None or not t.result():
                broken = True

        for k in itertools.count():
            due = start + int(k * interval_ns)
            if end is not None and due >= end:
                break
            now = time.monotonic_ns()
            if due > now:
                await asyncio.sleep((due - now) / 1e9)
            await slots.acquire()
            now = time.monotonic_ns()
            if broken or self.stopping(now, None, deadline):
                slots.release()
                break
            n = self.take()
            if n == 0:
                slots.release()
                break
            self.lag.add(max(0, now - due))
            body = self.render(n, due)
            task = asyncio.create_task(self.one(senders[k % len(senders)], body, due, n))
            tasks.add(task)
            task.add_done_callback(finished)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self) -> None:
        w, shared = self.w, self.shared
        async with grpc.aio.insecure_channel(
            self.spec.address, options=list(plan.CHANNEL_OPTIONS)
        ) as channel:
            await asyncio.wait_for(channel.channel_ready(), READY_TIMEOUT_S)
            senders: list[Any] = (
                [StreamSender(channel, w.metadata) for _ in range(max(1, w.streams))]
                if w.api == "stream"
                else [UnarySender(channel, w.metadata)]
            )
            try:
                shared.ready[self.spec.ready_slot] = 1
                start = await wait_for_start(shared)
                cpu0 = time.process_time()
                end = start + int(w.duration_s * 1e9) if w.duration_s is not None else None
                deadline = start + int(w.time_limit_s * 1e9)
                if self.spec.rate:
                    await self.paced(senders, self.spec.rate, start, end, deadline)
                else:
                    await self.flat_out(senders, start, end, deadline)
                self.start_ns = start
                self.cpu_s = time.process_time() - cpu0
            finally:
                for sender in senders:
                    await sender.close()

    def result(self) -> dict[str, Any]:
        return {
            "kind": "producer",
            "index": self.spec.index,
            "sent": self.sent,
            "failed": self.failed,
            "batches": self.batches,
            "errors": self.errors,
            "ack": self.ack.to_bytes(),
            "lag": self.lag.to_bytes(),
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "cpu_s": self.cpu_s,
            "timed_out": self.timed_out,
        }


async def wait_for_start(shared: Shared) -> int:
    """Waits for the parent to set ``start_at`` (every worker is ready), then until then."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not (start := int(shared.start_at.value)):
        if shared.stop.is_set() or time.monotonic() > deadline:
            raise SendFailed("the run was not started")
        await asyncio.sleep(0.002)
    delay = start - time.monotonic_ns()
    if delay > 0:
        await asyncio.sleep(delay / 1e9)
    return start


def main(spec: ProducerSpec, shared: Shared) -> None:
    """Process entry point: run, then report (a failure is reported, not raised)."""
    import uvloop

    producer = Producer(spec, shared)
    error = ""
    try:
        uvloop.run(producer.run())
    except BaseException:  # reported to the parent, which decides
        error = traceback.format_exc(limit=5)
        shared.ready[spec.ready_slot] = -1
    finally:
        shared.counters[plan.producer_slot(spec.index, plan.DONE)] = 1
        shared.results.put({**producer.result(), "crash": error})
