import datetime

from conveyor.v1 import types_pb2 as _types_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SendRequest(_message.Message):
    __slots__ = ("queue", "messages", "wait_for", "timeout")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    WAIT_FOR_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    queue: str
    messages: _containers.RepeatedCompositeFieldContainer[_types_pb2.Message]
    wait_for: _types_pb2.WaitFor
    timeout: _duration_pb2.Duration
    def __init__(self, queue: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[_types_pb2.Message, _Mapping]]] = ..., wait_for: _Optional[_Union[_types_pb2.WaitFor, str]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SendResult(_message.Message):
    __slots__ = ("message_id", "duplicate", "error", "queues", "message_ids")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    duplicate: bool
    error: _status_pb2.Status
    queues: _containers.RepeatedScalarFieldContainer[str]
    message_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, message_id: _Optional[str] = ..., duplicate: _Optional[bool] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., queues: _Optional[_Iterable[str]] = ..., message_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SendResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SendResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SendResult, _Mapping]]] = ...) -> None: ...

class SendStreamRequest(_message.Message):
    __slots__ = ("queue", "messages", "wait_for", "timeout", "sequence")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    WAIT_FOR_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    messages: _containers.RepeatedCompositeFieldContainer[_types_pb2.Message]
    wait_for: _types_pb2.WaitFor
    timeout: _duration_pb2.Duration
    sequence: int
    def __init__(self, queue: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[_types_pb2.Message, _Mapping]]] = ..., wait_for: _Optional[_Union[_types_pb2.WaitFor, str]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class SendStreamResponse(_message.Message):
    __slots__ = ("results", "sequence")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SendResult]
    sequence: int
    def __init__(self, results: _Optional[_Iterable[_Union[SendResult, _Mapping]]] = ..., sequence: _Optional[int] = ...) -> None: ...

class ReceiveRequest(_message.Message):
    __slots__ = ("queue", "subscription", "filter", "max_outstanding_messages", "max_outstanding_bytes", "lease")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTSTANDING_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTSTANDING_BYTES_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    subscription: str
    filter: str
    max_outstanding_messages: int
    max_outstanding_bytes: int
    lease: _duration_pb2.Duration
    def __init__(self, queue: _Optional[str] = ..., subscription: _Optional[str] = ..., filter: _Optional[str] = ..., max_outstanding_messages: _Optional[int] = ..., max_outstanding_bytes: _Optional[int] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ReceiveResponse(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[_types_pb2.Delivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[_types_pb2.Delivery, _Mapping]]] = ...) -> None: ...

class LeaseModification(_message.Message):
    __slots__ = ("ack_id", "lease")
    ACK_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    ack_id: str
    lease: _duration_pb2.Duration
    def __init__(self, ack_id: _Optional[str] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class StreamingReceiveRequest(_message.Message):
    __slots__ = ("queue", "subscription", "filter", "max_outstanding_messages", "max_outstanding_bytes", "lease", "ack_ids", "nack_ids", "modify_leases")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTSTANDING_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTSTANDING_BYTES_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    ACK_IDS_FIELD_NUMBER: _ClassVar[int]
    NACK_IDS_FIELD_NUMBER: _ClassVar[int]
    MODIFY_LEASES_FIELD_NUMBER: _ClassVar[int]
    queue: str
    subscription: str
    filter: str
    max_outstanding_messages: int
    max_outstanding_bytes: int
    lease: _duration_pb2.Duration
    ack_ids: _containers.RepeatedScalarFieldContainer[str]
    nack_ids: _containers.RepeatedScalarFieldContainer[str]
    modify_leases: _containers.RepeatedCompositeFieldContainer[LeaseModification]
    def __init__(self, queue: _Optional[str] = ..., subscription: _Optional[str] = ..., filter: _Optional[str] = ..., max_outstanding_messages: _Optional[int] = ..., max_outstanding_bytes: _Optional[int] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., ack_ids: _Optional[_Iterable[str]] = ..., nack_ids: _Optional[_Iterable[str]] = ..., modify_leases: _Optional[_Iterable[_Union[LeaseModification, _Mapping]]] = ...) -> None: ...

class StreamingReceiveResponse(_message.Message):
    __slots__ = ("deliveries", "failed_ack_ids")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    FAILED_ACK_IDS_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[_types_pb2.Delivery]
    failed_ack_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[_types_pb2.Delivery, _Mapping]]] = ..., failed_ack_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class PullRequest(_message.Message):
    __slots__ = ("queue", "subscription", "filter", "max_messages", "wait", "lease")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    subscription: str
    filter: str
    max_messages: int
    wait: _duration_pb2.Duration
    lease: _duration_pb2.Duration
    def __init__(self, queue: _Optional[str] = ..., subscription: _Optional[str] = ..., filter: _Optional[str] = ..., max_messages: _Optional[int] = ..., wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class PullResponse(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[_types_pb2.Delivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[_types_pb2.Delivery, _Mapping]]] = ...) -> None: ...

class AckRequest(_message.Message):
    __slots__ = ("ack_ids",)
    ACK_IDS_FIELD_NUMBER: _ClassVar[int]
    ack_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ack_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AckResponse(_message.Message):
    __slots__ = ("failed_ack_ids",)
    FAILED_ACK_IDS_FIELD_NUMBER: _ClassVar[int]
    failed_ack_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, failed_ack_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class NackRequest(_message.Message):
    __slots__ = ("ack_ids", "delay", "dead_letter", "reason")
    ACK_IDS_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ack_ids: _containers.RepeatedScalarFieldContainer[str]
    delay: _duration_pb2.Duration
    dead_letter: bool
    reason: str
    def __init__(self, ack_ids: _Optional[_Iterable[str]] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dead_letter: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class NackResponse(_message.Message):
    __slots__ = ("failed_ack_ids",)
    FAILED_ACK_IDS_FIELD_NUMBER: _ClassVar[int]
    failed_ack_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, failed_ack_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ModifyLeaseRequest(_message.Message):
    __slots__ = ("ack_ids", "lease")
    ACK_IDS_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    ack_ids: _containers.RepeatedScalarFieldContainer[str]
    lease: _duration_pb2.Duration
    def __init__(self, ack_ids: _Optional[_Iterable[str]] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ModifyLeaseResponse(_message.Message):
    __slots__ = ("failed_ack_ids",)
    FAILED_ACK_IDS_FIELD_NUMBER: _ClassVar[int]
    failed_ack_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, failed_ack_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetMessageStatusRequest(_message.Message):
    __slots__ = ("queue", "message_id")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    queue: str
    message_id: str
    def __init__(self, queue: _Optional[str] = ..., message_id: _Optional[str] = ...) -> None: ...

class WatchMessageRequest(_message.Message):
    __slots__ = ("queue", "message_id")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    queue: str
    message_id: str
    def __init__(self, queue: _Optional[str] = ..., message_id: _Optional[str] = ...) -> None: ...

class CancelMessageRequest(_message.Message):
    __slots__ = ("queue", "message_id")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    queue: str
    message_id: str
    def __init__(self, queue: _Optional[str] = ..., message_id: _Optional[str] = ...) -> None: ...

class CancelMessageResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _types_pb2.MessageStatus
    def __init__(self, status: _Optional[_Union[_types_pb2.MessageStatus, _Mapping]] = ...) -> None: ...
