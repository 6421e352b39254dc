"""What a subscriber hands its handlers, and what it counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from conveyor.v1 import types_pb2
from conveyor_client._internal.histogram import Histogram


@dataclass(frozen=True)
class ReceivedMessage:
    """One delivery handed to a handler: the message and this attempt's facts."""

    delivery: types_pb2.Delivery

    @property
    def message(self) -> types_pb2.Message:
        return self.delivery.message

    @property
    def id(self) -> str:
        return self.delivery.message.id

    @property
    def payload(self) -> bytes:
        return self.delivery.message.payload

    @property
    def attributes(self) -> dict[str, str]:
        return dict(self.delivery.message.attributes)

    @property
    def topic(self) -> str:
        return self.delivery.message.topic

    @property
    def ordering_key(self) -> str:
        return self.delivery.message.ordering_key

    @property
    def attempt(self) -> int:
        """1 on the first delivery."""
        return self.delivery.attempt

    @property
    def ack_id(self) -> str:
        return self.delivery.ack_id


MessageHandler = Callable[[ReceivedMessage], Awaitable[None] | None]
"""Handles one message: ``async def`` runs on the loop, a plain function in the thread pool."""
BatchHandler = Callable[[list[ReceivedMessage]], Awaitable[None] | None]
"""Handles the messages of one stream frame together: all acked, or all nacked."""
SuccessHook = Callable[[ReceivedMessage], None]
FailureHook = Callable[[ReceivedMessage, BaseException], None]


@dataclass
class SubscriberStats:
    """Counters since the subscriber was made."""

    received: int = 0
    acked: int = 0
    nacked: int = 0
    dead_lettered: int = 0
    timeouts: int = 0
    failed_acks: int = 0
    """Acks, nacks or lease changes the server did not count (their lease had ended)."""
    lease_extensions: int = 0
    reconnects: int = 0
    handling_seconds: Histogram = field(default_factory=Histogram)
