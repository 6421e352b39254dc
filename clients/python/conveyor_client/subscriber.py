"""Subscribers: run a handler per message (or per batch) with acks, leases and reconnects.

``AsyncSubscriber`` (asyncio) and ``Subscriber`` (blocking, its loop on a thread) consume one
subscription over StreamingReceive, with acks, nacks and lease extensions batched on the same
stream (SPEC §10: an ack frame per message caps throughput near 6,000 msgs/s).

- A handler that returns acks its message; one that raises nacks it. ``retryable(exc)`` decides
  how: true (the default) redelivers with the queue's backoff, false dead-letters at once; either
  way the exception (``"Type: text"``) is the reason, shown on the message's dead letter. A
  handler that overruns ``handler_timeout`` counts as a retryable failure.
- ``concurrency`` handlers run at once (sync handlers in a thread pool of that size), started
  no faster than ``rate_limit`` per second if set. The server's flow-control window
  (``max_outstanding_messages`` / ``_bytes``) bounds what is buffered here.
- Leases of messages still being handled are extended before they end, by the 99th percentile
  of observed handling times clamped to ``[min_lease_extension, max_lease_extension]``, for at
  most ``max_lease_duration`` in all (then the message is let go, as a stuck handler's should).
- The stream reconnects on ``RECONNECT_CODES`` (or a clean end it did not ask for) after a
  backoff with full jitter; other errors end ``run()`` with their typed error. Acks not yet
  written when a stream breaks go out on the next one.
- ``stop(timeout)`` stops taking messages, nacks those not started, waits up to ``timeout`` for
  running handlers (then cancels and nacks them), writes the last acks and closes the stream.

Tasks owned here: the reader (``run``), one per message being handled, the lease keeper and
the ack flusher; each is named, and ``stop`` cancels and awaits what is left.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any

import grpc
from grpc import aio
from grpc.aio import EOF  # type: ignore[attr-defined]  # missing from grpc-stubs
from opentelemetry import trace

from conveyor.v1 import broker_pb2, types_pb2
from conveyor_client import _convert, _telemetry
from conveyor_client._convert import DurationLike
from conveyor_client._internal.acks import Acks, Lease
from conveyor_client._internal.backoff import Backoff
from conveyor_client._internal.loop_thread import LoopThread
from conveyor_client._internal.ratelimit import TokenBucket
from conveyor_client.async_client import AsyncClient
from conveyor_client.client import DEFAULT_TARGET
from conveyor_client.errors import ConveyorError, from_rpc_error
from conveyor_client.received import (
    BatchHandler,
    FailureHook,
    MessageHandler,
    ReceivedMessage,
    SubscriberStats,
    SuccessHook,
)

log = logging.getLogger(__name__)

RECONNECT_CODES = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.DEADLINE_EXCEEDED,
)
"""Stream errors that a new stream may not have: the server restarting, draining or
overloaded. Anything else (NOT_FOUND, INVALID_ARGUMENT, PERMISSION_DENIED, ...) will not get
better by retrying and ends ``run()``."""

MAX_REASON_CHARS = 1000
"""Longest nack or dead-letter reason sent: enough for an exception's text, without shipping a
traceback-sized string with every nack."""

ACK_BATCH_SIZE = 500
"""Acks, nacks and lease changes per stream frame before it is written at once."""
ACK_LINGER = 0.01
"""Seconds an ack waits for company before its frame is written: 10 ms turns thousands of
acks a second into a hundred frames, and is short next to any lease."""
LEASE_MARGIN = 0.25
"""Extend a lease when this fraction of it is left (at least 0.25 s, at most 5 s), so the new
lease reaches the server before the old one ends even on a slow loop."""
CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 5000),
)
"""gRPC's own reconnect backoff starts at 1 s and grows to 120 s; the subscriber has its own
backoff, so the channel's is kept short enough not to add to it."""


def retry_always(exc: BaseException) -> bool:
    """The default ``retryable``: every failure is redelivered (up to the queue's limit)."""
    return True


