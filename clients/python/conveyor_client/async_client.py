"""The asyncio client: ``Client``'s methods as coroutines over a ``grpc.aio`` channel.

Streaming methods are async generators; ``aclose()`` (or cancelling the task iterating one)
cancels the call. Create and use an ``AsyncClient`` inside one running event loop, since a
``grpc.aio`` channel belongs to the loop it was created in.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Sequence
from types import TracebackType
from typing import Any, TypeVar, Unpack

import grpc
from grpc import aio

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2
from conveyor_client import _convert
from conveyor_client._convert import (
    DurationLike,
    MessageFields,
    QueueConfig,
    StartLike,
    TimeLike,
)
from conveyor_client._internal.security import Pem, call_metadata, channel_credentials
from conveyor_client.client import DEFAULT_TARGET
from conveyor_client.errors import error_from_status, from_rpc_error

_Req = TypeVar("_Req")
_Resp = TypeVar("_Resp")


class AsyncClient:
    """A Conveyor client for asyncio. Use as ``async with``, or await ``close()``.

    Arguments and results are those of ``Client``; see its methods for details.
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        timeout: float | None = None,
        options: Sequence[tuple[str, Any]] = (),
        tls_ca: Pem | None = None,
        tls_cert: Pem | None = None,
        tls_key: Pem | None = None,
        token: str | None = None,
    ) -> None:
        credentials = channel_credentials(credentials, tls_ca, tls_cert, tls_key)
        self._metadata = call_metadata(token)
        if credentials is None:
            self._channel = aio.insecure_channel(target, options=list(options))
        else:
            self._channel = aio.secure_channel(target, credentials, options=list(options))
        self._broker = broker_pb2_grpc.BrokerStub(self._channel)
        self._admin = admin_pb2_grpc.AdminStub(self._channel)
        self._timeout = timeout

    async def close(self) -> None:
        """Closes the channel; calls in progress are cancelled."""
        await self._channel.close(None)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _unary(
        self, method: aio.UnaryUnaryMultiCallable[_Req, _Resp], request: _Req, wait: float = 0.0
    ) -> _Resp:
        deadline = None if self._timeout is None else self._timeout + wait
        try:
            return await method(request, timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from err

    async def _stream(
        self, method: aio.UnaryStreamMultiCallable[_Req, _Resp], request: _Req
    ) -> AsyncGenerator[_Resp, None]:
        call = method(request, metadata=self._metadata)
        try:
            async for response in call:
                yield response
        except grpc.RpcError as err:
            raise from_rpc_error(err) from err
        finally:
            # Ends the RPC when the caller stops iterating early; a no-op once it has finished.
            call.cancel()

    # --- Broker: publishing -------------------------------------------------------------------

    async def send(
        self,
        messages: Iterable[types_pb2.Message],
        queue: str = "",
        *,
        wait_for: types_pb2.WaitFor.ValueType = types_pb2.WAIT_FOR_STORED,
        # The server's WAIT_FOR_DELIVERED wait, sent in the request; not a client-side timeout.
        timeout: DurationLike | None = None,  # noqa: ASYNC109
    ) -> list[broker_pb2.SendResult]:
        """See ``Client.send``."""
        request = _convert.send_request(messages, queue, wait_for, timeout)
        wait = _convert.send_wait_seconds(wait_for, timeout)
        return list((await self._unary(self._broker.Send, request, wait)).results)

    async def publish(
        self,
        destination: str,
        payload: bytes = b"",
        *,
        by_topic: bool = False,
        wait_for: types_pb2.WaitFor.ValueType = types_pb2.WAIT_FOR_STORED,
        timeout: DurationLike | None = None,  # noqa: ASYNC109  (as in send)
        **fields: Unpack[MessageFields],
    ) -> broker_pb2.SendResult:
        """See ``Client.publish``."""
        message, queue = _convert.publish_message(destination, payload, by_topic, fields)
        (result,) = await self.send([message], queue, wait_for=wait_for, timeout=timeout)
        if result.HasField("error"):
            raise error_from_status(result.error)
        return result

    async def message_status(self, queue: str, message_id: str) -> types_pb2.MessageStatus:
        """See ``Client.message_status``."""
        request = broker_pb2.GetMessageStatusRequest(queue=queue, message_id=message_id)
        return await self._unary(self._broker.GetMessageStatus, request)

    def watch_message(
        self, queue: str, message_id: str
    ) -> AsyncGenerator[types_pb2.MessageStatus, None]:
        """See ``Client.watch_message``."""
        request = broker_pb2.WatchMessageRequest(queue=queue, message_id=message_id)
        return self._stream(self._broker.WatchMessage, request)

    async def cancel_message(self, queue: str, message_id: str) -> types_pb2.MessageStatus:
        """See ``Client.cancel_message``."""
        request = broker_pb2.CancelMessageRequest(queue=queue, message_id=message_id)
        return (await self._unary(self._broker.CancelMessage, request)).status

    # --- Broker: consuming --------------------------------------------------------------------

    async def pull(
        self,
        queue: str,
        subscription: str,
        *,
        max_messages: int = 1,
        wait: DurationLike = 0.0,
        lease: DurationLike | None = None,
        filter: str = "",
        start: StartLike = None,
    ) -> list[types_pb2.Delivery]:
        """See ``Client.pull``."""
        request = _convert.pull_request(
            queue, subscription, filter, max_messages, wait, lease, start
        )
        response = await self._unary(self._broker.Pull, request, _convert.seconds(wait))
        return list(response.deliveries)

    async def receive_batches(
        self,
        queue: str,
        subscription: str,
        *,
        filter: str = "",
        max_outstanding_messages: int = 0,
        max_outstanding_bytes: int = 0,
        lease: DurationLike | None = None,
        start: StartLike = None,
    ) -> AsyncGenerator[list[types_pb2.Delivery], None]:
        """See ``Client.receive_batches``."""
        request = _convert.receive_request(
            queue,
            subscription,
            filter,
            max_outstanding_messages,
            max_outstanding_bytes,
            lease,
            start,
        )
        stream = self._stream(self._broker.Receive, request)
        try:
            async for response in stream:
                yield list(response.deliveries)
        finally:
            await stream.aclose()

    async def receive(
        self,
        queue: str,
        subscription: str,
        *,
        filter: str = "",
        max_outstanding_messages: int = 0,
        max_outstanding_bytes: int = 0,
        lease: DurationLike | None = None,
        start: StartLike = None,
    ) -> AsyncGenerator[types_pb2.Delivery, None]:
        """See ``Client.receive``."""
        batches = self.receive_batches(
            queue,
            subscription,
            filter=filter,
            max_outstanding_messages=max_outstanding_messages,
            max_outstanding_bytes=max_outstanding_bytes,
            lease=lease,
            start=start,
        )
        try:
            async for batch in batches:
                for delivery in batch:
                    yield delivery
        finally:
            await batches.aclose()

    def streaming_receive_call(
        self,
    ) -> aio.StreamStreamCall[
        broker_pb2.StreamingReceiveRequest, broker_pb2.StreamingReceiveResponse
    ]:
        """Opens a raw StreamingReceive call: ``await call.write(request)`` (the first names the
        queue, subscription and flow control), ``await call.read()``, ``await
        call.done_writing()``. ``AsyncSubscriber`` is the helper built on it."""
        return self._broker.StreamingReceive(metadata=self._metadata)  # type: ignore[call-arg]  # stubs lack the no-iterator form

    async def ack(self, ack_ids: Iterable[str]) -> list[str]:
        """See ``Client.ack``."""
        request = broker_pb2.AckRequest(ack_ids=ack_ids)
        return list((await self._unary(self._broker.Ack, request)).failed_ack_ids)

    async def nack(
        self,
        ack_ids: Iterable[str],
        *,
        delay: DurationLike | None = None,
        dead_letter: bool = False,
        reason: str = "",
    ) -> list[str]:
        """See ``Client.nack``."""
        request = _convert.nack_request(ack_ids, delay, dead_letter, reason)
        return list((await self._unary(self._broker.Nack, request)).failed_ack_ids)

    async def modify_lease(self, ack_ids: Iterable[str], lease: DurationLike) -> list[str]:
        """See ``Client.modify_lease``."""
        request = broker_pb2.ModifyLeaseRequest(ack_ids=ack_ids, lease=_convert.to_duration(lease))
        return list((await self._unary(self._broker.ModifyLease, request)).failed_ack_ids)

    # --- Admin: queues ------------------------------------------------------------------------

    async def create_queue(self, name: str, **config: Unpack[QueueConfig]) -> types_pb2.Queue:
        """See ``Client.create_queue``."""
        request = admin_pb2.CreateQueueRequest(queue=_convert.build_queue(name, config))
        return (await self._unary(self._admin.CreateQueue, request)).queue

    async def get_queue(self, name: str) -> types_pb2.Queue:
        """See ``Client.get_queue``."""
        request = admin_pb2.GetQueueRequest(queue=name)
        return (await self._unary(self._admin.GetQueue, request)).queue

    async def list_queues(self, prefix: str = "") -> list[types_pb2.Queue]:
        """See ``Client.list_queues``."""
        request = admin_pb2.ListQueuesRequest(prefix=prefix)
        return list((await self._unary(self._admin.ListQueues, request)).queues)

    async def update_queue(self, name: str, **changes: Unpack[QueueConfig]) -> types_pb2.Queue:
        """See ``Client.update_queue``."""
        request = admin_pb2.UpdateQueueRequest(
            queue=_convert.build_queue(name, changes), update_mask=_convert.update_mask(changes)
        )
        return (await self._unary(self._admin.UpdateQueue, request)).queue

    async def delete_queue(self, name: str) -> int:
        """See ``Client.delete_queue``."""
        request = admin_pb2.DeleteQueueRequest(queue=name)
        return (await self._unary(self._admin.DeleteQueue, request)).messages_deleted

    async def purge_queue(self, name: str) -> int:
        """See ``Client.purge_queue``."""
        request = admin_pb2.PurgeQueueRequest(queue=name)
        return (await self._unary(self._admin.PurgeQueue, request)).purged

    # --- Admin: routing and subscriptions -----------------------------------------------------

    async def bind(self, pattern: str, queue: str) -> types_pb2.Binding:
        """See ``Client.bind``."""
        request = admin_pb2.CreateBindingRequest(pattern=pattern, queue=queue)
        return (await self._unary(self._admin.CreateBinding, request)).binding

    async def unbind(self, pattern: str, queue: str) -> None:
        """See ``Client.unbind``."""
        request = admin_pb2.DeleteBindingRequest(pattern=pattern, queue=queue)
        await self._unary(self._admin.DeleteBinding, request)

    async def list_bindings(self, queue: str = "") -> list[types_pb2.Binding]:
        """See ``Client.list_bindings``."""
        request = admin_pb2.ListBindingsRequest(queue=queue)
        return list((await self._unary(self._admin.ListBindings, request)).bindings)

    async def list_subscriptions(self, queue: str) -> list[types_pb2.Subscription]:
        """See ``Client.list_subscriptions``."""
        request = admin_pb2.ListSubscriptionsRequest(queue=queue)
        return list((await self._unary(self._admin.ListSubscriptions, request)).subscriptions)

    async def delete_subscription(self, queue: str, subscription: str) -> None:
        """See ``Client.delete_subscription``."""
        request = admin_pb2.DeleteSubscriptionRequest(queue=queue, subscription=subscription)
        await self._unary(self._admin.DeleteSubscription, request)

    # --- Admin: inspection and dead letters ---------------------------------------------------

    async def stats(self, queue: str) -> admin_pb2.GetQueueStatsResponse:
        """See ``Client.stats``."""
        request = admin_pb2.GetQueueStatsRequest(queue=queue)
        return await self._unary(self._admin.GetQueueStats, request)

    async def peek(self, queue: str, max_messages: int = 10) -> list[admin_pb2.PeekedMessage]:
        """See ``Client.peek``."""
        request = admin_pb2.PeekMessagesRequest(queue=queue, max_messages=max_messages)
        return list((await self._unary(self._admin.PeekMessages, request)).messages)

    async def list_dead_letters(
        self,
        queue: str,
        max_messages: int = 100,
        *,
        reason: types_pb2.DeadLetterReason.ValueType = types_pb2.DEAD_LETTER_REASON_UNSPECIFIED,
        source_queue: str = "",
        source_subscription: str = "",
    ) -> list[types_pb2.Message]:
        """See ``Client.list_dead_letters``."""
        request = admin_pb2.ListDeadLettersRequest(
            queue=queue,
            max_messages=max_messages,
            reason=reason,
            source_queue=source_queue,
            source_subscription=source_subscription,
        )
        return list((await self._unary(self._admin.ListDeadLetters, request)).messages)

    async def redrive(
        self,
        queue: str,
        *,
        destination: str = "",
        max_messages: int = 0,
        reset_attempts: bool = False,
        message_ids: Sequence[str] = (),
    ) -> admin_pb2.RedriveDeadLettersResponse:
        """See ``Client.redrive``."""
        request = admin_pb2.RedriveDeadLettersRequest(
            queue=queue,
            destination=destination,
            max_messages=max_messages,
            reset_attempts=reset_attempts,
            message_ids=list(message_ids),
        )
        return await self._unary(self._admin.RedriveDeadLetters, request)

    # --- Admin: operating queues --------------------------------------------------------------

    async def pause_queue(self, queue: str) -> bool:
        """See ``Client.pause_queue``."""
        request = admin_pb2.PauseQueueRequest(queue=queue)
        return (await self._unary(self._admin.PauseQueue, request)).changed

    async def resume_queue(self, queue: str) -> bool:
        """See ``Client.resume_queue``."""
        request = admin_pb2.ResumeQueueRequest(queue=queue)
        return (await self._unary(self._admin.ResumeQueue, request)).changed

    async def list_queue_stats(
        self, prefix: str = "", *, include_subscriptions: bool = False
    ) -> list[admin_pb2.GetQueueStatsResponse]:
        """See ``Client.list_queue_stats``."""
        request = admin_pb2.ListQueueStatsRequest(
            prefix=prefix, include_subscriptions=include_subscriptions
        )
        return list((await self._unary(self._admin.ListQueueStats, request)).queues)

    async def seek_subscription(
        self, queue: str, subscription: str, time: TimeLike
    ) -> admin_pb2.SeekSubscriptionResponse:
        """See ``Client.seek_subscription``."""
        request = admin_pb2.SeekSubscriptionRequest(
            queue=queue, subscription=subscription, time=_convert.to_timestamp(time)
        )
        return await self._unary(self._admin.SeekSubscription, request)
