"""Batching publishers: ``AsyncPublisher`` (asyncio) and ``Publisher`` (blocking).

One Send per message caps a Python broker near a few thousand messages a second (SPEC §10), so
``publish`` only queues a message and returns a future; a batch is sent when it holds
``max_messages`` or ``max_bytes``, or ``linger`` seconds after its first message, whichever
comes first. Each future resolves to the message's id, or raises the typed error of
``conveyor_client.errors`` for that message alone (a batch fails per message).

Order: messages with an ``ordering_key`` are sent in ``publish`` order with at most one Send
in flight per (queue, key), so the broker sees them in order. If one fails, the key pauses:
its later messages fail with ``OrderingKeyPaused`` instead of overtaking it, until ``resume``.
Messages without a key go out in up to ``max_in_flight`` concurrent Sends.

Backpressure: at most ``max_buffered_messages`` / ``max_buffered_bytes`` may wait unsent or
unanswered; past that ``publish`` waits (the async one awaits, the blocking one blocks) until
answers make room. ``flush()`` sends everything now and waits for every answer; ``close()``
flushes, then refuses new messages with ``PublisherClosed``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import NamedTuple, Unpack

from conveyor.v1 import types_pb2
from conveyor_client import _telemetry
from conveyor_client._convert import DurationLike, MessageFields, make_message
from conveyor_client._internal.loop_thread import LoopThread
from conveyor_client.async_client import AsyncClient
from conveyor_client.client import DEFAULT_TARGET
from conveyor_client.errors import (
    ConveyorError,
    OrderingKeyPaused,
    PublisherClosed,
    error_from_status,
)


@dataclass(frozen=True)
class BatchSettings:
    """When a batch is sent, and how many may be in flight."""

    max_messages: int = 100
    """Messages per Send; 100 per call is where the broker's throughput flattens (SPEC §10)."""
    max_bytes: int = 1_000_000
    """Serialized bytes per Send, well under the server's frame limit."""
    linger: float = 0.005
    """Seconds a batch waits for company after its first message: a few ms fill batches under
    load and add little latency when idle."""
    max_in_flight: int = 8
    """Concurrent Sends for messages without an ordering key (8 callers saturate 2 cores)."""

    def __post_init__(self) -> None:
        if self.max_messages < 1 or self.max_bytes < 1 or self.max_in_flight < 1:
            raise ValueError("max_messages, max_bytes and max_in_flight must be at least 1")
        if self.linger < 0:
            raise ValueError("linger must not be negative")


class _Pending(NamedTuple):
    message: types_pb2.Message
    size: int
    future: asyncio.Future[str]


@dataclass
class _Lane:
    """Messages waiting for one (queue, ordering key); key ``None`` is the unordered lane."""

    queue: str
    key: str | None
    items: deque[_Pending] = field(default_factory=deque)
    bytes: int = 0
    timer: asyncio.TimerHandle | None = None
    in_flight: int = 0
    paused: bool = False


