"""Faults, table-driven in the style of etcd's repair_test: each case damages a real log at a
chosen record, then checks how reading, opening, verify and repair treat it."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from wal_helpers import (
    Frame,
    body,
    build_log,
    frames,
    log_bytes,
    names,
    read_all,
    segment_paths,
)

from broker.wal import (
    MAX_RECORD_BYTES,
    SEGMENT_HEADER_BYTES,
    CorruptRecordError,
    LogDamageError,
    Position,
    TornTailError,
    WalReader,
    WalWriter,
    repair,
    verify,
)

# --- corrupt(path, offset): damage the segment at ``path`` at the frame starting at ``offset``


def truncate_mid_frame(path: Path, offset: int) -> None:
    os.truncate(path, offset + 12)


def truncate_mid_header(path: Path, offset: int) -> None:
    os.truncate(path, offset + 3)


def zero_tail(path: Path, offset: int) -> None:
    """Zeros from inside the frame to EOF: the size reached the disk, the data did not."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(offset + 12)
        f.write(bytes(size - offset - 12))


def zero_from_frame(path: Path, offset: int) -> None:
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(bytes(size - offset))


def preallocated_zeros(path: Path, offset: int) -> None:
    with path.open("ab") as f:
        f.write(bytes(4096))


def flip_byte(path: Path, offset: int) -> None:
    with path.open("r+b") as f:
        f.seek(offset + 12)
        byte = f.read(1)[0]
        f.seek(offset + 12)
        f.write(bytes((byte ^ 0x40,)))


def _set_length(value: int) -> Callable[[Path, int], None]:
    def corrupt(path: Path, offset: int) -> None:
        with path.open("r+b") as f:
            f.seek(offset)
            f.write(struct.pack("<I", value))

    return corrupt


bad_length = _set_length(MAX_RECORD_BYTES + 1)
zero_length = _set_length(0)
past_the_end = _set_length(1_000_000)
"""A flipped bit that sends a mid-segment length past the end of the file: format 1 read this
as a torn tail and silently cut acknowledged records; the header checksum catches it."""


def broken_bytes(path: Path) -> bytes:
    return path.with_name(path.name + ".broken").read_bytes()


# --- which record to damage


def last(fs: list[Frame]) -> int:
    return len(fs) - 1


