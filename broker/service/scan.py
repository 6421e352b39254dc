"""Reading a Send's messages from its bytes: where each message is, and the common case.

Most messages set only a payload and perhaps a topic. For those, the bytes the sender sent
are all the store needs (it keeps them as they are), plus the payload's size and the topic:
found here by walking the message's few fields, without building protobuf objects. Anything
else - any other field set, or bytes this walk does not follow - goes through the parsed
request instead (``convert.message_input``), which reads and checks every field.

The request has already been parsed by protobuf (gRPC did it), so its bytes are well formed;
the walk still never trusts a length past the end of what it walks.
"""

from __future__ import annotations

from conveyor.v1 import broker_pb2, types_pb2

_MESSAGES_TAG = broker_pb2.SendRequest.DESCRIPTOR.fields_by_name["messages"].number << 3 | 2
assert (
    broker_pb2.SendStreamRequest.DESCRIPTOR.fields_by_name["messages"].number << 3 | 2
    == _MESSAGES_TAG
)
_M = types_pb2.Message.DESCRIPTOR.fields_by_name
_TOPIC_TAG = _M["topic"].number << 3 | 2
_PAYLOAD_TAG = _M["payload"].number << 3 | 2
_GUARANTEE_TAG = _M["guarantee"].number << 3
_PLAIN_GUARANTEES = frozenset(
    (
        types_pb2.GUARANTEE_FIRE_AND_FORGET,
        types_pb2.GUARANTEE_AT_LEAST_ONCE,
        types_pb2.GUARANTEE_BROADCAST,
    )
)
"""Guarantees that need no other field (quorum needs ``required_acks``)."""
assert max(_TOPIC_TAG, _PAYLOAD_TAG, _GUARANTEE_TAG, _MESSAGES_TAG) < 0x80, "one-byte keys"


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    """The varint at ``i`` and the offset after it."""
    b = buf[i]
    if b < 0x80:
        return b, i + 1
    value, shift = b & 0x7F, 7
    while True:
        i += 1
        b = buf[i]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i + 1
        shift += 7


def _skip(buf: bytes, i: int, wire_type: int) -> int:
    if wire_type == 0:
        return _varint(buf, i)[1]
    if wire_type == 1:
        return i + 8
    if wire_type == 2:
        length, i = _varint(buf, i)
        return i + length
    if wire_type == 5:
        return i + 4
    raise ValueError(f"wire type {wire_type}")


def message_spans(raw: bytes) -> list[tuple[int, int]]:
    """(start, end) of each ``messages`` entry of a SendRequest or SendStreamRequest."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(raw)
    while i < n:
        key, i = _varint(raw, i)
        if key == _MESSAGES_TAG:
            length, i = _varint(raw, i)
            spans.append((i, i + length))
            i += length
        else:
            i = _skip(raw, i, key & 7)
    return spans


def plain(raw: bytes, start: int, end: int) -> tuple[str, int, int] | None:
    """(topic, payload size, guarantee) when the message sets nothing but those (and a
    guarantee that needs nothing else), else None. Guarantee 0 is unspecified."""
    topic = ""
    size = guarantee = 0
    i = start
    while i < end:
        key = raw[i]
        if key == _GUARANTEE_TAG:
            if i + 1 >= end or raw[i + 1] not in _PLAIN_GUARANTEES:
                return None
            guarantee = raw[i + 1]
            i += 2
            continue
        if key != _PAYLOAD_TAG and key != _TOPIC_TAG:
            return None
        length, i = _varint(raw, i + 1)
        if i + length > end:
            return None
        if key == _PAYLOAD_TAG:
            size = length
        else:
            topic = raw[i : i + length].decode()
        i += length
    return topic, size, guarantee
