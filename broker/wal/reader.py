"""Read the log: every record of every segment, in order, from a position.

Meant for a log no writer is appending to: at startup (after loading a snapshot), or to verify.
Each segment is read into memory whole (at most a segment size plus one batch).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from broker.wal.errors import CorruptRecordError, TornTailError
from broker.wal.record import decode_at
from broker.wal.segment import (
    SEGMENT_HEADER_BYTES,
    Position,
    check_segment_header,
    list_segments,
    segment_name,
)


class WalReader:
    """Iterate ``(position, type, body)`` from ``start`` (default: the oldest segment present).

    ``position`` is where the record ends, matching what ``WalWriter.append`` returned for it.
    A torn tail in the last segment ends iteration quietly and is left in ``torn``; ``end`` is
    then where the good data stops, i.e. where the opener truncates. Corruption anywhere else -
    including a torn-looking frame in an earlier segment, a gap in segment numbers, or a
    ``start`` beyond the log - raises ``CorruptRecordError``; a segment of another format
    raises ``UnsupportedFormatError``. An empty last segment (left by format 1, which wrote no
    header) reads as holding nothing; the opener gives it a header.
    """

    def __init__(self, directory: Path, start: Position | None = None) -> None:
        self.directory = Path(directory)
        self.start = start
        self.torn: TornTailError | None = None
        self.end: Position | None = None
        self.records = 0
        self.segments = 0
        self.bytes = 0

    def __iter__(self) -> Iterator[tuple[Position, int, bytes]]:
        segments = list_segments(self.directory)
        if not segments:
            if self.start not in (None, Position(0, 0)):
                raise CorruptRecordError(self.directory, 0, f"log is empty, expected {self.start}")
            self.end = Position(0, 0)
            return
        start = self.start or Position(segments[0][0], 0)
        wanted = [(i, p) for i, p in segments if i >= start.segment]
        last_index = segments[-1][0]
        expected = start.segment
        for index, path in wanted:
            if index != expected:
                raise CorruptRecordError(
                    self.directory / segment_name(expected), 0, "segment missing (gap in log)"
                )
            expected += 1
            yield from self._read_segment(index, path, start, is_last=index == last_index)
        if not wanted:
            raise CorruptRecordError(
                self.directory / segment_name(start.segment), 0, f"log ends before {start}"
            )

    def _read_segment(
        self, index: int, path: Path, start: Position, *, is_last: bool
    ) -> Iterator[tuple[Position, int, bytes]]:
        buf = path.read_bytes()
        if not buf and is_last:
            self.segments += 1
            self.end = Position(index, 0)
            return
        check_segment_header(path, buf)
        offset = start.offset if index == start.segment else 0
        offset = max(offset, SEGMENT_HEADER_BYTES)
        if offset > len(buf):
            raise CorruptRecordError(path, len(buf), f"segment ends before start offset {offset}")
        self.segments += 1
        self.end = Position(index, offset)
        while True:
            try:
                record = decode_at(buf, offset, path=path, is_last=is_last)
            except TornTailError as torn:
                self.torn = torn
                return
            if record is None:
                return
            offset = record.end
            self.end = Position(index, offset)
            self.records += 1
            self.bytes += record.end - record.offset
            yield self.end, record.type, record.body
