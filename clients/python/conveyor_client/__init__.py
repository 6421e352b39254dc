"""Python client for Conveyor, the gRPC message broker.

- ``Publisher`` / ``AsyncPublisher``: batching publishers with a future per message
  (``conveyor_client.publisher``).
- ``Subscriber`` / ``AsyncSubscriber``: handlers with acks, lease extension, flow control and
  reconnects (``conveyor_client.subscriber``).
- ``Client`` (blocking) and ``AsyncClient`` (asyncio): every Broker and Admin RPC as a method
  taking Python values and returning the ``conveyor.v1`` protobuf messages.

Failed RPCs raise the typed errors of ``conveyor_client.errors``::

    from conveyor_client import Client

    with Client("127.0.0.1:50051") as client:
        client.create_queue("orders", lease=30, max_deliveries=5)
        client.publish("orders", b'{"id": 1}', attributes={"source": "web"})
        for delivery in client.receive("orders", subscription="billing"):
            handle(delivery.message)
            client.ack([delivery.ack_id])
"""

from __future__ import annotations

from conveyor_client._convert import (
    DurationLike,
    MessageFields,
    QueueConfig,
    StartLike,
    TimeLike,
    make_message,
    retry_backoff,
    to_duration,
)
from conveyor_client._internal.backoff import Backoff
from conveyor_client.async_client import AsyncClient
from conveyor_client.client import DEFAULT_TARGET, Client
from conveyor_client.errors import (
    AlreadyExists,
    ConveyorError,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    OrderingKeyPaused,
    PermissionDenied,
    PublisherClosed,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    error_from_status,
)
from conveyor_client.publisher import AsyncPublisher, BatchSettings, Publisher
from conveyor_client.received import ReceivedMessage, SubscriberStats
from conveyor_client.subscriber import (
    RECONNECT_CODES,
    AsyncSubscriber,
    Subscriber,
    retry_always,
)

__all__ = [
    "DEFAULT_TARGET",
    "RECONNECT_CODES",
    "AlreadyExists",
    "AsyncClient",
    "AsyncPublisher",
    "AsyncSubscriber",
    "Backoff",
    "BatchSettings",
    "Client",
    "ConveyorError",
    "DeadlineExceeded",
    "DurationLike",
    "FailedPrecondition",
    "InvalidArgument",
    "MessageFields",
    "NotFound",
    "OrderingKeyPaused",
    "PermissionDenied",
    "Publisher",
    "PublisherClosed",
    "QueueConfig",
    "ReceivedMessage",
    "ResourceExhausted",
    "StartLike",
    "Subscriber",
    "SubscriberStats",
    "TimeLike",
    "Unauthenticated",
    "Unavailable",
    "error_from_status",
    "make_message",
    "retry_always",
    "retry_backoff",
    "to_duration",
]
