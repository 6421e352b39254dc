"""Record framing: encode one frame, decode frames from a segment's bytes.

Frame layout (little-endian; the format is specified in ``broker.wal``'s docstring)::

    length u32 | header_crc u32 | crc u32 | type u8 | body (length - 1 bytes)

``header_crc`` is the CRC32C of the four ``length`` bytes alone, so a damaged length is told
from a write cut short; ``crc`` covers ``length``, ``type`` and ``body``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import google_crc32c

from broker.wal.errors import CorruptRecordError, RecordTooLargeError, TornTailError

HEADER = struct.Struct("<III")
"""``length``, ``header_crc`` and ``crc``; the type byte follows and is counted in ``length``."""
_LENGTH = struct.Struct("<I")

MIN_FRAME_BYTES = HEADER.size + 1
"""Header plus the type byte: the smallest valid frame (an empty body)."""

MAX_RECORD_BYTES = 16 * 1024 * 1024
"""Upper bound of ``length`` (type + body).

Writers split larger batches into several records, so one record never needs more; it bounds
what the reader allocates for one frame, and a length above it is damage by definition.
"""

_crc = google_crc32c.value
_extend = google_crc32c.extend


@dataclass(frozen=True, slots=True)
class Record:
    """One decoded frame: ``offset`` is where it starts in its file, ``end`` where it stops."""

    type: int
    body: bytes
    offset: int
    end: int


def encode(record_type: int, body: bytes) -> bytes:
    """Return the frame for one record. Raises ``RecordTooLargeError`` past the limit."""
    return frame_header(record_type, body) + body


def frame_header(record_type: int, body: bytes) -> bytes:
    """The frame's header and type byte, for writers that send ``body`` separately (no copy)."""
    if not 0 <= record_type <= 0xFF:
        raise ValueError(f"record type must fit in a byte, got {record_type}")
    length = 1 + len(body)
    if length > MAX_RECORD_BYTES:
        raise RecordTooLargeError(
            f"WAL record of {length} bytes exceeds MAX_RECORD_BYTES ({MAX_RECORD_BYTES})"
        )
    length_bytes = _LENGTH.pack(length)
    type_byte = bytes((record_type,))
    crc = _extend(_extend(_crc(length_bytes), type_byte), body)
    return HEADER.pack(length, _crc(length_bytes), crc) + type_byte


def _zeros_from(buf: bytes, start: int) -> bool:
    """True if every byte from ``start`` to the end of ``buf`` is zero."""
    return buf.count(0, start) == len(buf) - start


def _zero_tail_starts_before(buf: bytes, limit: int) -> bool:
    """True if the bytes from some offset below ``limit`` to the end of ``buf`` are all zero:
    a filesystem may extend a file before the data of the write that extended it lands."""
    last = len(buf.rstrip(b"\x00"))
    return last < limit


def decode_at(buf: bytes, offset: int, *, path: Path, is_last: bool) -> Record | None:
    """Decode the frame at ``offset`` of a segment's bytes; ``None`` at a clean end.

    ``is_last`` says whether ``buf`` is the last segment: only there can a crash leave an
    incomplete write, so only there is damage classified as a torn tail (``TornTailError``):

    - the file ends inside the frame header, or after a sound header (its checksum matches)
      whose frame runs past the end of the file;
    - zero-filled bytes run to the end of the file from inside the frame (a header or body
      checksum mismatch there).

    Everything else raises ``CorruptRecordError``: a header whose checksum does not match (a
    damaged length is caught here, before it can pass for a short write), a body checksum
    mismatch with data after it, and any damage in a segment other than the last, which was
    fsynced in full before its successor was created.
    """
    size = len(buf)
    if offset == size:
        return None

    def damaged(reason: str, torn: bool) -> Exception:
        if torn and is_last:
            return TornTailError(path, offset, reason)
        return CorruptRecordError(path, offset, reason)

    header_end = offset + HEADER.size
    if header_end > size:
        raise damaged(f"file ends inside a frame header ({size - offset} bytes left)", True)
    length, header_crc, crc = HEADER.unpack_from(buf, offset)
    if _crc(buf[offset : offset + 4]) != header_crc:
        if _zeros_from(buf, offset):
            raise damaged("zero-filled tail", True)
        torn = _zero_tail_starts_before(buf, header_end)
        raise damaged("frame header checksum mismatch (damaged length)", torn)
    if not 1 <= length <= MAX_RECORD_BYTES:
        raise damaged(f"impossible length {length} (limit {MAX_RECORD_BYTES})", False)
    end = header_end + length
    if end > size:
        raise damaged(f"frame of {length} bytes runs past end of file ({size})", True)
    body = buf[header_end + 1 : end]
    if (
        _extend(_extend(_crc(buf[offset : offset + 4]), buf[header_end : header_end + 1]), body)
        != crc
    ):
        raise damaged("checksum mismatch", _zero_tail_starts_before(buf, end))
    return Record(buf[header_end], body, offset, end)
