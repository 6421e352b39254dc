"""Pre-built request bytes and the header every benchmark payload starts with.

The client side must cost little next to the server, so a producer serializes its Send batch
once (``BatchTemplate``) and, per call, only writes each message's header into a copy of those
bytes: the content of the rest of the payload does not matter to a broker. The same bytes serve
``Send`` and ``SendStream`` (their requests share field numbers 1-3; a stream request gets its
``sequence``, field 5, appended: protobuf fields may come in any order).

Payload header (little-endian, the first ``HEADER.size`` = 16 bytes of every payload)::

    send_time_ns(8, signed)  producer(4)  sequence(4)

``send_time_ns`` is ``time.monotonic_ns()`` of the producer (Linux ``CLOCK_MONOTONIC``, one
clock for every process on the machine), so a consumer in another process can subtract it from
its own ``time.monotonic_ns()``. ``producer`` and ``sequence`` name the message, so consumers
count distinct messages and duplicates without reading the server's ids.
"""

from __future__ import annotations

import os
import struct

from conveyor.v1 import broker_pb2, types_pb2

HEADER = struct.Struct("<qII")
"""send time (ns, CLOCK_MONOTONIC), producer index, sequence number within the producer."""
MIN_PAYLOAD = HEADER.size
_MARK = b"\xc7\x1e\x5a\x93"
"""Starts every placeholder header, so each payload's offset can be found in the bytes."""
_SEQUENCE_TAG = b"\x28"
"""Field 5 (``SendStreamRequest.sequence``), wire type 0 (varint)."""


def varint(value: int) -> bytes:
    """Protobuf base-128 varint of a non-negative integer."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def stream_request(body: bytes, sequence: int) -> bytes:
    """A ``SendStreamRequest`` from the bytes of a ``SendRequest`` (fields 1-3) and a sequence."""
    return body + _SEQUENCE_TAG + varint(sequence)


class BatchTemplate:
    """The serialized ``SendRequest`` of ``count`` messages of ``payload`` bytes, and where
    each payload starts, so ``render`` only patches headers into a copy."""

    def __init__(
        self, queue: str, count: int, payload: int, guarantee: types_pb2.Guarantee.ValueType
    ) -> None:
        if payload < MIN_PAYLOAD:
            raise ValueError(f"payloads must be at least {MIN_PAYLOAD} bytes (the header)")
        if count < 1:
            raise ValueError("a batch holds at least one message")
        filler = os.urandom(payload - MIN_PAYLOAD)  # incompressible, the same in every message
        messages = [
            types_pb2.Message(
                payload=_MARK + i.to_bytes(4, "little") + bytes(HEADER.size - 8) + filler,
                guarantee=guarantee,
            )
            for i in range(count)
        ]
        request = broker_pb2.SendRequest(
            queue=queue, messages=messages, wait_for=types_pb2.WAIT_FOR_STORED
        )
        self.count = count
        self._buffer = bytearray(request.SerializeToString())
        self.offsets: list[int] = []
        at = 0
        for i in range(count):
            at = self._buffer.find(_MARK + i.to_bytes(4, "little"), at)
            if at < 0:  # pragma: no cover - the marks were put there above
                raise RuntimeError("payload not found in its own request")
            self.offsets.append(at)
            at += HEADER.size

    def render(self, send_time_ns: int, producer: int, first_sequence: int) -> bytes:
        """The request bytes with every message's header set (sequences counting up)."""
        buf, pack = self._buffer, HEADER.pack_into
        for i, offset in enumerate(self.offsets):
            pack(buf, offset, send_time_ns, producer, first_sequence + i)
        return bytes(buf)


def read_header(payload: bytes) -> tuple[int, int, int]:
    """``(send_time_ns, producer, sequence)`` of a benchmark payload."""
    return HEADER.unpack_from(payload)
