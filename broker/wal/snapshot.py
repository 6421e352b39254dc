"""Snapshots: the whole state as framed records, plus the log position it covers.

Recovery loads the newest snapshot and replays the log from its position; compaction then
deletes segments wholly before that position. A snapshot must only name a position the log
holds durably (``WalWriter.sync()`` returns one), or replay could start past the log's end.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from broker.wal.errors import CorruptRecordError, CorruptSnapshotError
from broker.wal.fileops import DEFAULT_OPS, FileOps, fsync_dir, write_all
from broker.wal.record import decode_at, encode
from broker.wal.segment import TEMP_SUFFIX, Position, list_segments

SNAPSHOT_SUFFIX = ".snap"
_SNAPSHOT_NAME = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{16})\.snap$")
_MAGIC = b"CVSNAP01"
_HEADER_BODY = struct.Struct("<8sQQQ")  # magic, segment, offset, record count
_HEADER_TYPE = 0

KEEP_SNAPSHOTS = 1
"""Only the newest snapshot is kept: an older one cannot be replayed once the segments after it
are deleted, and keeping it would double the disk use of live data."""

_CHUNK_BYTES = 1 << 20
"""Frames are gathered into writes of about this size: few syscalls, bounded memory."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    path: Path
    position: Position
    records: list[tuple[int, bytes]]


def snapshot_name(position: Position) -> str:
    return f"{position.segment:016x}-{position.offset:016x}{SNAPSHOT_SUFFIX}"


def list_snapshots(directory: Path) -> list[tuple[Position, Path]]:
    """Snapshots in ``directory`` as ``(position, path)``, oldest first."""
    found = []
    for path in Path(directory).iterdir():
        if match := _SNAPSHOT_NAME.match(path.name):
            found.append((Position(int(match[1], 16), int(match[2], 16)), path))
    return sorted(found)


def _header(position: Position, count: int) -> bytes:
    return encode(_HEADER_TYPE, _HEADER_BODY.pack(_MAGIC, *position, count))


def write_snapshot(
    directory: Path,
    position: Position,
    records: Iterable[tuple[int, bytes]],
    ops: FileOps = DEFAULT_OPS,
) -> Path:
    """Write a snapshot atomically (temp file, fsync, rename, directory fsync); return its path.

    The header frame holds the record count, so a snapshot cut short at a frame boundary is
    still detected. Its size is fixed, so it is written last, over a placeholder.
    """
    directory = Path(directory)
    path = directory / snapshot_name(position)
    temp = path.with_name(path.name + TEMP_SUFFIX)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(ops, fd, _header(position, 0))
        count, chunk = 0, bytearray()
        for record_type, body in records:
            chunk += encode(record_type, body)
            count += 1
            if len(chunk) >= _CHUNK_BYTES:
                write_all(ops, fd, bytes(chunk))
                chunk.clear()
        write_all(ops, fd, bytes(chunk))
        os.lseek(fd, 0, os.SEEK_SET)
        write_all(ops, fd, _header(position, count))
        ops.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    fsync_dir(ops, directory)
    return path


def read_snapshot(path: Path) -> Snapshot:
    """Read and fully check one snapshot. Any damage raises ``CorruptSnapshotError``."""
    buf = path.read_bytes()
    try:
        header = decode_at(buf, 0, path=path, is_last=False)
        if header is None or len(header.body) != _HEADER_BODY.size:
            raise CorruptSnapshotError(path, 0, "missing or malformed header")
        magic, segment, offset, count = _HEADER_BODY.unpack(header.body)
        if magic != _MAGIC:
            raise CorruptSnapshotError(path, 0, f"bad magic {magic!r}")
        position = Position(segment, offset)
        if path.name != snapshot_name(position):
            raise CorruptSnapshotError(path, 0, f"header says {position}, name disagrees")
        records, at = [], header.end
        while (record := decode_at(buf, at, path=path, is_last=False)) is not None:
            records.append((record.type, record.body))
            at = record.end
    except CorruptSnapshotError:
        raise
    except CorruptRecordError as exc:
        raise CorruptSnapshotError(exc.path, exc.offset, exc.reason) from exc
    if len(records) != count:
        raise CorruptSnapshotError(path, at, f"{len(records)} records, header says {count}")
    return Snapshot(path, position, records)


def load_snapshot(directory: Path) -> Snapshot | None:
    """The newest snapshot, or ``None`` if there is none.

    Strict: a damaged newest snapshot raises rather than falling back to an older one, whose
    log may already be compacted away; an operator decides (delete it and restart, or restore).
    """
    snapshots = list_snapshots(directory)
    return read_snapshot(snapshots[-1][1]) if snapshots else None


def delete_segments_before(
    directory: Path, position: Position, ops: FileOps = DEFAULT_OPS
) -> list[Path]:
    """Compact after a snapshot at ``position``: delete segments wholly before it, and all but
    the newest ``KEEP_SNAPSHOTS`` snapshots. Returns what was deleted.

    Safe while a writer appends: the newest segment, the writer's, is never deleted.
    """
    directory = Path(directory)
    segments = list_segments(directory)
    doomed = [path for index, path in segments[:-1] if index < position.segment]
    doomed += [path for _, path in list_snapshots(directory)[:-KEEP_SNAPSHOTS]]
    for path in doomed:
        path.unlink(missing_ok=True)
    if doomed:
        fsync_dir(ops, directory)
    return doomed
