"""Protocol-buffer wire encoding for the few ``conveyor.v1`` messages built on the hot path.

A message is serialized once: the sender's ``Message`` bytes, with the fields the server
assigns appended (``message_fields``), are what the log stores and what every delivery frame
carries (``delivery``, ``deliveries_field``). Appending is sound because the protobuf wire
format lets a later occurrence of a field override (scalars) or merge into (messages) an
earlier one; so every appended field the server owns is written in full, zero values
included, and a sender's ``dead_letter`` is removed before anything is appended (the
service does that). Field numbers come from the generated descriptors, so they cannot drift
from the contract. No gRPC here: the store and the service both use it.
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor

from conveyor.v1 import broker_pb2, types_pb2

_VARINT, _LEN = 0, 2


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_TABLE_SIZE = 1 << 14
_TABLE = [_encode_varint(i) for i in range(_TABLE_SIZE)]
"""Every one- and two-byte varint, ready-made: lengths and counts on the hot path are."""


def varint(n: int) -> bytes:
    """The base-128 varint of a non-negative integer."""
    return _TABLE[n] if n < _TABLE_SIZE else _encode_varint(n)


def _key(descriptor: Descriptor, name: str) -> bytes:
    field = descriptor.fields_by_name[name]
    wire = _LEN if field.type in (field.TYPE_STRING, field.TYPE_BYTES, field.TYPE_MESSAGE) else 0
    return varint(field.number << 3 | wire)


_M = types_pb2.Message.DESCRIPTOR
M_ID = _key(_M, "id")
M_GUARANTEE = _key(_M, "guarantee")
M_REQUIRED_ACKS = _key(_M, "required_acks")
M_DELAY = _key(_M, "delay")
M_TTL = _key(_M, "ttl")
M_PUBLISH_TIME = _key(_M, "publish_time")
M_QUEUE = _key(_M, "queue")
M_DEAD_LETTER = _key(_M, "dead_letter")

_D = types_pb2.Delivery.DESCRIPTOR
D_ACK_ID = _key(_D, "ack_id")
D_MESSAGE = _key(_D, "message")
D_ATTEMPT = _key(_D, "attempt")
D_LEASE_DEADLINE = _key(_D, "lease_deadline")
D_SUBSCRIPTION = _key(_D, "subscription")

assert len(D_ACK_ID) == len(D_MESSAGE) == len(D_ATTEMPT) == 1, "deliveries_field counts on it"

_DELIVERIES = _key(broker_pb2.ReceiveResponse.DESCRIPTOR, "deliveries")
for _response in (broker_pb2.StreamingReceiveResponse, broker_pb2.PullResponse):
    assert _key(_response.DESCRIPTOR, "deliveries") == _DELIVERIES
FAILED_ACK_IDS = _key(broker_pb2.StreamingReceiveResponse.DESCRIPTOR, "failed_ack_ids")

_R = broker_pb2.SendResult.DESCRIPTOR
R_MESSAGE_ID = _key(_R, "message_id")
R_DUPLICATE = _key(_R, "duplicate")
R_ERROR = _key(_R, "error")
R_QUEUES = _key(_R, "queues")
R_MESSAGE_IDS = _key(_R, "message_ids")
RESULTS = _key(broker_pb2.SendResponse.DESCRIPTOR, "results")
assert _key(broker_pb2.SendStreamResponse.DESCRIPTOR, "results") == RESULTS
STREAM_SEQUENCE = _key(broker_pb2.SendStreamResponse.DESCRIPTOR, "sequence")


def field(key: bytes, value: bytes) -> bytes:
    """A length-delimited field (string, bytes or embedded message)."""
    return key + varint(len(value)) + value


def uint_field(key: bytes, value: int) -> bytes:
    """A varint field, written even when zero (an override must be explicit)."""
    return key + varint(value)


def timestamp(seconds: float) -> bytes:
    """A ``google.protobuf.Timestamp`` body, both fields written."""
    ns = round(seconds * 1e9)
    return b"\x08" + varint(ns // 1_000_000_000) + b"\x10" + varint(ns % 1_000_000_000)


def duration(seconds: float) -> bytes:
    """A ``google.protobuf.Duration`` body for a non-negative duration."""
    return timestamp(seconds)


def message_fields(
    message_id: str,
    guarantee: int,
    required_acks: int,
    publish_time: bytes,
    queue: bytes,
) -> bytes:
    """The server-assigned fields of a stored message, to append to the sender's bytes.

    ``publish_time`` and ``queue`` are whole encoded fields (``publish_time_field``,
    ``queue_field``), shared by every message of a batch.
    """
    encoded = message_id.encode()
    return b"".join(
        (
            M_ID,
            varint(len(encoded)),
            encoded,
            M_GUARANTEE,
            varint(guarantee),
            M_REQUIRED_ACKS,
            varint(required_acks),
            publish_time,
            queue,
        )
    )


def publish_time_field(seconds: float) -> bytes:
    return field(M_PUBLISH_TIME, timestamp(seconds))


def queue_field(queue: str) -> bytes:
    return field(M_QUEUE, queue.encode())


def delay_field(seconds: float) -> bytes:
    return field(M_DELAY, duration(seconds))


def ttl_field(seconds: float) -> bytes:
    return field(M_TTL, duration(seconds))


def dead_letter_field(
    source_queue: str,
    reason: str,
    attempts: int,
    time: float,
    subscription: str,
    source_message_id: str,
    reason_code: int = 0,
    last_nack_reason: str = "",
) -> bytes:
    info = types_pb2.DeadLetterInfo(
        source_queue=source_queue,
        reason=reason,
        attempts=attempts,
        subscription=subscription,
        source_message_id=source_message_id,
        reason_code=reason_code,  # type: ignore[arg-type]
        last_nack_reason=last_nack_reason,
    )
    info.dead_letter_time.FromNanoseconds(round(time * 1e9))
    return field(M_DEAD_LETTER, info.SerializeToString())


def delivery_tail(lease_deadline: float, subscription: str) -> bytes:
    """The fields a delivery batch shares: its lease deadline and subscription."""
    return field(D_LEASE_DEADLINE, timestamp(lease_deadline)) + field(
        D_SUBSCRIPTION, subscription.encode()
    )


def deliveries_field(deliveries: list[tuple[str, bytes, int, int]], tail: bytes) -> bytes:
    """``deliveries`` entries of a Receive/StreamingReceive/Pull response, each a
    ``Delivery`` of (ack id, message bytes, attempt, -) plus the batch's shared ``tail``."""
    parts: list[bytes] = []
    add = parts.append
    table, size = _TABLE, _TABLE_SIZE
    for ack_id, data, attempt, _ in deliveries:
        ack = ack_id.encode()
        n = len(data)
        body = b"".join(
            (
                D_ACK_ID,
                table[len(ack)],
                ack,
                D_MESSAGE,
                table[n] if n < size else _encode_varint(n),
                data,
                D_ATTEMPT,
                table[attempt] if attempt < size else _encode_varint(attempt),
                tail,
            )
        )
        n = len(body)
        add(_DELIVERIES)
        add(table[n] if n < size else _encode_varint(n))
        add(body)
    return b"".join(parts)


def strings_field(key: bytes, values: list[str]) -> bytes:
    """A repeated string field."""
    return b"".join([field(key, v.encode()) for v in values])
