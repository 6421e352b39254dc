"""Pre-built request bytes: they parse as the requests they stand for, headers where expected."""

from __future__ import annotations

import pytest

from broker.bench import wire
from conveyor.v1 import broker_pb2, types_pb2


def test_rendered_bytes_are_a_send_request_with_every_header_set() -> None:
    template = wire.BatchTemplate("q", 5, 64, types_pb2.GUARANTEE_BROADCAST)
    body = template.render(send_time_ns=123_456_789, producer=7, first_sequence=40)
    request = broker_pb2.SendRequest.FromString(body)
    assert request.queue == "q"
    assert request.wait_for == types_pb2.WAIT_FOR_STORED
    assert len(request.messages) == 5
    for i, m in enumerate(request.messages):
        assert len(m.payload) == 64
        assert m.guarantee == types_pb2.GUARANTEE_BROADCAST
        assert wire.read_header(m.payload) == (123_456_789, 7, 40 + i)
    again = broker_pb2.SendRequest.FromString(template.render(1, 2, 3))
    assert [wire.read_header(m.payload) for m in again.messages] == [
        (1, 2, 3 + i) for i in range(5)
    ]
    assert again.messages[0].payload[16:] == request.messages[0].payload[16:]  # filler kept


def test_a_stream_request_carries_its_sequence() -> None:
    body = wire.BatchTemplate("q", 2, 16, types_pb2.GUARANTEE_AT_LEAST_ONCE).render(5, 0, 0)
    for sequence in (0, 1, 127, 128, 300, 2**40):
        request = broker_pb2.SendStreamRequest.FromString(wire.stream_request(body, sequence))
        assert request.sequence == sequence
        assert len(request.messages) == 2


def test_varint_matches_protobuf() -> None:
    assert wire.varint(0) == b"\x00"
    for value in (1, 127, 128, 16_383, 16_384, 2**63 - 1):  # (proto3 does not write a 0)
        encoded = broker_pb2.SendStreamResponse(sequence=value).SerializeToString()
        assert encoded == b"\x10" + wire.varint(value)


def test_payloads_must_hold_the_header() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        wire.BatchTemplate("q", 1, 15, types_pb2.GUARANTEE_AT_LEAST_ONCE)
