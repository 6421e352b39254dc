"""Record framing: encode one frame, decode frames from a segment's bytes.

Frame layout (little-endian; the format is specified in ``broker.wal``'s docstring)::

    length u32 | crc32c u32 | type u8 | body (length - 1 bytes)

``length`` counts ``type + body``; the CRC32C (Castagnoli) covers the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import google_crc32c

from broker.wal.errors import CorruptRecordError, RecordTooLargeError, TornTailError

HEADER = struct.Struct("<II")
"""``length`` and ``crc32c``; the type byte follows and is counted in ``length``."""

MIN_FRAME_BYTES = HEADER.size + 1
"""Header plus the type byte: the smallest valid frame (an empty body)."""

MAX_RECORD_BYTES = 16 * 1024 * 1024
"""Upper bound of ``length`` (type + body).

Four times gRPC's default 4 MiB message limit, so a record holding one message plus metadata
always fits, and well under the 64 MiB segment size so a record never dominates a segment. It
also bounds what a damaged length field can make the reader look at, and lets it call a length
with a high bit flipped what it is - corruption - instead of a frame that "runs past EOF".
"""


@dataclass(frozen=True, slots=True)
class Record:
    """One decoded frame: ``offset`` is where it starts in its file, ``end`` where it stops."""

    type: int
    body: bytes
    offset: int
    end: int


def encode(record_type: int, body: bytes) -> bytes:
    """Return the frame for one record. Raises ``RecordTooLargeError`` past the limit."""
    if not 0 <= record_type <= 0xFF:
        raise ValueError(f"record type must fit in a byte, got {record_type}")
    length = 1 + len(body)
    if length > MAX_RECORD_BYTES:
        raise RecordTooLargeError(
            f"WAL record of {length} bytes exceeds MAX_RECORD_BYTES ({MAX_RECORD_BYTES})"
        )
    type_byte = bytes((record_type,))
    crc = google_crc32c.extend(google_crc32c.value(type_byte), bytes(body))
    return b"".join((HEADER.pack(length, crc), type_byte, body))


def _zero_from(buf: bytes, start: int) -> bool:
    """True if every byte from ``start`` to the end of ``buf`` is zero."""
    return buf.count(0, start) == len(buf) - start


def decode_at(buf: bytes, offset: int, *, path: Path, is_last: bool) -> Record | None:
    """Decode the frame at ``offset`` of a segment's bytes; ``None`` at a clean end.

    ``is_last`` says whether ``buf`` is the last segment: only there can a crash leave an
    incomplete write, so only there is damage classified as a torn tail (``TornTailError``):

    - the file ends inside the frame (short header or a length that runs past EOF);
    - zero-filled bytes to EOF: a zero length, or a checksum mismatch where the zeros start
      inside the frame (filesystems may extend a file before its data reaches the disk).

    Everything else - and any of the above outside the last segment, which was fsynced in full
    before its successor was created - raises ``CorruptRecordError``. A flipped byte in the last
    record whose body happens to end in zeros reads as torn; that loses only that record.
    """
    size = len(buf)
    if offset == size:
        return None

    def damaged(reason: str, torn: bool) -> Exception:
        if torn and is_last:
            return TornTailError(path, offset, reason)
        return CorruptRecordError(path, offset, reason)

    if size - offset < HEADER.size:
        raise damaged(f"file ends inside a frame header ({size - offset} bytes left)", True)
    length, stored_crc = HEADER.unpack_from(buf, offset)
    if length == 0:
        zeros = _zero_from(buf, offset)
        raise damaged("zero-filled tail" if zeros else "zero length", zeros)
    if length > MAX_RECORD_BYTES:
        raise damaged(f"impossible length {length} (limit {MAX_RECORD_BYTES})", False)
    end = offset + HEADER.size + length
    if end > size:
        raise damaged(f"frame of {length} bytes runs past end of file ({size})", True)
    payload = buf[offset + HEADER.size : end]
    if google_crc32c.value(payload) != stored_crc:
        raise damaged("checksum mismatch", _zero_from(buf, end - 1))
    return Record(payload[0], payload[1:], offset, end)
