"""Check and repair a log directory, and ready it for appending after a crash.

- ``verify`` reads everything and changes nothing.
- ``prepare_for_append`` (used by ``WalWriter.open``) fixes only what a crash is expected to
  leave - a torn tail in the last segment - and refuses corruption.
- ``repair`` is the operator's tool: it also truncates at mid-log corruption, dropping every
  later record. Nothing is ever deleted: each file it shortens or drops is kept as ``.broken``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from broker.wal.errors import CorruptRecordError, LogDamageError, TornTailError
from broker.wal.fileops import DEFAULT_OPS, FileOps, fsync_dir
from broker.wal.reader import WalReader
from broker.wal.record import decode_at
from broker.wal.segment import (
    SEGMENT_HEADER_BYTES,
    Position,
    create_segment,
    list_segments,
    parse_segment_name,
    remove_temp_files,
    unused_name,
)

BROKEN_SUFFIX = ".broken"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What ``verify`` found. ``problem`` is the first one; reading stops there."""

    records: int
    segments: int
    bytes: int
    end: Position
    problem: LogDamageError | None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class RepairReport:
    """What was cut from the log, so an operator knows what was lost.

    ``dropped_records`` is a lower bound: records that still decode in dropped whole segments.
    Past a corrupt record in the same segment, frame boundaries cannot be trusted to count.
    """

    problem: LogDamageError | None
    end: Position
    broken_copies: tuple[Path, ...] = ()
    dropped_segments: tuple[Path, ...] = ()
    dropped_bytes: int = 0
    dropped_records: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.broken_copies)


def _scan(
    directory: Path, start: Position | None = None
) -> tuple[WalReader, CorruptRecordError | None]:
    reader = WalReader(directory, start)
    try:
        for _ in reader:
            pass
    except CorruptRecordError as exc:
        return reader, exc
    return reader, None


def verify(directory: Path) -> VerifyReport:
    """Read the whole log and report on it, without changing anything."""
    reader, corrupt = _scan(Path(directory))
    end = reader.end or Position(0, 0)
    return VerifyReport(reader.records, reader.segments, reader.bytes, end, corrupt or reader.torn)


def _truncate(path: Path, offset: int, ops: FileOps) -> Path:
    """Keep a ``.broken`` copy of ``path``, then cut it to ``offset`` bytes durably."""
    copy = unused_name(path, BROKEN_SUFFIX)
    shutil.copyfile(path, copy)
    fd = os.open(path, os.O_RDWR)
    try:
        copy_fd = os.open(copy, os.O_RDONLY)
        try:
            ops.fsync(copy_fd)
        finally:
            os.close(copy_fd)
        os.ftruncate(fd, offset)
        ops.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(ops, path.parent)
    return copy


def _count_records(path: Path) -> int:
    buf = path.read_bytes()
    count, offset = 0, SEGMENT_HEADER_BYTES
    try:
        while (record := decode_at(buf, offset, path=path, is_last=True)) is not None:
            count, offset = count + 1, record.end
    except (CorruptRecordError, TornTailError):
        pass
    return count


def repair(directory: Path, ops: FileOps = DEFAULT_OPS) -> RepairReport:
    """Truncate the log at its first problem, torn tail or corruption, and say what was lost.

    The damaged segment is copied to ``.broken`` and cut at the last good record; every later
    segment is renamed to ``.broken``. A healthy log is left untouched.
    """
    directory = Path(directory)
    reader, corrupt = _scan(directory)
    problem = corrupt or reader.torn
    if problem is None:
        return RepairReport(None, reader.end or Position(0, 0))
    bad_index = parse_segment_name(problem.path.name)
    if bad_index is None:
        raise problem  # not about a segment file, so there is nothing safe to cut
    copies: list[Path] = []
    dropped_bytes = 0
    end = Position(bad_index, problem.offset)
    if problem.path.exists():
        dropped_bytes += problem.path.stat().st_size - problem.offset
        copies.append(_truncate(problem.path, problem.offset, ops))
    else:  # a gap: the log ends with the segment before the missing one
        end = reader.end or Position(bad_index, 0)
    dropped: list[Path] = []
    dropped_records = 0
    for index, path in list_segments(directory):
        if index > bad_index:
            dropped_records += _count_records(path)
            dropped_bytes += path.stat().st_size
            broken = unused_name(path, BROKEN_SUFFIX)
            os.replace(path, broken)
            dropped.append(path)
            copies.append(broken)
    fsync_dir(ops, directory)
    return RepairReport(problem, end, tuple(copies), tuple(dropped), dropped_bytes, dropped_records)


def prepare_for_append(
    directory: Path, ops: FileOps = DEFAULT_OPS
) -> tuple[Position, RepairReport]:
    """Ready a log directory for appending after a clean stop or a crash; return its end.

    Creates the directory and segment 0 if needed, removes interrupted temp files, and truncates
    a torn tail of the last segment (keeping ``.broken``). Only the last segment is read: earlier
    ones are checked by whoever replays them. Corruption raises ``CorruptRecordError``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    remove_temp_files(directory)
    segments = list_segments(directory)
    if not segments or segments[-1][1].stat().st_size == 0:
        # No log yet, or an empty last segment (format 1 wrote none): it holds no records, so
        # (re)creating it with this format's header loses nothing.
        index = segments[-1][0] if segments else 0
        create_segment(directory, index, ops)
        start = Position(index, SEGMENT_HEADER_BYTES)
        return start, RepairReport(None, start)
    index, path = segments[-1]
    reader, corrupt = _scan(directory, Position(index, 0))
    if corrupt is not None:
        raise corrupt
    end = reader.end or Position(index, 0)
    torn = reader.torn
    if torn is None:
        return end, RepairReport(None, end)
    dropped_bytes = path.stat().st_size - torn.offset
    copy = _truncate(path, torn.offset, ops)
    return end, RepairReport(torn, end, (copy,), (), dropped_bytes, 0)
