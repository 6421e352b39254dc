"""``conveyor.v1.Broker``: checks requests, calls the delivery layer, maps errors to statuses.

Send results and delivery frames are answered as bytes (``frames``); the rest as messages.
Every ``BrokerError``, wherever it is raised - including from a stream's background reader
or its last flush - ends the RPC with its mapped status and message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc

from broker.delivery.broker import Broker
from broker.delivery.consumers import Consumer
from broker.errors import BrokerError, InvalidArgument, Unavailable
from broker.model import Guarantee
from broker.service import convert, frames, scan
from broker.service.handlers import WithBytes
from broker.service.status import code_of
from broker.store.base import NewMessage, PublishResult
from broker.telemetry.logs import event
from broker.telemetry.tracing import Tracing, failure
from conveyor.v1 import broker_pb2, types_pb2

log = logging.getLogger(__name__)
T = TypeVar("T")
Ctx = grpc.aio.ServicerContext[Any, Any]
DEFAULT_SEND_TIMEOUT_S = 30.0
_WAIT_FORS = frozenset(types_pb2.WaitFor.values())
_GUARANTEES = {int(g): g for g in Guarantee}
SEND_STREAM_PIPELINE = 64
"""Requests of one SendStream being stored at once: enough to fill several group commits,
bounded so a fast sender is held back by the stream's flow control rather than memory."""


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Marks a task's outcome as seen (its answer can no longer be sent)."""
    if not task.cancelled():
        task.exception()


class Gate:
    """Open while serving; closed while starting or draining, when new work gets UNAVAILABLE."""

    def __init__(self) -> None:
        self.open = False

    def check(self) -> None:
        if not self.open:
            raise Unavailable("the broker is starting or shutting down; retry shortly")


async def guarded(context: Ctx, call: Callable[[], Awaitable[T]]) -> T:
    """Runs ``call``; a BrokerError aborts the RPC with its status code and message."""
    try:
        return await call()
    except BrokerError as exc:
        await context.abort(code_of(exc), str(exc))
        raise  # abort raises; this keeps type checkers honest


def _lease(request: Any) -> float | None:
    return convert.seconds(request.lease) if request.HasField("lease") else None


def _nack_reasons_mismatch(r: broker_pb2.StreamingReceiveRequest) -> InvalidArgument | None:
    """The refusal of a frame whose nack_reasons do not pair up with its nack_ids: which
    reason belongs to which delivery cannot be guessed."""
    if not r.nack_reasons or len(r.nack_reasons) == len(r.nack_ids):
        return None
    return InvalidArgument(
        f"nack_reasons has {len(r.nack_reasons)} entries for {len(r.nack_ids)} nack_ids: send "
        "none, or one per nack id in the same order; this frame's nacks were not applied (its "
        "acks and lease changes were) and the stream's deliveries go back to the queue"
    )


def _stream_failed(method: str, problem: BrokerError, queue: str, subscription: str = "") -> None:
    """One line for a stream the broker ended with an error (not for a caller's cancel)."""
    code = code_of(problem).name
    log.warning(
        "%s on %s ended: %s %s",
        method,
        queue or "(topics)",
        code,
        problem,
        extra=event(
            "stream.error",
            method=method,
            queue=queue,
            subscription=subscription or None,
            code=code,
            error=str(problem),
        ),
    )


def _consumer_event(what: str, method: str, consumer: Consumer) -> None:
    """DEBUG: a consumer stream opened or closed (callers check ``isEnabledFor`` first)."""
    log.debug(
        "%s %s: %s/%s",
        method,
        what,
        consumer.queue,
        consumer.subscription,
        extra=event(
            f"stream.{what}",
            method=method,
            queue=consumer.queue,
            subscription=consumer.subscription,
        ),
    )


def _error(exc: BaseException) -> tuple[str, str]:
    name = code_of(exc).name if isinstance(exc, BrokerError) else "INTERNAL"
    return name, str(exc)


def _failure_of(result: PublishResult | BaseException) -> tuple[str, str] | None:
    if isinstance(result, BaseException):
        return _error(result)
    if result.__class__ is not str and result.error is not None:  # type: ignore[union-attr]
        return _error(result.error)  # type: ignore[union-attr]
    return None


