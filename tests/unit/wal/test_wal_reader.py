"""WalReader: order across segments, start positions, and robustness against any damage."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wal_helpers import build_log, frames, read_all, segment_paths

from broker.wal import (
    CorruptRecordError,
    LogDamageError,
    Position,
    UnsupportedFormatError,
    WalReader,
    encode,
)
from broker.wal.segment import segment_header


async def test_reads_all_segments_in_order_and_from_a_position(tmp_path: Path) -> None:
    records = await build_log(tmp_path, 60, segment_bytes=300)
    every = frames(tmp_path)
    assert len({f.path for f in every}) > 3
    assert [(f.type, f.body) for f in every] == records
    middle = every[30].end  # as if a snapshot covered records 0..30
    assert read_all(tmp_path, middle) == records[31:]
    end = every[-1].end
    assert read_all(tmp_path, end) == []


async def test_start_outside_the_log_is_an_error(tmp_path: Path) -> None:
    await build_log(tmp_path, 30, segment_bytes=300)
    segments = segment_paths(tmp_path)
    with pytest.raises(CorruptRecordError, match="ends before"):
        read_all(tmp_path, Position(len(segments) + 3, 0))
    with pytest.raises(CorruptRecordError, match="start offset"):
        read_all(tmp_path, Position(0, segments[0].stat().st_size + 1))
    segments[0].unlink()  # compacted away
    with pytest.raises(CorruptRecordError, match="missing") as info:
        read_all(tmp_path, Position(0, 0))
    assert info.value.path == segments[0]


async def test_a_gap_in_segment_numbers_is_corruption(tmp_path: Path) -> None:
    await build_log(tmp_path, 30, segment_bytes=300)
    missing = segment_paths(tmp_path)[1]
    missing.unlink()
    with pytest.raises(CorruptRecordError, match="missing") as info:
        read_all(tmp_path)
    assert info.value.path == missing


def test_empty_directory_is_an_empty_log(tmp_path: Path) -> None:
    reader = WalReader(tmp_path)
    assert list(reader) == []
    assert reader.end == Position(0, 0)


# --- property tests: any damage gives a valid prefix and a typed outcome, never anything else


def _write_segments(directory: Path, chunks: list[bytes], *, header: bool = True) -> list[Path]:
    paths = []
    for index, chunk in enumerate(chunks):
        path = directory / f"{index:016x}.wal"
        path.write_bytes((segment_header() if header else b"") + chunk)
        paths.append(path)
    return paths


def _read(directory: Path) -> tuple[list[tuple[int, bytes]], str]:
    """Records yielded, and the outcome: 'clean', 'torn' or 'corrupt'."""
    reader = WalReader(directory)
    out: list[tuple[int, bytes]] = []
    try:
        for _, record_type, data in reader:
            out.append((record_type, data))
    except CorruptRecordError as exc:
        return out, f"corrupt in {exc.path.parent}"
    return out, "torn" if reader.torn else "clean"


_records = st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=40)), max_size=12)


@settings(max_examples=200, deadline=2000)
@given(garbage=st.lists(st.binary(max_size=300), min_size=1, max_size=3))
def test_garbage_segments(garbage: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        _write_segments(directory, garbage)
        records, _ = _read(directory)
        assert (
            b"".join(encode(t, b) for t, b in records)
            == b"".join(garbage)[: sum(13 + len(b) for _, b in records)]
        )


@settings(max_examples=100, deadline=2000)
@given(garbage=st.binary(min_size=1, max_size=300))
def test_a_segment_without_this_formats_header_yields_nothing(garbage: bytes) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        _write_segments(directory, [garbage], header=False)
        with pytest.raises(LogDamageError):
            list(WalReader(directory))


def test_a_format_1_segment_is_refused_naming_its_version(tmp_path: Path) -> None:
    import struct

    import google_crc32c

    body = b"\x01old record"
    v1_frame = struct.pack("<II", len(body), google_crc32c.value(body)) + body
    _write_segments(tmp_path, [v1_frame], header=False)
    with pytest.raises(UnsupportedFormatError, match="format 1, this server reads format 2"):
        list(WalReader(tmp_path))


@settings(max_examples=200, deadline=2000)
@given(
    records=_records,
    cuts=st.lists(st.integers(0, 12), max_size=2),
    damage=st.sampled_from(["truncate", "flip", "zero_tail"]),
    where=st.floats(0, 1, exclude_max=True),
    bit=st.integers(0, 7),
)
def test_damaged_valid_logs(
    records: list[tuple[int, bytes]], cuts: list[int], damage: str, where: float, bit: int
) -> None:
    frames_ = [encode(t, b) for t, b in records]
    bounds = sorted({min(c, len(frames_)) for c in cuts})
    pieces = [frames_[a:b] for a, b in zip([0, *bounds], [*bounds, len(frames_)], strict=True)]
    chunks = [b"".join(p) for p in pieces]
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        paths = _write_segments(directory, chunks)
        total = sum(map(len, chunks))
        if total == 0:
            return
        # Pick the damaged byte over the whole log, then find its segment.
        at = int(where * total)
        seg = 0
        while at >= len(chunks[seg]):
            at -= len(chunks[seg])
            seg += 1
        buf = bytearray(chunks[seg])
        if damage == "truncate":
            seg, buf = len(chunks) - 1, bytearray(chunks[-1])  # a crash only cuts the last
            at = int(where * len(buf))
            del buf[at:]
        elif damage == "flip":
            buf[at] ^= 1 << bit
        else:
            buf[at:] = bytes(len(buf) - at)
        paths[seg].write_bytes(segment_header() + bytes(buf))

        got, outcome = _read(directory)
        if outcome.startswith("corrupt"):
            assert outcome == f"corrupt in {directory}", "the error names a file of this log"
            outcome = "corrupt"
        assert got == records[: len(got)], "only a prefix of the real records may come back"
        last = seg == len(chunks) - 1
        changed = bytes(buf) != chunks[seg]
        if changed and not last:
            assert outcome == "corrupt", "damage to an older segment is never a torn tail"
        if damage == "flip":
            assert outcome != "clean", "every flipped bit is noticed"
        # Every frame wholly before the damage in the last segment comes back.
        before = sum(len(p) for p in pieces[:seg])
        intact = used = 0
        for frame in frames_[before:]:
            used += len(frame)
            if used > at:
                break
            intact += 1
        if last:
            assert len(got) >= before + intact
        if damage == "truncate":
            assert len(got) == before + intact
        if outcome == "clean" and damage != "truncate":
            assert got == records
