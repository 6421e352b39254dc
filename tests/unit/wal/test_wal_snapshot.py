"""Snapshots: atomic write, strict load, and compaction of the log behind them."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from wal_helpers import body, names, read_all, segment_paths

from broker.wal import (
    CorruptRecordError,
    CorruptSnapshotError,
    Position,
    WalReader,
    WalWriter,
    delete_segments_before,
    load_snapshot,
    write_snapshot,
)


def test_round_trip(tmp_path: Path) -> None:
    state = [(3, b"queue orders"), (4, b""), (5, bytes(range(256)))]
    path = write_snapshot(tmp_path, Position(2, 123), state)
    assert path.name == "0000000000000002-000000000000007b.snap"
    assert not list(tmp_path.glob("*.tmp"))
    snapshot = load_snapshot(tmp_path)
    assert snapshot is not None
    assert (snapshot.path, snapshot.position, snapshot.records) == (path, Position(2, 123), state)


def test_empty_directory_and_empty_snapshot(tmp_path: Path) -> None:
    assert load_snapshot(tmp_path) is None
    write_snapshot(tmp_path, Position(0, 0), [])
    snapshot = load_snapshot(tmp_path)
    assert snapshot is not None
    assert snapshot.records == []


def test_large_snapshot_is_written_in_chunks(tmp_path: Path) -> None:
    state = [(1, body(i) * 100) for i in range(500)]  # ~2 MiB, several write chunks
    write_snapshot(tmp_path, Position(0, 1), iter(state))
    snapshot = load_snapshot(tmp_path)
    assert snapshot is not None
    assert snapshot.records == state


def test_newest_snapshot_is_used(tmp_path: Path) -> None:
    write_snapshot(tmp_path, Position(1, 0), [(1, b"old")])
    write_snapshot(tmp_path, Position(1, 500), [(1, b"new")])
    write_snapshot(tmp_path, Position(0, 900), [(1, b"oldest")])
    snapshot = load_snapshot(tmp_path)
    assert snapshot is not None
    assert snapshot.records == [(1, b"new")]


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("flipped byte in a record", lambda p: _flip(p, p.stat().st_size - 2)),
        ("flipped byte in the header", lambda p: _flip(p, 20)),
        ("cut at a record boundary", lambda p: os.truncate(p, p.stat().st_size - 9 - 5)),
        ("cut mid-record", lambda p: os.truncate(p, p.stat().st_size - 2)),
        ("renamed to another position", lambda p: p.rename(p.with_name(f"{9:016x}-{0:016x}.snap"))),
    ],
)
def test_a_damaged_newest_snapshot_is_an_error_even_with_an_older_one(
    tmp_path: Path, name: str, damage: Callable[[Path], object]
) -> None:
    write_snapshot(tmp_path, Position(0, 10), [(1, b"older, valid")])
    newest = write_snapshot(tmp_path, Position(0, 20), [(1, b"first"), (2, b"last!")])
    damage(newest)
    with pytest.raises(CorruptSnapshotError) as info:
        load_snapshot(tmp_path)
    assert info.value.path.name.endswith(".snap"), name
    assert str(info.value.path) in str(info.value)


async def test_snapshot_then_compaction_then_replay(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path, segment_bytes=300)
    for i in range(40):
        await writer.append([(1, body(i))])
    covered = await writer.sync()
    write_snapshot(tmp_path, covered, [(9, b"state after 40 records")])
    for i in range(40, 50):
        await writer.append([(1, body(i))])

    before = segment_paths(tmp_path)
    deleted = delete_segments_before(tmp_path, covered)
    assert deleted
    assert set(deleted) <= set(before)
    assert segment_paths(tmp_path)[0].name == f"{covered.segment:016x}.wal"
    # The writer keeps appending to its segment after compaction.
    await writer.append([(1, body(50))])
    await writer.close()

    snapshot = load_snapshot(tmp_path)
    assert snapshot is not None
    assert snapshot.position == covered
    assert read_all(tmp_path, snapshot.position) == [(1, body(i)) for i in range(40, 51)]
    with pytest.raises(CorruptRecordError, match="missing"):
        list(WalReader(tmp_path, Position(0, 0)))


async def test_compaction_keeps_the_newest_snapshot_and_the_live_segment(
    tmp_path: Path,
) -> None:
    writer = await WalWriter.open(tmp_path, segment_bytes=200)
    paths = []
    for round_ in range(3):
        for i in range(10):
            await writer.append([(1, body(round_ * 10 + i))])
        paths.append(write_snapshot(tmp_path, await writer.sync(), [(1, b"%d" % round_)]))
    await writer.close()
    delete_segments_before(tmp_path, Position(10**6, 0))  # a position past the end
    assert names(tmp_path, "*.snap") == [paths[-1].name]
    assert len(segment_paths(tmp_path)) == 1, "the newest segment is never deleted"