class BrokerServicer:
    def __init__(
        self,
        broker: Broker,
        gate: Gate,
        max_batch: int,
        max_window: int,
        tracing: Tracing | None = None,
    ) -> None:
        self.broker = broker
        self.gate = gate
        self.max_batch = max_batch
        self.max_window = max_window
        self.tracing = tracing
        """None: tracing is off, and no hook below costs more than this test."""

    # -- publishing ----------------------------------------------------------------------

    async def _send(
        self,
        queue: str,
        messages: Sequence[types_pb2.Message],
        wait_for: int,
        wait: Any,
        raw: bytes,
    ) -> list[PublishResult | BaseException]:
        """``wait`` is the request's ``timeout``: how long WAIT_FOR_DELIVERED may take;
        ``raw`` the request's bytes, from which messages are kept as sent."""
        self.gate.check()
        if len(messages) > self.max_batch:
            # INVALID_ARGUMENT, not RESOURCE_EXHAUSTED: the same request can never succeed.
            raise InvalidArgument(
                f"{len(messages)} messages in one request; max_batch_messages, the server's "
                f"limit, is {self.max_batch}: split the batch"
            )
        if not messages:
            raise InvalidArgument("the request has no messages")
        if wait_for not in _WAIT_FORS:
            raise InvalidArgument(f"unknown wait_for {wait_for}")
        batch: list[NewMessage] = []
        bad: dict[int, BaseException] = {}
        plain = scan.plain
        for i, (start, end) in enumerate(scan.message_spans(raw)):
            common = plain(raw, start, end)
            if common is not None:
                topic, size, guarantee = common
                batch.append(
                    NewMessage(raw[start:end], topic, size, _GUARANTEES[guarantee])
                    if guarantee
                    else NewMessage(raw[start:end], topic, size)
                )
                continue
            try:
                batch.append(convert.message_input(messages[i]))
            except BrokerError as exc:
                bad[i] = exc.with_traceback(None)  # no frame -> bad -> exc cycle to collect
        delivered = wait_for == types_pb2.WAIT_FOR_DELIVERED
        timeout_s = convert.seconds(wait) if wait.ByteSize() else DEFAULT_SEND_TIMEOUT_S
        if self.tracing is not None and batch:
            return await self._traced_send(
                self.tracing, queue, messages, batch, bad, delivered, timeout_s
            )
        done = (
            await self.broker.send(queue, batch, wait_delivered=delivered, timeout_s=timeout_s)
            if batch
            else []
        )
        if not bad:
            return done  # type: ignore[return-value]
        stored = iter(done)
        return [bad[i] if i in bad else next(stored) for i in range(len(messages))]

    async def _traced_send(
        self,
        tracing: Tracing,
        queue: str,
        messages: Sequence[types_pb2.Message],
        batch: list[NewMessage],
        bad: dict[int, BaseException],
        delivered: bool,
        timeout_s: float,
    ) -> list[PublishResult | BaseException]:
        """``_send``'s storing, in a send span whose context each message carries."""
        span = tracing.start_send(queue, batch)
        try:
            done = await self.broker.send(
                queue, batch, wait_delivered=delivered, timeout_s=timeout_s
            )
        except BrokerError as exc:
            failure(span, *_error(exc))
            span.end()
            raise
        results: list[PublishResult | BaseException] = list(done)
        if bad:
            stored = iter(done)
            results = [bad[i] if i in bad else next(stored) for i in range(len(messages))]
        # Every message failed: so did the send (a partial failure did not). The first
        # result is nearly always a stored one, which settles it without a pass per message.
        first = _failure_of(results[0])
        if first is not None and all(_failure_of(r) for r in results):
            failure(span, *first)
        tracing.end_send(span, results)
        return results

    KEEP_BYTES = frozenset({"Send", "SendStream"})
    """Methods whose requests arrive as ``WithBytes``: their messages are kept as sent."""

    async def Send(self, request: WithBytes, context: Ctx) -> bytes:
        r: broker_pb2.SendRequest = request.message
        results = await guarded(
            context, lambda: self._send(r.queue, r.messages, r.wait_for, r.timeout, request.raw)
        )
        return frames.send_results(r.queue, results)

    async def SendStream(
        self, request_iterator: AsyncIterator[WithBytes], context: Ctx
    ) -> AsyncIterator[bytes]:
        # Requests are pipelined: each is stored while the next ones are read, so batches in
        # flight on one stream share fsyncs; answers go out in request order.
        pending: asyncio.Queue[tuple[broker_pb2.SendStreamRequest, asyncio.Task[Any]] | None]
        pending = asyncio.Queue(maxsize=SEND_STREAM_PIPELINE)

        async def read() -> None:
            try:
                async for request in request_iterator:
                    r: broker_pb2.SendStreamRequest = request.message
                    task = asyncio.ensure_future(
                        self._send(r.queue, r.messages, r.wait_for, r.timeout, request.raw)
                    )
                    await pending.put((r, task))
            finally:
                await pending.put(None)

        reader = asyncio.create_task(read(), name="send-stream-reader")
        problem: BrokerError | None = None
        try:
            while (item := await pending.get()) is not None:
                request, task = item
                try:
                    results = await task
                except BrokerError as exc:
                    problem = exc
                    break
                yield frames.send_results(request.queue, results) + (
                    frames.send_stream_sequence(request.sequence)
                )
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            while not pending.empty():  # answers nobody will read: let them finish quietly
                left = pending.get_nowait()
                if left is not None:
                    left[1].add_done_callback(_retrieve)
        if problem is not None:
            _stream_failed("SendStream", problem, "")
            await context.abort(code_of(problem), str(problem))

    # -- consuming -----------------------------------------------------------------------

    async def _open(
        self, r: broker_pb2.ReceiveRequest | broker_pb2.StreamingReceiveRequest
    ) -> Consumer:
        self.gate.check()
        if r.max_outstanding_messages > self.max_window:
            raise InvalidArgument(
                f"max_outstanding_messages {r.max_outstanding_messages} is above "
                f"max_receive_window, the server's limit of {self.max_window}"
            )
        return await self.broker.open_consumer(
            r.queue,
            r.subscription,
            r.filter,
            r.max_outstanding_messages,
            r.max_outstanding_bytes,
            _lease(r),
            start=convert.start_position(r),
        )

    async def Receive(
        self, request: broker_pb2.ReceiveRequest, context: Ctx
    ) -> AsyncIterator[bytes]:
        consumer = await guarded(context, lambda: self._open(request))
        if log.isEnabledFor(logging.DEBUG):
            _consumer_event("opened", "Receive", consumer)
        problem: BrokerError | None = None
        try:
            async for claim in self.broker.deliveries(consumer):
                if claim is not None:
                    if self.tracing is not None:
                        self.tracing.received(consumer.queue, consumer.subscription, claim)
                    yield frames.deliveries(claim, consumer.subscription)
        except BrokerError as exc:
            problem = exc
        finally:
            await self.broker.close_consumer(consumer)
            if log.isEnabledFor(logging.DEBUG):
                _consumer_event("closed", "Receive", consumer)
        if problem is not None:
            _stream_failed("Receive", problem, consumer.queue, consumer.subscription)
            await context.abort(code_of(problem), str(problem))

    async def StreamingReceive(
        self, request_iterator: AsyncIterator[broker_pb2.StreamingReceiveRequest], context: Ctx
    ) -> AsyncIterator[bytes]:
        first = await anext(aiter(request_iterator), None)
        if first is None:
            return
        consumer = await guarded(context, lambda: self._open(first))
        if log.isEnabledFor(logging.DEBUG):
            _consumer_event("opened", "StreamingReceive", consumer)
        failed: list[str] = []
        news = asyncio.Event()
        problems: list[BrokerError] = []

        async def settle(r: broker_pb2.StreamingReceiveRequest) -> None:
            bad: list[str] = []
            tracing = self.tracing
            mismatch = _nack_reasons_mismatch(r)
            if r.ack_ids:
                refused = await self.broker.ack(r.ack_ids, holder=consumer, sync=False)
                if tracing is not None:
                    tracing.settled("ack", r.ack_ids, refused, consumer.subscription)
                bad += refused
            if r.nack_ids and mismatch is None:
                refused = await (
                    self.broker.nack_each(r.nack_ids, r.nack_reasons, holder=consumer, sync=False)
                    if r.nack_reasons
                    else self.broker.nack(r.nack_ids, None, False, "", holder=consumer, sync=False)
                )
                if tracing is not None:
                    tracing.settled("nack", r.nack_ids, refused, consumer.subscription)
                bad += refused
            if r.modify_leases:
                by_lease: dict[float, list[str]] = {}
                for mod in r.modify_leases:
                    by_lease.setdefault(convert.seconds(mod.lease), []).append(mod.ack_id)
                for lease, ack_ids in by_lease.items():
                    bad += await self.broker.modify_lease(ack_ids, lease, holder=consumer)
            if bad:
                failed.extend(bad)
                news.set()
                consumer.wake.set()
            if mismatch is not None:
                raise mismatch

        async def read() -> None:
            try:
                await settle(first)
                async for r in request_iterator:
                    if (
                        r.queue
                        or r.subscription
                        or r.filter
                        or r.max_outstanding_messages
                        or r.max_outstanding_bytes
                        or r.HasField("lease")
                        or r.start_position
                        or r.HasField("start_time")
                    ):
                        raise InvalidArgument(
                            "queue, subscription, filter, flow control and lease may only be set "
                            "on the first request of a StreamingReceive stream"
                        )
                    await settle(r)
            except BrokerError as exc:
                problems.append(exc)
            finally:
                consumer.close()

        reader = asyncio.create_task(read(), name="streaming-receive-reader")
        try:
            async for claim in self.broker.deliveries(consumer, news=news):
                if claim is not None and self.tracing is not None:
                    self.tracing.received(consumer.queue, consumer.subscription, claim)
                out = frames.deliveries(claim, consumer.subscription) if claim is not None else b""
                if failed:
                    out += frames.failed_ack_ids(failed)
                    failed.clear()
                    news.clear()
                yield out
            if failed:
                yield frames.failed_ack_ids(failed)
        except BrokerError as exc:
            problems.append(exc)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await self.broker.close_consumer(consumer)
            if log.isEnabledFor(logging.DEBUG):
                _consumer_event("closed", "StreamingReceive", consumer)
        if problems:
            _stream_failed("StreamingReceive", problems[0], consumer.queue, consumer.subscription)
            await context.abort(code_of(problems[0]), str(problems[0]))

    async def Pull(self, request: broker_pb2.PullRequest, context: Ctx) -> bytes:
        async def pull() -> bytes:
            self.gate.check()
            claim = await self.broker.pull(
                request.queue,
                request.subscription,
                request.filter,
                request.max_messages,
                convert.seconds(request.wait),
                _lease(request),
                convert.start_position(request),
            )
            if self.tracing is not None:
                self.tracing.received(request.queue, request.subscription, claim)
            return frames.deliveries(claim, request.subscription)

        return await guarded(context, pull)

    async def _settle(
        self, operation: str, ack_ids: Sequence[str], call: Callable[[], Awaitable[list[str]]]
    ) -> list[str]:
        if self.tracing is None:
            return await call()
        try:
            failed = await call()
        except BrokerError as exc:
            self.tracing.settled(operation, ack_ids, [], error=_error(exc))
            raise
        self.tracing.settled(operation, ack_ids, failed)
        return failed

    async def Ack(self, request: broker_pb2.AckRequest, context: Ctx) -> broker_pb2.AckResponse:
        failed = await guarded(
            context,
            lambda: self._settle("ack", request.ack_ids, lambda: self.broker.ack(request.ack_ids)),
        )
        return broker_pb2.AckResponse(failed_ack_ids=failed)

    async def Nack(self, request: broker_pb2.NackRequest, context: Ctx) -> broker_pb2.NackResponse:
        delay = convert.seconds(request.delay) if request.HasField("delay") else None
        failed = await guarded(
            context,
            lambda: self._settle(
                "nack",
                request.ack_ids,
                lambda: self.broker.nack(
                    request.ack_ids, delay, request.dead_letter, request.reason
                ),
            ),
        )
        return broker_pb2.NackResponse(failed_ack_ids=failed)

    async def ModifyLease(
        self, request: broker_pb2.ModifyLeaseRequest, context: Ctx
    ) -> broker_pb2.ModifyLeaseResponse:
        failed = await guarded(
            context,
            lambda: self.broker.modify_lease(request.ack_ids, convert.seconds(request.lease)),
        )
        return broker_pb2.ModifyLeaseResponse(failed_ack_ids=failed)

    # -- following messages --------------------------------------------------------------

    async def GetMessageStatus(
        self, request: broker_pb2.GetMessageStatusRequest, context: Ctx
    ) -> types_pb2.MessageStatus:
        async def get() -> types_pb2.MessageStatus:
            return convert.status(await self.broker.status(request.queue, request.message_id))

        return await guarded(context, get)

    async def WatchMessage(
        self, request: broker_pb2.WatchMessageRequest, context: Ctx
    ) -> AsyncIterator[types_pb2.MessageStatus]:
        updates = self.broker.watch(request.queue, request.message_id)
        problem: BrokerError | None = None
        try:
            async for status in updates:
                yield convert.status(status)
        except BrokerError as exc:
            problem = exc
        finally:
            await updates.aclose()
        if problem is not None:
            _stream_failed("WatchMessage", problem, request.queue)
            await context.abort(code_of(problem), str(problem))

    async def CancelMessage(
        self, request: broker_pb2.CancelMessageRequest, context: Ctx
    ) -> broker_pb2.CancelMessageResponse:
        status = await guarded(
            context, lambda: self.broker.cancel(request.queue, request.message_id)
        )
        return broker_pb2.CancelMessageResponse(status=convert.status(status))


__all__ = ["BrokerServicer", "Gate", "guarded"]