class AsyncSubscriber:
    """Consumes ``subscription`` of ``queue`` with ``handler`` (or ``batch_handler``).

    ``client`` may be an ``AsyncClient`` to share (not closed here) or a target address.
    Run with ``await subscriber.run()`` (returns after ``stop()``), or ``async with``.
    """

    def __init__(
        self,
        client: AsyncClient | str,
        queue: str,
        subscription: str,
        handler: MessageHandler | None = None,
        *,
        batch_handler: BatchHandler | None = None,
        filter: str = "",
        max_outstanding_messages: int = 100,
        max_outstanding_bytes: int = 0,
        concurrency: int = 10,
        rate_limit: float | None = None,
        handler_timeout: float | None = None,
        retryable: Callable[[BaseException], bool] = retry_always,
        lease: DurationLike | None = None,
        min_lease_extension: float = 10.0,
        max_lease_extension: float = 600.0,
        max_lease_duration: float = 3600.0,
        backoff: Backoff | None = None,
        on_success: SuccessHook | None = None,
        on_failure: FailureHook | None = None,
        executor: concurrent.futures.Executor | None = None,
        start: _convert.StartLike = None,
    ) -> None:
        if (handler is None) == (batch_handler is None):
            raise TypeError("give exactly one of handler and batch_handler")
        if concurrency < 1 or max_outstanding_messages < 1:
            raise ValueError("concurrency and max_outstanding_messages must be at least 1")
        if not 0 < min_lease_extension <= max_lease_extension:
            raise ValueError("need 0 < min_lease_extension <= max_lease_extension")
        self._own_client = isinstance(client, str)
        self._client = (
            AsyncClient(client, options=CHANNEL_OPTIONS) if isinstance(client, str) else client
        )
        self.queue, self.subscription = queue, subscription
        self._metric_attributes: dict[str, Any] | None = None
        self._handler, self._batch_handler = handler, batch_handler
        self._first = broker_pb2.StreamingReceiveRequest(
            queue=queue,
            subscription=subscription,
            filter=filter,
            max_outstanding_messages=max_outstanding_messages,
            max_outstanding_bytes=max_outstanding_bytes,
            lease=None if lease is None else _convert.to_duration(lease),
            **_convert.start_fields(start),
        )
        self._concurrency = asyncio.Semaphore(concurrency)
        self._bucket = None if rate_limit is None else TokenBucket(rate_limit)
        self._handler_timeout = handler_timeout
        self._retryable = retryable
        self._min_ext, self._max_ext = min_lease_extension, max_lease_extension
        self._max_lease_duration = max_lease_duration
        self._backoff = backoff or Backoff()
        self._on_success, self._on_failure = on_success, on_failure
        target = handler or batch_handler
        self._is_async = inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
            getattr(target, "__call__", None)  # noqa: B004  (async callable objects)
        )
        self._own_executor = executor is None and not self._is_async
        self._executor = executor or (
            None
            if self._is_async
            else concurrent.futures.ThreadPoolExecutor(concurrency, "conveyor-handler")
        )
        self.stats = SubscriberStats()
        self._acks = Acks()
        self._leases: dict[str, Lease] = {}
        self._leases_changed = asyncio.Event()
        self._work: set[asyncio.Task[None]] = set()
        self._started: set[asyncio.Task[None]] = set()  # handlers past the concurrency gate
        self._call: (
            aio.StreamStreamCall[
                broker_pb2.StreamingReceiveRequest, broker_pb2.StreamingReceiveResponse
            ]
            | None
        ) = None
        self._write_lock = asyncio.Lock()  # one write at a time on the call (grpc.aio rule)
        self._stopping = asyncio.Event()
        self._connected = asyncio.Event()
        self._run_task: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncSubscriber:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def start(self) -> asyncio.Task[None]:
        """Runs the subscriber in a task of its own; ``stop()`` ends it."""
        if self._run_task is None:
            self._run_task = asyncio.create_task(self.run(), name="conveyor-subscriber")
        return self._run_task

    async def wait_connected(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Waits until a stream is open (the subscription exists on the server from then)."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def run(self) -> None:
        """Receives and handles messages until ``stop()``; raises a non-retryable stream error."""
        helpers = [
            asyncio.create_task(self._keep_leases(), name="conveyor-leaser"),
            asyncio.create_task(self._flush_acks(), name="conveyor-ack-flusher"),
        ]
        retry = 0
        try:
            while not self._stopping.is_set():
                try:
                    got_any = await self._stream_once()
                except grpc.RpcError as err:
                    error = from_rpc_error(err)
                    if self._stopping.is_set():
                        break
                    if error.code not in RECONNECT_CODES:
                        raise error from err
                    log.info("conveyor stream broke (%s); reconnecting", error)
                    got_any = False
                finally:
                    self._connected.clear()
                    self._call = None
                if self._stopping.is_set():
                    break
                retry = 0 if got_any else retry + 1
                self.stats.reconnects += 1
                with contextlib.suppress(TimeoutError):
                    # The backoff, cut short by stop(): waiting is the point here.
                    await asyncio.wait_for(
                        self._stopping.wait(), self._backoff.delay(max(retry - 1, 0))
                    )
        finally:
            self._stopping.set()
            for task in helpers:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _stream_once(self) -> bool:
        """One StreamingReceive stream, until it ends; whether it delivered anything."""
        call = self._client.streaming_receive_call()
        self._call = call
        first = broker_pb2.StreamingReceiveRequest()
        first.CopyFrom(self._first)
        pending = self._acks.take()
        first.MergeFrom(pending)
        async with self._write_lock:
            try:
                await call.write(first)
            except BaseException:
                self._acks.restore(pending)
                raise
        self._connected.set()
        got_any = False
        while True:
            response = await call.read()
            if response is EOF:
                return got_any
            assert isinstance(response, broker_pb2.StreamingReceiveResponse)
            if response.failed_ack_ids:
                self.stats.failed_acks += len(response.failed_ack_ids)
                for ack_id in response.failed_ack_ids:
                    self._leases.pop(ack_id, None)
            if response.deliveries:
                got_any = True
                self._dispatch(list(response.deliveries))

    async def stop(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Stops gracefully: nacks what has not started, lets running handlers finish for up to
        ``timeout`` seconds (then cancels and nacks them), writes the last acks, closes."""
        self._stopping.set()
        for task in list(self._work):
            if task not in self._started:
                task.cancel()  # not started: nacked by its own handler of cancellation
        running = [t for t in self._work if not t.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        await self._write_pending()
        call = self._call
        if call is not None:
            with contextlib.suppress(grpc.RpcError, asyncio.InvalidStateError):
                async with self._write_lock:
                    await call.done_writing()
        elif self._acks.nack_ids:
            # No stream to close: return the messages now rather than at their lease's end.
            with contextlib.suppress(ConveyorError):
                for reason, ack_ids in self._acks.nacks_by_reason().items():
                    await self._client.nack(ack_ids, reason=reason)
        if self._run_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._run_task), 10.0)
            except TimeoutError:
                self._run_task.cancel()
            except (ConveyorError, asyncio.CancelledError):
                pass
        if self._own_client:
            await self._client.close()
        if self._own_executor and isinstance(self._executor, concurrent.futures.Executor):
            self._executor.shutdown(wait=False, cancel_futures=True)

    # --- handling -------------------------------------------------------------------------

    def _dispatch(self, deliveries: Sequence[types_pb2.Delivery]) -> None:
        now_wall, now = time.time(), time.monotonic()
        for d in deliveries:
            self.stats.received += 1
            deadline = d.lease_deadline.seconds + d.lease_deadline.nanos / 1e9
            remaining = max(0.0, deadline - now_wall) if deadline else self._min_ext
            self._leases[d.ack_id] = Lease(now + remaining, remaining, now)
        self._leases_changed.set()
        messages = [ReceivedMessage(d) for d in deliveries]
        if self._stopping.is_set():
            for m in messages:  # returned by closing the stream (see _write_pending)
                self._settle_nack(m)
            return
        units: list[list[ReceivedMessage]] = (
            [messages] if self._batch_handler is not None else [[m] for m in messages]
        )
        for unit in units:
            task = asyncio.create_task(self._process(unit), name=f"conveyor-handle-{unit[0].id}")
            self._work.add(task)
            task.add_done_callback(self._work.discard)

    async def _process(self, unit: list[ReceivedMessage]) -> None:
        task = asyncio.current_task()
        assert task is not None
        try:
            async with self._concurrency:
                if self._bucket is not None:
                    await self._bucket.acquire()
                self._started.add(task)
                started = time.monotonic()
                span = _telemetry.start_process(self.queue, self.subscription, unit)
                error_type: str | None = None
                try:
                    if span is None:
                        await self._call_handler(unit)
                    else:
                        with trace.use_span(span, record_exception=False):
                            await self._call_handler(unit)
                except asyncio.CancelledError:
                    for m in unit:
                        self._settle_nack(m)
                    raise
                except Exception as exc:  # a handler's failure is data here, whatever it is
                    self.stats.handling_seconds.add(time.monotonic() - started)
                    error_type = _telemetry.failed(span, exc)
                    if isinstance(exc, TimeoutError):
                        self.stats.timeouts += 1
                    self._settle_failure(unit, exc)
                else:
                    self.stats.handling_seconds.add(time.monotonic() - started)
                    for m in unit:
                        self._settle_ack(m)
                finally:
                    if span is not None:
                        span.end()
                    self._record_process(len(unit), error_type, started)
        except asyncio.CancelledError:
            if task not in self._started:
                for m in unit:
                    self._settle_nack(m)
        finally:
            self._started.discard(task)

    def _record_process(self, count: int, error_type: str | None, started: float) -> None:
        """The client metrics of one handler call: messages consumed, its duration."""
        attributes = self._metric_attributes
        if attributes is None:
            attributes = self._metric_attributes = _telemetry.attributes(
                "process",
                "process",
                self.queue,
                **{"messaging.destination.subscription.name": self.subscription},
            )
        _telemetry.consumed_messages.add(count, attributes)
        if error_type is not None:
            attributes = {**attributes, "error.type": error_type}
        _telemetry.process_duration.record(time.monotonic() - started, attributes)

    async def _call_handler(self, unit: list[ReceivedMessage]) -> None:
        arg: Any = unit if self._batch_handler is not None else unit[0]
        target: Callable[[Any], Awaitable[None] | None] = (
            self._batch_handler if self._batch_handler is not None else self._handler  # type: ignore[assignment]
        )
        if self._is_async:
            result = target(arg)
            assert inspect.isawaitable(result)
            await asyncio.wait_for(result, self._handler_timeout)
        else:
            loop = asyncio.get_running_loop()
            # On a timeout the thread runs on (threads cannot be stopped); its result is ignored.
            # In the caller's context, so the handler's own spans are children of its process span.
            context = contextvars.copy_context()
            await asyncio.wait_for(
                loop.run_in_executor(self._executor, context.run, target, arg),
                self._handler_timeout,
            )

    def _settle_ack(self, m: ReceivedMessage) -> None:
        self._leases.pop(m.ack_id, None)
        self._acks.ack_ids.append(m.ack_id)
        self._acks.changed.set()
        self.stats.acked += 1
        self._hook(self._on_success, m)

    def _settle_nack(self, m: ReceivedMessage, reason: str = "") -> None:
        self._leases.pop(m.ack_id, None)
        self._acks.nack(m.ack_id, reason)
        self._acks.changed.set()
        self.stats.nacked += 1

    def _settle_failure(self, unit: list[ReceivedMessage], exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]
        if self._retryable(exc):
            for m in unit:
                self._settle_nack(m, reason)
        else:
            for m in unit:
                self._leases.pop(m.ack_id, None)
            self.stats.dead_lettered += len(unit)
            task = asyncio.create_task(
                self._dead_letter([m.ack_id for m in unit], reason), name="conveyor-dead-letter"
            )
            self._work.add(task)
            task.add_done_callback(self._work.discard)
        for m in unit:
            self._hook(self._on_failure, m, exc)

    async def _dead_letter(self, ack_ids: list[str], reason: str) -> None:
        # The stream's nack has no dead-letter flag: this one goes by unary Nack.
        try:
            failed = await self._client.nack(ack_ids, dead_letter=True, reason=reason)
        except ConveyorError as err:
            log.warning("conveyor: dead-lettering %d messages failed: %s", len(ack_ids), err)
        else:
            self.stats.failed_acks += len(failed)

    def _hook(self, hook: Callable[..., None] | None, *args: Any) -> None:
        if hook is None:
            return
        try:
            hook(*args)
        except Exception:
            log.exception("conveyor: subscriber hook %r raised", hook)

    # --- acks and leases on the stream ----------------------------------------------------

    async def _flush_acks(self) -> None:
        while True:
            await self._acks.changed.wait()
            self._acks.changed.clear()
            if len(self._acks) < ACK_BATCH_SIZE:
                # Lingering lets acks share a frame; it is the batching, not a synchronisation.
                await asyncio.sleep(ACK_LINGER)
            await self._write_pending()

    async def _write_pending(self) -> None:
        """Writes what is waiting. While stopping, nacks are not written: the server would hand
        the message straight back to this stream; closing the stream returns them all at once
        (the server puts a closed stream's unacked deliveries back without delay)."""
        call = self._call
        if call is None or not len(self._acks) or not self._connected.is_set():
            return  # written as part of the next stream's first request
        nacks = not self._stopping.is_set()
        if not nacks and not self._acks.has_more_than_nacks():
            return
        async with self._write_lock:
            request = self._acks.take(nacks)
            try:
                await call.write(request)
            except (grpc.RpcError, asyncio.InvalidStateError) as err:
                log.debug("conveyor: ack frame kept for the next stream: %s", err)
                self._acks.restore(request)

    def _extension(self) -> float:
        p99 = self.stats.handling_seconds.percentile(99, self._min_ext)
        return min(max(p99, self._min_ext), self._max_ext)

    async def _keep_leases(self) -> None:
        while True:
            now = time.monotonic()
            next_due = now + 1.0
            extension = self._extension()
            for ack_id, lease in list(self._leases.items()):
                margin = min(max(LEASE_MARGIN * lease.length, 0.25), 5.0)
                if lease.deadline - margin > now:
                    next_due = min(next_due, lease.deadline - margin)
                    continue
                if now - lease.received + extension > self._max_lease_duration:
                    del self._leases[ack_id]  # held too long: let the lease end
                    continue
                lease.deadline, lease.length = now + extension, extension
                self._acks.leases[ack_id] = extension
                self.stats.lease_extensions += 1
                next_due = min(next_due, lease.deadline - min(max(0.25 * extension, 0.25), 5.0))
            if self._acks.leases:
                await self._write_pending()
            self._leases_changed.clear()
            with contextlib.suppress(TimeoutError):
                # Sleeps until the next lease is due, or a new delivery arrives.
                await asyncio.wait_for(
                    self._leases_changed.wait(), max(0.0, next_due - time.monotonic())
                )


class Subscriber:
    """``AsyncSubscriber`` for blocking code: the same arguments (``target`` is an address),
    its loop on a background thread. ``start()``, then ``stop()``; or ``with``, or
    ``run_forever()`` to block until stopped from another thread or failed."""

    def __init__(self, target: str = DEFAULT_TARGET, *args: Any, **kwargs: Any) -> None:
        self._thread = LoopThread("conveyor-subscriber")

        async def make() -> AsyncSubscriber:
            return AsyncSubscriber(target, *args, **kwargs)

        self._subscriber = self._thread.run(make())
        self._running: concurrent.futures.Future[None] | None = None

    @property
    def stats(self) -> SubscriberStats:
        return self._subscriber.stats

    def __enter__(self) -> Subscriber:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, connect_timeout: float | None = 30.0) -> None:
        """Starts receiving in the background; returns once the stream is open."""
        if self._running is None:

            async def begin() -> None:
                self._subscriber.start()

            self._thread.run(begin())
            self._running = self._thread.submit(self._subscriber_task())
            self._thread.run(self._subscriber.wait_connected(connect_timeout))

    async def _subscriber_task(self) -> None:
        assert self._subscriber._run_task is not None
        await self._subscriber._run_task

    def run_forever(self) -> None:
        """Blocks until ``stop()`` (from another thread) or a non-retryable error (raised)."""
        self.start()
        assert self._running is not None
        self._running.result()

    def stop(self, timeout: float = 30.0) -> None:
        """Stops as ``AsyncSubscriber.stop`` does, and ends the background loop."""
        try:
            self._thread.run(self._subscriber.stop(timeout))
        finally:
            self._thread.stop()
