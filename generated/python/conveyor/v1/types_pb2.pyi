import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Guarantee(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GUARANTEE_UNSPECIFIED: _ClassVar[Guarantee]
    GUARANTEE_FIRE_AND_FORGET: _ClassVar[Guarantee]
    GUARANTEE_AT_LEAST_ONCE: _ClassVar[Guarantee]
    GUARANTEE_BROADCAST: _ClassVar[Guarantee]
    GUARANTEE_QUORUM: _ClassVar[Guarantee]

class QueueKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUEUE_KIND_UNSPECIFIED: _ClassVar[QueueKind]
    QUEUE_KIND_STANDARD: _ClassVar[QueueKind]
    QUEUE_KIND_FIFO: _ClassVar[QueueKind]
    QUEUE_KIND_PRIORITY: _ClassVar[QueueKind]

class OverflowPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OVERFLOW_POLICY_UNSPECIFIED: _ClassVar[OverflowPolicy]
    OVERFLOW_POLICY_REJECT_NEW: _ClassVar[OverflowPolicy]
    OVERFLOW_POLICY_DROP_OLDEST: _ClassVar[OverflowPolicy]

class WaitFor(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WAIT_FOR_UNSPECIFIED: _ClassVar[WaitFor]
    WAIT_FOR_STORED: _ClassVar[WaitFor]
    WAIT_FOR_DELIVERED: _ClassVar[WaitFor]

class MessageState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_STATE_UNSPECIFIED: _ClassVar[MessageState]
    MESSAGE_STATE_PENDING: _ClassVar[MessageState]
    MESSAGE_STATE_IN_FLIGHT: _ClassVar[MessageState]
    MESSAGE_STATE_DELIVERED: _ClassVar[MessageState]
    MESSAGE_STATE_DEAD_LETTERED: _ClassVar[MessageState]
    MESSAGE_STATE_EXPIRED: _ClassVar[MessageState]
    MESSAGE_STATE_CANCELLED: _ClassVar[MessageState]
    MESSAGE_STATE_DROPPED: _ClassVar[MessageState]
GUARANTEE_UNSPECIFIED: Guarantee
GUARANTEE_FIRE_AND_FORGET: Guarantee
GUARANTEE_AT_LEAST_ONCE: Guarantee
GUARANTEE_BROADCAST: Guarantee
GUARANTEE_QUORUM: Guarantee
QUEUE_KIND_UNSPECIFIED: QueueKind
QUEUE_KIND_STANDARD: QueueKind
QUEUE_KIND_FIFO: QueueKind
QUEUE_KIND_PRIORITY: QueueKind
OVERFLOW_POLICY_UNSPECIFIED: OverflowPolicy
OVERFLOW_POLICY_REJECT_NEW: OverflowPolicy
OVERFLOW_POLICY_DROP_OLDEST: OverflowPolicy
WAIT_FOR_UNSPECIFIED: WaitFor
WAIT_FOR_STORED: WaitFor
WAIT_FOR_DELIVERED: WaitFor
MESSAGE_STATE_UNSPECIFIED: MessageState
MESSAGE_STATE_PENDING: MessageState
MESSAGE_STATE_IN_FLIGHT: MessageState
MESSAGE_STATE_DELIVERED: MessageState
MESSAGE_STATE_DEAD_LETTERED: MessageState
MESSAGE_STATE_EXPIRED: MessageState
MESSAGE_STATE_CANCELLED: MessageState
MESSAGE_STATE_DROPPED: MessageState

class Message(_message.Message):
    __slots__ = ("id", "topic", "payload", "attributes", "guarantee", "required_acks", "priority", "ordering_key", "dedup_id", "delay", "ttl", "publish_time", "queue", "dead_letter")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    GUARANTEE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_ACKS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ORDERING_KEY_FIELD_NUMBER: _ClassVar[int]
    DEDUP_ID_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_FIELD_NUMBER: _ClassVar[int]
    id: str
    topic: str
    payload: bytes
    attributes: _containers.ScalarMap[str, str]
    guarantee: Guarantee
    required_acks: int
    priority: int
    ordering_key: str
    dedup_id: str
    delay: _duration_pb2.Duration
    ttl: _duration_pb2.Duration
    publish_time: _timestamp_pb2.Timestamp
    queue: str
    dead_letter: DeadLetterInfo
    def __init__(self, id: _Optional[str] = ..., topic: _Optional[str] = ..., payload: _Optional[bytes] = ..., attributes: _Optional[_Mapping[str, str]] = ..., guarantee: _Optional[_Union[Guarantee, str]] = ..., required_acks: _Optional[int] = ..., priority: _Optional[int] = ..., ordering_key: _Optional[str] = ..., dedup_id: _Optional[str] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., queue: _Optional[str] = ..., dead_letter: _Optional[_Union[DeadLetterInfo, _Mapping]] = ...) -> None: ...

class DeadLetterInfo(_message.Message):
    __slots__ = ("source_queue", "reason", "attempts", "dead_letter_time", "subscription", "source_message_id")
    SOURCE_QUEUE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_TIME_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    source_queue: str
    reason: str
    attempts: int
    dead_letter_time: _timestamp_pb2.Timestamp
    subscription: str
    source_message_id: str
    def __init__(self, source_queue: _Optional[str] = ..., reason: _Optional[str] = ..., attempts: _Optional[int] = ..., dead_letter_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., subscription: _Optional[str] = ..., source_message_id: _Optional[str] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("ack_id", "message", "attempt", "lease_deadline", "subscription")
    ACK_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    LEASE_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ack_id: str
    message: Message
    attempt: int
    lease_deadline: _timestamp_pb2.Timestamp
    subscription: str
    def __init__(self, ack_id: _Optional[str] = ..., message: _Optional[_Union[Message, _Mapping]] = ..., attempt: _Optional[int] = ..., lease_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., subscription: _Optional[str] = ...) -> None: ...

class RetryBackoff(_message.Message):
    __slots__ = ("initial", "multiplier", "max", "jitter", "delays")
    INITIAL_FIELD_NUMBER: _ClassVar[int]
    MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    JITTER_FIELD_NUMBER: _ClassVar[int]
    DELAYS_FIELD_NUMBER: _ClassVar[int]
    initial: _duration_pb2.Duration
    multiplier: float
    max: _duration_pb2.Duration
    jitter: float
    delays: _containers.RepeatedCompositeFieldContainer[_duration_pb2.Duration]
    def __init__(self, initial: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., multiplier: _Optional[float] = ..., max: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., jitter: _Optional[float] = ..., delays: _Optional[_Iterable[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]]] = ...) -> None: ...

class Queue(_message.Message):
    __slots__ = ("name", "kind", "lease", "max_deliveries", "dead_letter_queue", "retry_backoff", "dedup_window", "message_ttl", "default_delay", "max_depth", "overflow_policy", "max_payload_bytes", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    MAX_DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_QUEUE_FIELD_NUMBER: _ClassVar[int]
    RETRY_BACKOFF_FIELD_NUMBER: _ClassVar[int]
    DEDUP_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_TTL_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_DELAY_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    OVERFLOW_POLICY_FIELD_NUMBER: _ClassVar[int]
    MAX_PAYLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: QueueKind
    lease: _duration_pb2.Duration
    max_deliveries: int
    dead_letter_queue: str
    retry_backoff: RetryBackoff
    dedup_window: _duration_pb2.Duration
    message_ttl: _duration_pb2.Duration
    default_delay: _duration_pb2.Duration
    max_depth: int
    overflow_policy: OverflowPolicy
    max_payload_bytes: int
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[QueueKind, str]] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_deliveries: _Optional[int] = ..., dead_letter_queue: _Optional[str] = ..., retry_backoff: _Optional[_Union[RetryBackoff, _Mapping]] = ..., dedup_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., message_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., default_delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_depth: _Optional[int] = ..., overflow_policy: _Optional[_Union[OverflowPolicy, str]] = ..., max_payload_bytes: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Binding(_message.Message):
    __slots__ = ("pattern", "queue")
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    pattern: str
    queue: str
    def __init__(self, pattern: _Optional[str] = ..., queue: _Optional[str] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ("name", "queue", "filter", "create_time", "in_flight", "consumers")
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    CONSUMERS_FIELD_NUMBER: _ClassVar[int]
    name: str
    queue: str
    filter: str
    create_time: _timestamp_pb2.Timestamp
    in_flight: int
    consumers: int
    def __init__(self, name: _Optional[str] = ..., queue: _Optional[str] = ..., filter: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., in_flight: _Optional[int] = ..., consumers: _Optional[int] = ...) -> None: ...

class SubscriptionDeliveryStatus(_message.Message):
    __slots__ = ("subscription", "state", "attempts")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    subscription: str
    state: MessageState
    attempts: int
    def __init__(self, subscription: _Optional[str] = ..., state: _Optional[_Union[MessageState, str]] = ..., attempts: _Optional[int] = ...) -> None: ...

class MessageStatus(_message.Message):
    __slots__ = ("queue", "message_id", "state", "acked_by", "required_acks", "attempts", "subscriptions", "reason", "update_time", "guarantee")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ACKED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_ACKS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    GUARANTEE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    message_id: str
    state: MessageState
    acked_by: _containers.RepeatedScalarFieldContainer[str]
    required_acks: int
    attempts: int
    subscriptions: _containers.RepeatedCompositeFieldContainer[SubscriptionDeliveryStatus]
    reason: str
    update_time: _timestamp_pb2.Timestamp
    guarantee: Guarantee
    def __init__(self, queue: _Optional[str] = ..., message_id: _Optional[str] = ..., state: _Optional[_Union[MessageState, str]] = ..., acked_by: _Optional[_Iterable[str]] = ..., required_acks: _Optional[int] = ..., attempts: _Optional[int] = ..., subscriptions: _Optional[_Iterable[_Union[SubscriptionDeliveryStatus, _Mapping]]] = ..., reason: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., guarantee: _Optional[_Union[Guarantee, str]] = ...) -> None: ...
