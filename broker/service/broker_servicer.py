"""``conveyor.v1.Broker``: validates requests, calls the core, converts results and errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc

from broker import convert
from broker.core import Broker, MessageInput, SendOutcome
from broker.delivery.consumer import Consumer
from broker.errors import BrokerError, InvalidArgument, Unavailable
from broker.model import Copy
from broker.service.status import code_of, to_rpc_status
from broker.status import MessageStatus
from conveyor.v1 import broker_pb2, broker_pb2_grpc, types_pb2

T = TypeVar("T")
DEFAULT_SEND_TIMEOUT_S = 30.0


class Gate:
    """Open while serving; closed while starting or draining, when new work gets UNAVAILABLE."""

    def __init__(self) -> None:
        self.open = False
        self.closed = asyncio.Event()

    def check(self) -> None:
        if not self.open:
            raise Unavailable("the broker is starting or shutting down; retry shortly")

    def close(self) -> None:
        self.open = False
        self.closed.set()


async def guarded(
    context: grpc.aio.ServicerContext[Any, Any], call: Callable[[], Awaitable[T]]
) -> T:
    """Runs ``call``; a BrokerError aborts the RPC with its status code and message."""
    try:
        return await call()
    except BrokerError as exc:
        await context.abort(code_of(exc), str(exc))
        raise  # abort raises; this keeps type checkers honest


class BrokerServicer(broker_pb2_grpc.BrokerServicer):
    def __init__(self, broker: Broker, gate: Gate, max_batch: int, max_window: int) -> None:
        self.broker = broker
        self.gate = gate
        self.max_batch = max_batch
        self.max_window = max_window

    # -- publishing ----------------------------------------------------------------------

    async def _send(
        self, queue: str, messages: Any, wait_for: int, wait_timeout: Any
    ) -> list[broker_pb2.SendResult]:
        self.gate.check()
        if len(messages) > self.max_batch:
            raise InvalidArgument(
                f"{len(messages)} messages in one request; the limit is {self.max_batch}"
            )
        if not messages:
            raise InvalidArgument("the request has no messages")
        inputs: list[MessageInput] = []
        outcomes: list[SendOutcome | None] = []
        for m in messages:
            try:
                inputs.append(convert.message_input(m))
                outcomes.append(None)
            except BrokerError as exc:
                outcomes.append(SendOutcome(error=exc))
        if wait_for not in types_pb2.WaitFor.values():
            raise InvalidArgument(f"unknown wait_for {wait_for}")
        wait = wait_for == types_pb2.WAIT_FOR_DELIVERED
        timeout_s = (
            convert.seconds(wait_timeout) if wait_timeout.ByteSize() else DEFAULT_SEND_TIMEOUT_S
        )
        done = (
            iter(await self.broker.send(queue, inputs, wait_delivered=wait, timeout_s=timeout_s))
            if inputs
            else iter(())
        )
        results = []
        for outcome in outcomes:
            o = outcome or next(done)
            result = broker_pb2.SendResult(
                message_id=o.message_id,
                duplicate=o.duplicate,
                queues=o.queues,
                message_ids=o.message_ids,
            )
            if o.error is not None:
                result.error.CopyFrom(to_rpc_status(o.error))
            results.append(result)
        return results

    async def Send(
        self, request: broker_pb2.SendRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> broker_pb2.SendResponse:
        results = await guarded(
            context,
            lambda: self._send(request.queue, request.messages, request.wait_for, request.timeout),
        )
        return broker_pb2.SendResponse(results=results)

    async def SendStream(
        self,
        request_iterator: AsyncIterator[broker_pb2.SendStreamRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[broker_pb2.SendStreamResponse]:
        async for request in request_iterator:
            results = await guarded(
                context,
                lambda r=request: self._send(  # type: ignore[misc]
                    r.queue, r.messages, r.wait_for, r.timeout
                ),
            )
            yield broker_pb2.SendStreamResponse(results=results, sequence=request.sequence)

    # -- consuming -----------------------------------------------------------------------

    def _window(self, max_messages: int) -> int:
        if max_messages > self.max_window:
            raise InvalidArgument(
                f"max_outstanding_messages {max_messages} is above the server's limit "
                f"{self.max_window}"
            )
        return max_messages

    async def _open(
        self, r: broker_pb2.ReceiveRequest | broker_pb2.StreamingReceiveRequest
    ) -> tuple[Any, Any, Consumer]:
        self.gate.check()
        lease = convert.seconds(r.lease) if r.HasField("lease") else None
        return await self.broker.open_consumer(
            r.queue,
            r.subscription,
            r.filter,
            self._window(r.max_outstanding_messages),
            r.max_outstanding_bytes,
            lease,
        )

    async def _deliveries(
        self,
        engine: Any,
        sub: Any,
        consumer: Consumer,
        has_news: Callable[[], bool] = lambda: False,
    ) -> AsyncIterator[list[types_pb2.Delivery]]:
        """Yields each batch of deliveries ready for the consumer, as its window allows, and
        an empty batch when ``has_news`` says the stream has something else to send."""
        while not consumer.closed and self.gate.open:
            consumer.wake.clear()
            taken: list[Copy] = engine.take(sub, consumer, consumer.max_messages)
            if taken:
                # The attempt is durable before the consumer sees it: a crash after this
                # counts it, so max_deliveries holds across restarts.
                await self.broker.flush()
                yield [convert.delivery(c) for c in taken]
                continue
            if has_news():
                yield []
                continue
            waiter = asyncio.ensure_future(consumer.wake.wait())
            closing = asyncio.ensure_future(self.gate.closed.wait())
            try:
                await asyncio.wait([waiter, closing], return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (waiter, closing):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def Receive(
        self, request: broker_pb2.ReceiveRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[broker_pb2.ReceiveResponse]:
        engine, sub, consumer = await guarded(context, lambda: self._open(request))
        try:
            async for batch in self._deliveries(engine, sub, consumer):
                yield broker_pb2.ReceiveResponse(deliveries=batch)
        finally:
            self.broker.close_consumer(engine, consumer)

    async def StreamingReceive(
        self,
        request_iterator: AsyncIterator[broker_pb2.StreamingReceiveRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[broker_pb2.StreamingReceiveResponse]:
        first = await anext(aiter(request_iterator), None)
        if first is None:
            return
        engine, sub, consumer = await guarded(context, lambda: self._open(first))
        failed: list[str] = []
        problem: list[BrokerError] = []

        async def settle(r: broker_pb2.StreamingReceiveRequest) -> None:
            if r.ack_ids:
                failed.extend(await self.broker.ack(r.ack_ids))
            if r.nack_ids:
                failed.extend(await self.broker.nack(r.nack_ids, None, False, ""))
            for mod in r.modify_leases:
                failed.extend(
                    await self.broker.modify_lease([mod.ack_id], convert.seconds(mod.lease))
                )
            if failed:
                consumer.wake.set()

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
                    ):
                        raise InvalidArgument(
                            "queue, subscription, filter, flow control and lease may only be set "
                            "on the first request of a StreamingReceive stream"
                        )
                    await settle(r)
            except BrokerError as exc:
                problem.append(exc)
            finally:
                consumer.closed = True
                consumer.wake.set()

        reader = asyncio.create_task(read(), name="streaming-receive-reader")
        try:
            async for batch in self._deliveries(engine, sub, consumer, lambda: bool(failed)):
                out, failed[:] = list(failed), []
                yield broker_pb2.StreamingReceiveResponse(deliveries=batch, failed_ack_ids=out)
            if failed:
                yield broker_pb2.StreamingReceiveResponse(failed_ack_ids=failed)
            if problem:
                await context.abort(code_of(problem[0]), str(problem[0]))
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            self.broker.close_consumer(engine, consumer)

    async def Pull(
        self, request: broker_pb2.PullRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> broker_pb2.PullResponse:
        async def pull() -> list[Copy]:
            self.gate.check()
            lease = convert.seconds(request.lease) if request.HasField("lease") else None
            return await self.broker.pull(
                request.queue,
                request.subscription,
                request.filter,
                request.max_messages,
                convert.seconds(request.wait),
                lease,
            )

        taken = await guarded(context, pull)
        return broker_pb2.PullResponse(deliveries=[convert.delivery(c) for c in taken])

    async def Ack(
        self, request: broker_pb2.AckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> broker_pb2.AckResponse:
        failed = await guarded(context, lambda: self.broker.ack(request.ack_ids))
        return broker_pb2.AckResponse(failed_ack_ids=failed)

    async def Nack(
        self, request: broker_pb2.NackRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> broker_pb2.NackResponse:
        delay = convert.seconds(request.delay) if request.HasField("delay") else None
        failed = await guarded(
            context,
            lambda: self.broker.nack(request.ack_ids, delay, request.dead_letter, request.reason),
        )
        return broker_pb2.NackResponse(failed_ack_ids=failed)

    async def ModifyLease(
        self, request: broker_pb2.ModifyLeaseRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> broker_pb2.ModifyLeaseResponse:
        failed = await guarded(
            context,
            lambda: self.broker.modify_lease(request.ack_ids, convert.seconds(request.lease)),
        )
        return broker_pb2.ModifyLeaseResponse(failed_ack_ids=failed)

    # -- following messages --------------------------------------------------------------

    async def GetMessageStatus(
        self,
        request: broker_pb2.GetMessageStatusRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> types_pb2.MessageStatus:
        async def get() -> types_pb2.MessageStatus:
            return convert.status(self.broker.status(request.queue, request.message_id))

        return await guarded(context, get)

    async def WatchMessage(
        self, request: broker_pb2.WatchMessageRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[types_pb2.MessageStatus]:
        async def open_watch() -> AsyncGenerator[MessageStatus, None]:
            return self.broker.watch(request.queue, request.message_id)

        updates = await guarded(context, open_watch)
        try:
            async for status in updates:
                yield convert.status(status)
        finally:
            await updates.aclose()

    async def CancelMessage(
        self, request: broker_pb2.CancelMessageRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> broker_pb2.CancelMessageResponse:
        status = await guarded(
            context, lambda: self.broker.cancel(request.queue, request.message_id)
        )
        return broker_pb2.CancelMessageResponse(status=convert.status(status))


__all__ = ["BrokerServicer", "Gate", "guarded"]
