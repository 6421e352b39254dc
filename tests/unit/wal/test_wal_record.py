"""Framing: encode/decode round trips and how each kind of damage is classified."""

from __future__ import annotations

import struct
from pathlib import Path

import google_crc32c
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.wal import (
    MAX_RECORD_BYTES,
    CorruptRecordError,
    LogDamageError,
    RecordTooLargeError,
    TornTailError,
    decode_at,
    encode,
)

PATH = Path("/logs/0000000000000000.wal")


def decode_all(buf: bytes, *, is_last: bool = True) -> list[tuple[int, bytes]]:
    out, offset = [], 0
    while (record := decode_at(buf, offset, path=PATH, is_last=is_last)) is not None:
        out.append((record.type, record.body))
        offset = record.end
    return out


@pytest.mark.parametrize(
    ("record_type", "body"),
    [(0, b""), (1, b"x"), (255, b"\x00" * 10), (42, bytes(range(256)) * 40)],
)
def test_round_trip(record_type: int, body: bytes) -> None:
    frame = encode(record_type, body)
    assert len(frame) == 13 + len(body)
    record = decode_at(frame, 0, path=PATH, is_last=True)
    assert record is not None
    assert (record.type, record.body, record.offset, record.end) == (
        record_type,
        body,
        0,
        len(frame),
    )


def test_layout_is_length_header_crc_crc_type_body() -> None:
    frame = encode(7, b"hello")
    length, header_crc, crc = struct.unpack_from("<III", frame)
    assert length == 6
    assert header_crc == google_crc32c.value(struct.pack("<I", 6))
    assert crc == google_crc32c.value(struct.pack("<I", 6) + b"\x07hello")
    assert frame[12:] == b"\x07hello"
    # CRC32C (Castagnoli) check value, so the format is pinned to the right polynomial.
    assert google_crc32c.value(b"123456789") == 0xE3069283


def test_several_frames_in_a_row() -> None:
    records = [(i, b"b" * i) for i in range(20)]
    assert decode_all(b"".join(encode(t, b) for t, b in records)) == records


def test_limits() -> None:
    encode(1, b"x" * (MAX_RECORD_BYTES - 1))
    with pytest.raises(RecordTooLargeError):
        encode(1, b"x" * MAX_RECORD_BYTES)
    with pytest.raises(ValueError, match="byte"):
        encode(256, b"")


GOOD = encode(1, b"first record") + encode(2, b"second record")
LAST = len(encode(1, b"first record"))


def _flip(buf: bytes, at: int) -> bytes:
    return buf[:at] + bytes((buf[at] ^ 0x10,)) + buf[at + 1 :]


def _length(buf: bytes, at: int, value: int) -> bytes:
    return buf[:at] + struct.pack("<I", value) + buf[at + 4 :]


@pytest.mark.parametrize(
    ("name", "buf", "torn_if_last"),
    [
        ("short header", GOOD[: LAST + 5], True),
        ("short body", GOOD[:-3], True),
        ("zero-filled tail after frames", GOOD[:LAST] + bytes(100), True),
        (
            "zeros from inside the last frame",
            GOOD[: LAST + 12] + bytes(len(GOOD) - LAST - 12),
            True,
        ),
        ("checksum mismatch", _flip(GOOD, LAST + 12), False),
        ("zero length then data", _length(GOOD, LAST, 0), False),
        ("impossible length", _length(GOOD, LAST, MAX_RECORD_BYTES + 1), False),
        # A flipped bit that makes a length run past the end of the file: the header checksum
        # tells it from a write cut short, so acknowledged records are never cut off as torn.
        ("length flipped past the end", _length(GOOD, LAST, len(GOOD) - LAST + 4096), False),
        ("flipped length bit", _flip(GOOD, LAST + 1), False),
    ],
)
def test_damage_classification(name: str, buf: bytes, torn_if_last: bool) -> None:
    expected: type[LogDamageError] = TornTailError if torn_if_last else CorruptRecordError
    with pytest.raises(expected) as info:
        decode_all(buf, is_last=True)
    assert info.value.offset == LAST, name
    # Outside the last segment a crash cannot leave partial writes: everything is corruption.
    with pytest.raises(CorruptRecordError) as corrupt:
        decode_all(buf, is_last=False)
    assert corrupt.value.offset == LAST
    assert str(PATH) in str(corrupt.value)
    assert f"offset {LAST}" in str(corrupt.value)


def test_a_sound_header_with_its_body_missing_is_torn_only_at_the_end() -> None:
    cut = GOOD[: LAST + 14]  # header and two bytes of the second frame's body
    with pytest.raises(TornTailError, match="runs past end"):
        decode_all(cut)
    with pytest.raises(CorruptRecordError, match="runs past end"):
        decode_all(cut, is_last=False)


def test_zero_tail_is_torn_at_the_first_zero_frame() -> None:
    with pytest.raises(TornTailError) as info:
        decode_all(GOOD + bytes(3))
    assert info.value.offset == len(GOOD)


@settings(max_examples=300, deadline=2000)
@given(garbage=st.binary(max_size=600), is_last=st.booleans(), prefix=st.booleans())
def test_garbage_only_yields_valid_records_or_typed_errors(
    garbage: bytes, is_last: bool, prefix: bool
) -> None:
    buf = (GOOD if prefix else b"") + garbage
    try:
        records = decode_all(buf, is_last=is_last)
    except CorruptRecordError:
        return
    except TornTailError:
        assert is_last
        return
    # Whatever decodes cleanly is exactly what encode would have produced.
    assert b"".join(encode(t, b) for t, b in records) == buf