def middle_of_last_segment(fs: list[Frame]) -> int:
    in_last = [i for i, f in enumerate(fs) if f.path == fs[-1].path]
    return in_last[len(in_last) // 2]


def middle_of_first_segment(fs: list[Frame]) -> int:
    in_first = [i for i, f in enumerate(fs) if f.path == fs[0].path]
    return in_first[len(in_first) // 2]


def end_of_first_segment(fs: list[Frame]) -> int:
    return max(i for i, f in enumerate(fs) if f.path == fs[0].path)


@dataclass(frozen=True)
class Case:
    corrupt: Callable[[Path, int], None]
    target: Callable[[list[Frame]], int]
    torn: bool
    loses_target: bool = True  # False when the damage lies wholly after the target record


CASES = {
    "truncate mid frame": Case(truncate_mid_frame, last, torn=True),
    "truncate mid header": Case(truncate_mid_header, last, torn=True),
    "zero the tail": Case(zero_tail, last, torn=True),
    "zeros from a middle frame on": Case(zero_from_frame, middle_of_last_segment, torn=True),
    "preallocated zeros": Case(preallocated_zeros, last, torn=True, loses_target=False),
    "flip a byte in the last record": Case(flip_byte, last, torn=False),
    "flip a byte in an older segment": Case(flip_byte, middle_of_first_segment, torn=False),
    "torn-looking end of an older segment": Case(
        truncate_mid_frame, end_of_first_segment, torn=False
    ),
    "zeroed end of an older segment": Case(zero_tail, end_of_first_segment, torn=False),
    "impossible length": Case(bad_length, middle_of_last_segment, torn=False),
    "zero length followed by data": Case(zero_length, middle_of_last_segment, torn=False),
    "length running past the end": Case(past_the_end, middle_of_last_segment, torn=False),
}


def _consume(reader: WalReader, seen: list[tuple[int, bytes]]) -> None:
    seen.extend((t, b) for _, t, b in reader)


@pytest.mark.parametrize("name", CASES)
async def test_fault(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    records = await build_log(tmp_path, 60, segment_bytes=600)
    pristine = frames(tmp_path)
    assert len({f.path for f in pristine}) >= 3
    k = case.target(pristine)
    damaged = pristine[k]
    case.corrupt(damaged.path, damaged.start)
    keep = k + 1 if not case.loses_target else k
    bad_offset = damaged.end.offset if not case.loses_target else damaged.start
    in_last_segment = damaged.path == pristine[-1].path

    # Reading: a valid prefix, then a torn tail or an error naming file and offset.
    reader = WalReader(tmp_path)
    seen: list[tuple[int, bytes]] = []
    problem: LogDamageError | None
    if case.torn:
        seen = [(t, b) for _, t, b in reader]
        problem = reader.torn
        assert problem is not None
    else:
        with pytest.raises(CorruptRecordError) as info:
            _consume(reader, seen)
        problem = info.value
        assert str(damaged.path) in str(problem)
        assert f"offset {bad_offset}" in str(problem)
    assert seen == records[:keep]
    assert (problem.path, problem.offset) == (damaged.path, bad_offset)

    report = verify(tmp_path)
    assert (report.records, type(report.problem)) == (keep, type(problem))

    size_before = log_bytes(tmp_path)
    damaged_bytes = damaged.path.read_bytes()
    if case.torn:
        # Opening truncates the torn tail itself, keeping a copy, and appends after it.
        writer = await WalWriter.open(tmp_path)
        assert writer.recovery.problem is not None
        assert writer.recovery.dropped_bytes == size_before - log_bytes(tmp_path)
        await writer.append([(1, b"after recovery")])
        await writer.close()
        assert read_all(tmp_path) == [*records[:keep], (1, b"after recovery")]
        assert broken_bytes(damaged.path) == damaged_bytes
        return

    if in_last_segment:
        with pytest.raises(CorruptRecordError):
            await WalWriter.open(tmp_path)
    fixed = repair(tmp_path)
    assert fixed.problem is not None
    assert (fixed.problem.path, fixed.problem.offset) == (damaged.path, bad_offset)
    assert fixed.end == Position(damaged.end.segment, bad_offset)
    assert fixed.dropped_bytes == size_before - log_bytes(tmp_path)
    later = [f for f in pristine if f.end.segment > damaged.end.segment]
    assert fixed.dropped_records == len(later)
    assert len(fixed.dropped_segments) == len({f.path for f in later})
    assert all(not p.exists() for p in fixed.dropped_segments)
    assert all(p.exists() for p in fixed.broken_copies)
    assert broken_bytes(damaged.path) == damaged_bytes
    after = verify(tmp_path)
    assert after.ok
    assert after.records == keep
    assert repair(tmp_path).changed is False
    writer = await WalWriter.open(tmp_path)
    await writer.append([(1, b"after repair")])
    await writer.close()
    assert read_all(tmp_path) == [*records[:keep], (1, b"after repair")]


async def test_verify_changes_nothing_and_counts(tmp_path: Path) -> None:
    await build_log(tmp_path, 20, segment_bytes=300)
    before = names(tmp_path)
    report = verify(tmp_path)
    assert report.ok
    assert report.records == 20
    assert report.segments == len(before)
    assert report.bytes == 20 * (13 + len(body(0)))
    zero_tail(segment_paths(tmp_path)[-1], SEGMENT_HEADER_BYTES)
    assert isinstance(verify(tmp_path).problem, TornTailError)
    assert names(tmp_path) == before


async def test_repeated_repairs_keep_every_broken_copy(tmp_path: Path) -> None:
    await build_log(tmp_path, 5)
    segment = segment_paths(tmp_path)[-1]
    for cut in (150, 100):
        os.truncate(segment, cut)
        assert repair(tmp_path).changed
    assert names(tmp_path, "*.broken*") == [
        f"{segment.name}.broken",
        f"{segment.name}.broken.1",
    ]


async def test_a_damaged_segment_header_is_corruption_that_repair_cuts(tmp_path: Path) -> None:
    records = await build_log(tmp_path, 30, segment_bytes=300)
    last_segment = segment_paths(tmp_path)[-1]
    kept = [f for f in frames(tmp_path) if f.path != last_segment]
    with last_segment.open("r+b") as f:
        f.seek(3)
        f.write(b"X")
    with pytest.raises(CorruptRecordError, match="segment header") as info:
        read_all(tmp_path)
    assert (info.value.path, info.value.offset) == (last_segment, 0)
    with pytest.raises(CorruptRecordError):
        await WalWriter.open(tmp_path)
    fixed = repair(tmp_path)
    assert fixed.problem is not None
    writer = await WalWriter.open(tmp_path)  # the emptied segment gets a fresh header
    await writer.append([(1, b"after repair")])
    await writer.close()
    assert read_all(tmp_path) == [*records[: len(kept)], (1, b"after repair")]
