"""Segment files: naming, listing, the format header, safe creation, and the log's append end.

Invariant: every segment except the last was written and fsynced in full before its successor
was created, whatever the fsync policy. So only the last segment can end in a torn write.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
from pathlib import Path
from typing import NamedTuple

import google_crc32c

from broker.wal.errors import CorruptRecordError, UnsupportedFormatError
from broker.wal.fileops import DEFAULT_OPS, FileOps, fsync_dir, write_all

SEGMENT_SUFFIX = ".wal"
TEMP_SUFFIX = ".tmp"
_SEGMENT_NAME = re.compile(r"^([0-9a-f]{16})\.wal$")

DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
"""Cut size. Large enough that cuts (three fsyncs each) are rare; small enough that compaction
after a snapshot frees disk in useful steps and a damaged segment is cheap to set aside."""


FORMAT_VERSION = 2
"""The on-disk format this code writes and reads (format 1, Conveyor 0.1, had no header)."""
_MAGIC = b"CONVEYOR"
_HEADER = struct.Struct("<8sII")  # magic, format version, CRC32C of the 12 bytes before it
SEGMENT_HEADER_BYTES = _HEADER.size
"""Every segment starts with this header; its first frame follows."""


def segment_header() -> bytes:
    head = _MAGIC + struct.pack("<I", FORMAT_VERSION)
    return head + struct.pack("<I", google_crc32c.value(head))


def check_segment_header(path: Path, buf: bytes) -> None:
    """Raises unless ``buf`` (a segment's bytes) starts with this format's header.

    A segment of format 1 has no header: it starts with a frame. That is reported as
    ``UnsupportedFormatError`` naming the version, so an operator knows what wrote the data.
    """
    if len(buf) >= SEGMENT_HEADER_BYTES:
        magic, version, crc = _HEADER.unpack_from(buf, 0)
        if magic == _MAGIC and crc == google_crc32c.value(buf[:12]):
            if version != FORMAT_VERSION:
                raise UnsupportedFormatError(path, version, FORMAT_VERSION)
            return
    if _looks_like_format_1(buf):
        raise UnsupportedFormatError(path, 1, FORMAT_VERSION)
    raise CorruptRecordError(path, 0, "missing or damaged segment header")


def _looks_like_format_1(buf: bytes) -> bool:
    """Format 1 frames were ``length u32 | crc32c(type + body) u32 | type | body``."""
    if len(buf) < 9:
        return False
    length, crc = struct.unpack_from("<II", buf, 0)
    return 0 < length <= len(buf) - 8 and bool(google_crc32c.value(buf[8 : 8 + length]) == crc)


class Position(NamedTuple):
    """A point in the log: a segment index and a byte offset in it. Orders as the log does."""

    segment: int
    offset: int


def segment_name(index: int) -> str:
    return f"{index:016x}{SEGMENT_SUFFIX}"


def parse_segment_name(name: str) -> int | None:
    """The index of a segment file name, or ``None`` for any other file (temp, .broken...)."""
    match = _SEGMENT_NAME.match(name)
    return int(match.group(1), 16) if match else None


def list_segments(directory: Path) -> list[tuple[int, Path]]:
    """All segments in ``directory`` as ``(index, path)``, oldest first."""
    found = []
    for path in directory.iterdir():
        index = parse_segment_name(path.name)
        if index is not None:
            found.append((index, path))
    return sorted(found)


def unused_name(path: Path, suffix: str) -> Path:
    """``path`` + ``suffix``, numbered if taken, so evidence from an earlier repair survives."""
    candidate = path.with_name(path.name + suffix)
    n = 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}{suffix}.{n}")
    return candidate


def create_segment(directory: Path, index: int, ops: FileOps = DEFAULT_OPS) -> Path:
    """Create a segment holding only its header atomically: temp name, fsync, rename, fsync the
    directory. A crash leaves either no segment or a whole empty one, never a half-made file
    under a real name.
    """
    path = directory / segment_name(index)
    temp = path.with_name(path.name + TEMP_SUFFIX)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(ops, fd, segment_header())
        ops.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    fsync_dir(ops, directory)
    return path


def remove_temp_files(directory: Path) -> None:
    """Delete leftovers of creations a crash interrupted; they never held data."""
    for path in directory.glob(f"*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class SegmentFile:
    """The open last segment, appended to; cuts to a new segment past ``segment_bytes``.

    Not thread-safe: its owner (the writer task) lets one thread at a time call it. A batch
    never spans segments, so a segment may exceed ``segment_bytes`` by one batch.
    """

    def __init__(
        self,
        directory: Path,
        end: Position,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        ops: FileOps = DEFAULT_OPS,
    ) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.ops = ops
        self.index, self.size = end
        self.fsyncs = 0
        self.bytes_written = 0
        self._dirty = False
        self._fd = self._open(self.index)

    @property
    def position(self) -> Position:
        return Position(self.index, self.size)

    @property
    def dirty(self) -> bool:
        """Written since the last fsync."""
        return self._dirty

    def _open(self, index: int) -> int:
        return os.open(self.directory / segment_name(index), os.O_WRONLY | os.O_APPEND)

    def append(self, data: bytes) -> Position:
        """Write whole frames; return where they start. Cuts first if the segment is full.

        Not safe to call again after it raised: the file may end in part of ``data``.
        """
        if self.size >= self.segment_bytes and data:
            self.cut()
        start = self.position
        write_all(self.ops, self._fd, data)
        self.size += len(data)
        self.bytes_written += len(data)
        self._dirty = self._dirty or bool(data)
        return start

    def sync(self) -> None:
        if self._dirty:
            self.ops.fsync(self._fd)
            self.fsyncs += 1
            self._dirty = False

    def cut(self) -> None:
        """Seals this segment (fsynced) and continues in a new, empty one."""
        # The old segment must be complete on disk before the new one exists: see module doc.
        self.sync()
        create_segment(self.directory, self.index + 1, self.ops)
        fd = self._open(self.index + 1)
        os.close(self._fd)
        self._fd = fd
        self.index, self.size = self.index + 1, SEGMENT_HEADER_BYTES

    def close(self) -> None:
        os.close(self._fd)