class AsyncPublisher:
    """Publishes to ``queue`` (empty: each message is routed by its ``topic``) in batches.

    ``client`` may be an ``AsyncClient`` to share (it is not closed by ``close()``) or a
    target address for a client of the publisher's own. Use inside one running event loop.
    """

    def __init__(
        self,
        client: AsyncClient | str = DEFAULT_TARGET,
        queue: str = "",
        *,
        batch: BatchSettings | None = None,
        max_buffered_messages: int = 10_000,
        max_buffered_bytes: int = 64 * 1024 * 1024,
        wait_for: types_pb2.WaitFor.ValueType = types_pb2.WAIT_FOR_STORED,
        timeout: DurationLike | None = None,
    ) -> None:
        self._own_client = isinstance(client, str)
        self._client = AsyncClient(client) if isinstance(client, str) else client
        self.queue = queue
        self.batch = batch or BatchSettings()
        self.max_buffered_messages = max_buffered_messages
        self.max_buffered_bytes = max_buffered_bytes
        self._wait_for = wait_for
        self._timeout = timeout
        self._lanes: dict[tuple[str, str | None], _Lane] = {}
        self._slots = asyncio.Semaphore(self.batch.max_in_flight)
        self._room = asyncio.Condition()  # guards the buffered counts for waiting publishers
        self._buffered_messages = 0
        self._buffered_bytes = 0
        self._outstanding: set[asyncio.Future[str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def __aenter__(self) -> AsyncPublisher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def buffered(self) -> tuple[int, int]:
        """Messages and bytes published but not yet answered."""
        return self._buffered_messages, self._buffered_bytes

    async def publish(
        self, payload: bytes = b"", *, queue: str | None = None, **fields: Unpack[MessageFields]
    ) -> asyncio.Future[str]:
        """Queues one message; the future resolves to its id or raises its typed error.

        Waits while the buffer is full (backpressure). ``queue`` overrides the publisher's.
        """
        if self._closed:
            raise PublisherClosed()
        message = make_message(payload, **fields)
        destination = self.queue if queue is None else queue
        _telemetry.created(destination, message)
        size = message.ByteSize()
        async with self._room:
            await self._room.wait_for(lambda: self._has_room(size) or self._closed)
            if self._closed:
                raise PublisherClosed()
            self._buffered_messages += 1
            self._buffered_bytes += size
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._outstanding.add(future)
        future.add_done_callback(lambda f: self._release(f, size))
        lane = self._lane(destination, message.ordering_key or None)
        if lane.paused:
            future.set_exception(OrderingKeyPaused(lane.key or ""))
            return future
        lane.items.append(_Pending(message, size, future))
        lane.bytes += size
        if len(lane.items) >= self.batch.max_messages or lane.bytes >= self.batch.max_bytes:
            self._cut(lane)
        elif lane.timer is None:
            lane.timer = asyncio.get_running_loop().call_later(self.batch.linger, self._cut, lane)
        return future

    def resume(self, ordering_key: str, queue: str | None = None) -> None:
        """Lets a key paused by a failure publish again."""
        lane = self._lanes.get((self.queue if queue is None else queue, ordering_key))
        if lane is not None:
            lane.paused = False

    async def flush(self) -> None:
        """Sends every queued message now and waits until each has its answer."""
        while self._outstanding:
            for lane in list(self._lanes.values()):
                self._cut(lane)
            await asyncio.gather(*list(self._outstanding), return_exceptions=True)

    async def close(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Flushes (up to ``timeout`` seconds), refuses new messages, closes an own client.

        Messages still unanswered when the timeout passes fail with ``PublisherClosed``.
        """
        if not self._closed:
            self._closed = True
            async with self._room:
                self._room.notify_all()
            try:
                await asyncio.wait_for(self.flush(), timeout)
            except TimeoutError:
                for lane in self._lanes.values():
                    self._fail_queued(lane, PublisherClosed("closed before it was sent"))
                for future in list(self._outstanding):
                    if not future.done():
                        future.set_exception(PublisherClosed("closed before it was answered"))
            for task in list(self._tasks):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._own_client:
            await self._client.close()

    # --- batching -------------------------------------------------------------------------

    def _has_room(self, size: int) -> bool:
        if self._buffered_messages == 0:
            return True  # one message larger than the byte limit still goes, alone
        return (
            self._buffered_messages < self.max_buffered_messages
            and self._buffered_bytes + size <= self.max_buffered_bytes
        )

    def _release(self, future: asyncio.Future[str], size: int) -> None:
        self._outstanding.discard(future)
        self._buffered_messages -= 1
        self._buffered_bytes -= size
        task = asyncio.ensure_future(self._notify_room())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify_room(self) -> None:
        async with self._room:
            self._room.notify_all()

    def _lane(self, queue: str, key: str | None) -> _Lane:
        lane = self._lanes.get((queue, key))
        if lane is None:
            lane = self._lanes[(queue, key)] = _Lane(queue, key)
        return lane

    def _cut(self, lane: _Lane) -> None:
        """Sends what the lane holds, in batches, as far as its ordering allows."""
        if lane.timer is not None:
            lane.timer.cancel()
            lane.timer = None
        while lane.items and not (lane.key is not None and lane.in_flight):
            batch: list[_Pending] = []
            size = 0
            while lane.items and len(batch) < self.batch.max_messages:
                if batch and size + lane.items[0].size > self.batch.max_bytes:
                    break
                item = lane.items.popleft()
                batch.append(item)
                size += item.size
            lane.bytes -= size
            lane.in_flight += 1
            task = asyncio.ensure_future(self._send(lane, batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, lane: _Lane, batch: list[_Pending]) -> None:
        messages = [p.message for p in batch]
        span = _telemetry.start_send(lane.queue, messages)
        error_type: str | None = None
        errors = 0
        try:
            async with self._slots:
                started = time.perf_counter()
                try:
                    results = await self._client.send(
                        messages,
                        lane.queue,
                        wait_for=self._wait_for,
                        timeout=self._timeout,
                    )
                except ConveyorError as err:
                    failed = True
                    error_type = _telemetry.failed(span, err)
                    errors = len(batch)
                    for p in batch:
                        if not p.future.done():
                            p.future.set_exception(err)
                else:
                    failed = False
                    for p, result in zip(batch, results, strict=True):
                        if result.HasField("error"):
                            errors += 1
                        if p.future.done():
                            continue
                        if result.HasField("error"):
                            failed = True
                            p.future.set_exception(error_from_status(result.error))
                        else:
                            p.future.set_result(result.message_id)
                self._record_send(lane.queue, len(batch), errors, error_type, started)
        finally:
            lane.in_flight -= 1
            if span is not None:
                span.end()
        if lane.key is not None:
            if failed:
                lane.paused = True
                self._fail_queued(lane, OrderingKeyPaused(lane.key))
            self._cut(lane)  # the key's next batch waited for this one

    @staticmethod
    def _record_send(
        queue: str, count: int, errors: int, error_type: str | None, started: float
    ) -> None:
        """The client metrics of one Send: its duration, and messages sent (by outcome)."""
        done = _telemetry.attributes("send", "send", queue, **{"error.type": error_type})
        _telemetry.operation_duration.record(time.perf_counter() - started, done)
        if count - errors:
            _telemetry.sent_messages.add(
                count - errors, _telemetry.attributes("send", "send", queue)
            )
        if errors:
            failed = _telemetry.attributes(
                "send", "send", queue, **{"error.type": error_type or "SendResultError"}
            )
            _telemetry.sent_messages.add(errors, failed)

    def _fail_queued(self, lane: _Lane, error: ConveyorError) -> None:
        while lane.items:
            item = lane.items.popleft()
            if not item.future.done():
                item.future.set_exception(error)
        lane.bytes = 0


class Publisher:
    """``AsyncPublisher`` for blocking code: ``publish`` returns a ``concurrent.futures``
    future. Its event loop runs on a background thread of its own; thread-safe."""

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        queue: str = "",
        *,
        batch: BatchSettings | None = None,
        max_buffered_messages: int = 10_000,
        max_buffered_bytes: int = 64 * 1024 * 1024,
        wait_for: types_pb2.WaitFor.ValueType = types_pb2.WAIT_FOR_STORED,
        timeout: DurationLike | None = None,
    ) -> None:
        self._thread = LoopThread("conveyor-publisher")

        async def make() -> AsyncPublisher:
            return AsyncPublisher(
                target,
                queue,
                batch=batch,
                max_buffered_messages=max_buffered_messages,
                max_buffered_bytes=max_buffered_bytes,
                wait_for=wait_for,
                timeout=timeout,
            )

        self._publisher = self._thread.run(make())
        self._closed = False

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def publish(
        self, payload: bytes = b"", *, queue: str | None = None, **fields: Unpack[MessageFields]
    ) -> concurrent.futures.Future[str]:
        """Queues one message (blocking while the buffer is full); see ``AsyncPublisher``."""
        if self._closed:
            raise PublisherClosed()
        accepted = self._thread.run(self._publisher.publish(payload, queue=queue, **fields))

        async def answer() -> str:
            return await accepted

        return self._thread.submit(answer())

    def resume(self, ordering_key: str, queue: str | None = None) -> None:
        """Lets a paused ordering key publish again."""
        self._thread.loop.call_soon_threadsafe(self._publisher.resume, ordering_key, queue)

    def flush(self, timeout: float | None = None) -> None:
        """Sends everything now and blocks until every message has its answer."""
        self._thread.run(self._publisher.flush(), timeout)

    def close(self, timeout: float | None = None) -> None:
        """Flushes, refuses new messages, closes the connection and the background loop."""
        if self._closed:
            return
        self._closed = True
        try:
            self._thread.run(self._publisher.close(timeout))
        finally:
            self._thread.stop()
