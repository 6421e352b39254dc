"""Shared helpers for the WAL tests: building real logs, reading them back, injecting faults."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from broker.wal import SEGMENT_HEADER_BYTES, FileOps, FsyncPolicy, Position, WalReader, WalWriter


def body(i: int) -> bytes:
    """A recognisable body that never ends in a zero byte (so a flip in it is never 'torn')."""
    return b"record-%05d|" % i * 3


@dataclass(frozen=True)
class Frame:
    path: Path
    start: int
    end: Position
    type: int
    body: bytes


def frames(directory: Path, start: Position | None = None) -> list[Frame]:
    """Every record with its file and start offset; raises if the log is damaged."""
    reader = WalReader(directory, start)
    out: list[Frame] = []
    previous = start
    for end, record_type, data in reader:
        begin = (
            previous.offset
            if previous and previous.segment == end.segment
            else SEGMENT_HEADER_BYTES
        )
        path = directory / f"{end.segment:016x}.wal"
        out.append(Frame(path, begin, end, record_type, data))
        previous = end
    return out


def segment_paths(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.wal"))


def names(directory: Path, pattern: str = "*") -> list[str]:
    return sorted(p.name for p in directory.glob(pattern))


def log_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in segment_paths(directory))


def read_all(directory: Path, start: Position | None = None) -> list[tuple[int, bytes]]:
    return [(t, b) for _, t, b in WalReader(directory, start)]


async def build_log(
    directory: Path, count: int, *, segment_bytes: int = 1024
) -> list[tuple[int, bytes]]:
    """Append ``count`` records one at a time (one batch each) and close."""
    records = [(i % 7, body(i)) for i in range(count)]
    writer = await WalWriter.open(directory, policy=FsyncPolicy.ALWAYS, segment_bytes=segment_bytes)
    for record in records:
        await writer.append([record])
    await writer.close()
    return records


class FaultyOps(FileOps):
    """Real operations until armed; then the N+1-th write (or fsync) and every later one fails,
    as a failing disk would. A failing write may first write all but its last byte (torn)."""

    def __init__(self) -> None:
        self.writes_left: int | None = None
        self.fsyncs_left: int | None = None
        self.partial = False
        self.fsync_calls = 0

    def write(self, fd: int, data: bytes | memoryview) -> int:
        if self.writes_left is not None:
            if self.writes_left <= 0:
                if self.partial:
                    os.write(fd, data[: len(data) - 1])
                raise OSError(errno.EIO, "injected write failure")
            self.writes_left -= 1
        return super().write(fd, data)

    def fsync(self, fd: int) -> None:
        self.fsync_calls += 1
        if self.fsyncs_left is not None:
            if self.fsyncs_left <= 0:
                raise OSError(errno.EIO, "injected fsync failure")
            self.fsyncs_left -= 1
        super().fsync(fd)
