"""The synchronous client: one gRPC channel, every Broker and Admin RPC as a method.

Methods return protobuf messages from ``conveyor.v1`` (``SendResult``, ``Delivery``, ``Queue``,
...) and raise the typed errors of ``conveyor_client.errors``. Streaming RPCs are iterators whose
call is cancelled when the iterator is closed or garbage-collected, so breaking out of a ``for``
loop ends the stream. ``AsyncClient`` (``async_client.py``) has the same methods for asyncio.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar, Unpack

import grpc

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
from conveyor_client.errors import error_from_status, from_rpc_error

DEFAULT_TARGET = "127.0.0.1:50051"
"""Where ``conveyor serve`` listens unless told otherwise."""

_Req = TypeVar("_Req")
_Resp = TypeVar("_Resp")


class Client:
    """A blocking Conveyor client. Use as a context manager, or call ``close()``.

    ``timeout`` is the deadline in seconds of each unary call (``None``: no deadline); long polls
    and ``WAIT_FOR_DELIVERED`` sends get their wait added to it. Streams have no deadline.

    Security: ``tls_ca`` (the CA to trust; the system's roots when only a client certificate is
    given), ``tls_cert`` and ``tls_key`` (a client certificate, for mTLS) are PEM file paths or
    PEM bytes, and make the channel TLS; ``credentials`` is the lower-level alternative.
    ``token`` is sent as ``authorization: Bearer TOKEN`` on every call.
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
            self._channel = grpc.insecure_channel(target, options=list(options))
        else:
            self._channel = grpc.secure_channel(target, credentials, options=list(options))
        self._broker = broker_pb2_grpc.BrokerStub(self._channel)
        self._admin = admin_pb2_grpc.AdminStub(self._channel)
        self._timeout = timeout

    def close(self) -> None:
        """Closes the channel; calls in progress are cancelled."""
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _unary(
        self, method: grpc.UnaryUnaryMultiCallable[_Req, _Resp], request: _Req, wait: float = 0.0
    ) -> _Resp:
        deadline = None if self._timeout is None else self._timeout + wait
        try:
            return method(request, timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from err

    def _stream(
        self, method: grpc.UnaryStreamMultiCallable[_Req, _Resp], request: _Req
    ) -> Iterator[_Resp]:
        call = method(request, metadata=self._metadata)
        try:
            yield from call
        except grpc.RpcError as err:
            raise from_rpc_error(err) from err
        finally:
            # Ends the RPC when the caller stops iterating early; a no-op once it has finished.
            call.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leaves it unannotated

    # --- Broker: publishing -------------------------------------------------------------------

    def send(
        self,
        messages: Iterable[types_pb2.Message],
        queue: str = "",
        *,
        wait_for: types_pb2.WaitFor.ValueType = types_pb2.WAIT_FOR_STORED,
        timeout: DurationLike | None = None,
    ) -> list[broker_pb2.SendResult]:
        """Sends a batch; an empty ``queue`` routes each message by its topic.

        Returns one result per message, in order. A message that failed has ``error`` set and is
        not raised; the RPC as a whole failing is raised.
        """
        request = _convert.send_request(messages, queue, wait_for, timeout)
        wait = _convert.send_wait_seconds(wait_for, timeout)
        return list(self._unary(self._broker.Send, request, wait).results)

    def publish(
        self,
        destination: str,
        payload: bytes = b"",
        *,
        by_topic: bool = False,
        wait_for: types_pb2.WaitFor.ValueType = types_pb2.WAIT_FOR_STORED,
        timeout: DurationLike | None = None,
        **fields: Unpack[MessageFields],
    ) -> broker_pb2.SendResult:
        """Sends one message to the queue ``destination`` (or, with ``by_topic``, to that topic).

        Raises the typed error if the message failed.
        """
        message, queue = _convert.publish_message(destination, payload, by_topic, fields)
        (result,) = self.send([message], queue, wait_for=wait_for, timeout=timeout)
        if result.HasField("error"):
            raise error_from_status(result.error)
        return result

    def message_status(self, queue: str, message_id: str) -> types_pb2.MessageStatus:
        """Where a message is: overall state, per-subscription acks and attempts."""
        request = broker_pb2.GetMessageStatusRequest(queue=queue, message_id=message_id)
        return self._unary(self._broker.GetMessageStatus, request)

    def watch_message(self, queue: str, message_id: str) -> Iterator[types_pb2.MessageStatus]:
        """Each status change of a message, starting with the current one, until it is final."""
        request = broker_pb2.WatchMessageRequest(queue=queue, message_id=message_id)
        return self._stream(self._broker.WatchMessage, request)

    def cancel_message(self, queue: str, message_id: str) -> types_pb2.MessageStatus:
        """Deletes a pending or delayed message; returns its status afterwards."""
        request = broker_pb2.CancelMessageRequest(queue=queue, message_id=message_id)
        return self._unary(self._broker.CancelMessage, request).status

    # --- Broker: consuming --------------------------------------------------------------------

    def pull(
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
        """Up to ``max_messages`` deliveries, waiting up to ``wait`` for the first one."""
        request = _convert.pull_request(
            queue, subscription, filter, max_messages, wait, lease, start
        )
        return list(self._unary(self._broker.Pull, request, _convert.seconds(wait)).deliveries)

    def receive_batches(
        self,
        queue: str,
        subscription: str,
        *,
        filter: str = "",
        max_outstanding_messages: int = 0,
        max_outstanding_bytes: int = 0,
        lease: DurationLike | None = None,
        start: StartLike = None,
    ) -> Iterator[list[types_pb2.Delivery]]:
        """Deliveries as the server batches them (one list per stream frame), until closed."""
        request = _convert.receive_request(
            queue,
            subscription,
            filter,
            max_outstanding_messages,
            max_outstanding_bytes,
            lease,
            start,
        )
        for response in self._stream(self._broker.Receive, request):
            yield list(response.deliveries)

    def receive(
        self,
        queue: str,
        subscription: str,
        *,
        filter: str = "",
        max_outstanding_messages: int = 0,
        max_outstanding_bytes: int = 0,
        lease: DurationLike | None = None,
        start: StartLike = None,
    ) -> Iterator[types_pb2.Delivery]:
        """Deliveries one at a time; settle each with ``ack``, ``nack`` or ``modify_lease``."""
        for batch in self.receive_batches(
            queue,
            subscription,
            filter=filter,
            max_outstanding_messages=max_outstanding_messages,
            max_outstanding_bytes=max_outstanding_bytes,
            lease=lease,
            start=start,
        ):
            yield from batch

    def ack(self, ack_ids: Iterable[str]) -> list[str]:
        """Settles deliveries; returns the ack ids that did not count (stale or unknown)."""
        request = broker_pb2.AckRequest(ack_ids=ack_ids)
        return list(self._unary(self._broker.Ack, request).failed_ack_ids)

    def nack(
        self,
        ack_ids: Iterable[str],
        *,
        delay: DurationLike | None = None,
        dead_letter: bool = False,
        reason: str = "",
    ) -> list[str]:
        """Returns deliveries for redelivery (or dead-letters them); returns failed ack ids."""
        request = _convert.nack_request(ack_ids, delay, dead_letter, reason)
        return list(self._unary(self._broker.Nack, request).failed_ack_ids)

    def modify_lease(self, ack_ids: Iterable[str], lease: DurationLike) -> list[str]:
        """Sets the leases to ``lease`` from now (zero releases them); returns failed ack ids."""
        request = broker_pb2.ModifyLeaseRequest(ack_ids=ack_ids, lease=_convert.to_duration(lease))
        return list(self._unary(self._broker.ModifyLease, request).failed_ack_ids)

    # --- Admin: queues ------------------------------------------------------------------------

    def create_queue(self, name: str, **config: Unpack[QueueConfig]) -> types_pb2.Queue:
        """Creates a queue; returns it with the server's defaults filled in."""
        request = admin_pb2.CreateQueueRequest(queue=_convert.build_queue(name, config))
        return self._unary(self._admin.CreateQueue, request).queue

    def get_queue(self, name: str) -> types_pb2.Queue:
        """A queue's configuration."""
        return self._unary(self._admin.GetQueue, admin_pb2.GetQueueRequest(queue=name)).queue

    def list_queues(self, prefix: str = "") -> list[types_pb2.Queue]:
        """Every queue (whose name starts with ``prefix``), by name."""
        request = admin_pb2.ListQueuesRequest(prefix=prefix)
        return list(self._unary(self._admin.ListQueues, request).queues)

    def update_queue(self, name: str, **changes: Unpack[QueueConfig]) -> types_pb2.Queue:
        """Changes only the settings given (``None`` resets one to its default)."""
        request = admin_pb2.UpdateQueueRequest(
            queue=_convert.build_queue(name, changes), update_mask=_convert.update_mask(changes)
        )
        return self._unary(self._admin.UpdateQueue, request).queue

    def delete_queue(self, name: str) -> int:
        """Deletes a queue with its messages, subscriptions and bindings; returns messages lost."""
        request = admin_pb2.DeleteQueueRequest(queue=name)
        return self._unary(self._admin.DeleteQueue, request).messages_deleted

    def purge_queue(self, name: str) -> int:
        """Deletes every message not in flight; returns how many."""
        return self._unary(self._admin.PurgeQueue, admin_pb2.PurgeQueueRequest(queue=name)).purged

    # --- Admin: routing and subscriptions -----------------------------------------------------

    def bind(self, pattern: str, queue: str) -> types_pb2.Binding:
        """Routes messages sent to topics matching ``pattern`` into ``queue``."""
        request = admin_pb2.CreateBindingRequest(pattern=pattern, queue=queue)
        return self._unary(self._admin.CreateBinding, request).binding

    def unbind(self, pattern: str, queue: str) -> None:
        """Removes a binding."""
        request = admin_pb2.DeleteBindingRequest(pattern=pattern, queue=queue)
        self._unary(self._admin.DeleteBinding, request)

    def list_bindings(self, queue: str = "") -> list[types_pb2.Binding]:
        """Bindings into ``queue``, or all of them."""
        request = admin_pb2.ListBindingsRequest(queue=queue)
        return list(self._unary(self._admin.ListBindings, request).bindings)

    def list_subscriptions(self, queue: str) -> list[types_pb2.Subscription]:
        """A queue's subscriptions."""
        request = admin_pb2.ListSubscriptionsRequest(queue=queue)
        return list(self._unary(self._admin.ListSubscriptions, request).subscriptions)

    def delete_subscription(self, queue: str, subscription: str) -> None:
        """Deletes a subscription; its in-flight deliveries go back to the queue."""
        request = admin_pb2.DeleteSubscriptionRequest(queue=queue, subscription=subscription)
        self._unary(self._admin.DeleteSubscription, request)

    # --- Admin: inspection and dead letters ---------------------------------------------------

    def stats(self, queue: str) -> admin_pb2.GetQueueStatsResponse:
        """A queue's gauges (ready, delayed, in flight, ...) and counters since start."""
        return self._unary(self._admin.GetQueueStats, admin_pb2.GetQueueStatsRequest(queue=queue))

    def peek(self, queue: str, max_messages: int = 10) -> list[admin_pb2.PeekedMessage]:
        """Messages in delivery order, without delivering them."""
        request = admin_pb2.PeekMessagesRequest(queue=queue, max_messages=max_messages)
        return list(self._unary(self._admin.PeekMessages, request).messages)

    def list_dead_letters(
        self,
        queue: str,
        max_messages: int = 100,
        *,
        reason: types_pb2.DeadLetterReason.ValueType = types_pb2.DEAD_LETTER_REASON_UNSPECIFIED,
        source_queue: str = "",
        source_subscription: str = "",
    ) -> list[types_pb2.Message]:
        """Messages of a dead-letter queue; each one's ``dead_letter`` says why it is there.
        ``reason``, ``source_queue`` and ``source_subscription`` list only those that match."""
        request = admin_pb2.ListDeadLettersRequest(
            queue=queue,
            max_messages=max_messages,
            reason=reason,
            source_queue=source_queue,
            source_subscription=source_subscription,
        )
        return list(self._unary(self._admin.ListDeadLetters, request).messages)

    def redrive(
        self,
        queue: str,
        *,
        destination: str = "",
        max_messages: int = 0,
        reset_attempts: bool = False,
        message_ids: Sequence[str] = (),
    ) -> admin_pb2.RedriveDeadLettersResponse:
        """Moves dead letters back to their source queue (or ``destination``); 0 moves all.
        Each keeps its attempt count unless ``reset_attempts``. ``message_ids`` moves only
        those dead letters (ids no longer there count as skipped)."""
        request = admin_pb2.RedriveDeadLettersRequest(
            queue=queue,
            destination=destination,
            max_messages=max_messages,
            reset_attempts=reset_attempts,
            message_ids=list(message_ids),
        )
        return self._unary(self._admin.RedriveDeadLetters, request)

    # --- Admin: operating queues --------------------------------------------------------------

    def pause_queue(self, queue: str) -> bool:
        """Stops deliveries from ``queue`` (sends are still stored); False if already paused."""
        return self._unary(self._admin.PauseQueue, admin_pb2.PauseQueueRequest(queue=queue)).changed

    def resume_queue(self, queue: str) -> bool:
        """Lets a paused queue deliver again; False if it was not paused."""
        request = admin_pb2.ResumeQueueRequest(queue=queue)
        return self._unary(self._admin.ResumeQueue, request).changed

    def list_queue_stats(
        self, prefix: str = "", *, include_subscriptions: bool = False
    ) -> list[admin_pb2.GetQueueStatsResponse]:
        """Every queue's stats (whose name starts with ``prefix``), by name, with rates."""
        request = admin_pb2.ListQueueStatsRequest(
            prefix=prefix, include_subscriptions=include_subscriptions
        )
        return list(self._unary(self._admin.ListQueueStats, request).queues)

    def seek_subscription(
        self, queue: str, subscription: str, time: TimeLike
    ) -> admin_pb2.SeekSubscriptionResponse:
        """Moves a subscription to ``time``: acked messages the queue retains that were
        published from then on are delivered to it again; its messages published before it
        that are not acked yet become acked. Returns how many of each (``replayed``,
        ``acked``)."""
        request = admin_pb2.SeekSubscriptionRequest(
            queue=queue, subscription=subscription, time=_convert.to_timestamp(time)
        )
        return self._unary(self._admin.SeekSubscription, request)
