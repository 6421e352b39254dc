"""WalWriter: group commit, fsync policies, segment cuts, sticky errors, reopening."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from wal_helpers import FaultyOps, body, names, read_all, segment_paths

from broker.wal import (
    SEGMENT_HEADER_BYTES,
    FileOps,
    FsyncPolicy,
    Position,
    WalClosedError,
    WalReader,
    WalWriteError,
    WalWriter,
)


class SlowFsyncOps(FileOps):
    """Makes each fsync take a while, as on a real disk; only its own thread is blocked."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def fsync(self, fd: int) -> None:
        time.sleep(self.seconds)
        super().fsync(fd)


async def test_append_returns_frame_end_positions(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path)
    first = await writer.append([(1, b"a"), (2, b"bc")])
    second = await writer.append([(3, b"")])
    header = SEGMENT_HEADER_BYTES
    assert first == Position(0, header + 13 + 1 + 13 + 2)
    assert second == Position(0, first.offset + 13)
    assert writer.position == second
    assert await writer.sync() == second
    await writer.close()
    assert [pos for pos, _, _ in WalReader(tmp_path)] == [
        Position(0, header + 14),
        first,
        second,
    ]


async def test_group_commit_shares_fsyncs(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path, ops=SlowFsyncOps(0.005))
    positions = await asyncio.gather(*(writer.append([(1, body(i))]) for i in range(200)))
    stats = writer.stats
    await writer.close()
    assert stats.records == 200
    assert stats.fsyncs <= 10, stats
    assert stats.records_per_fsync >= 20
    assert positions == sorted(positions)
    assert read_all(tmp_path) == [(1, body(i)) for i in range(200)]


async def test_appends_arriving_during_an_fsync_form_the_next_batch(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path, ops=SlowFsyncOps(0.05))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    tick_task = asyncio.create_task(ticker())
    first = [asyncio.create_task(writer.append([(1, body(i))])) for i in range(50)]
    await asyncio.sleep(0.01)  # the first batch is now inside its fsync
    second = [asyncio.create_task(writer.append([(1, body(50 + i))])) for i in range(50)]
    await asyncio.gather(*first, *second)
    tick_task.cancel()
    stats = writer.stats
    await writer.close()
    assert stats.batches == 2
    assert stats.fsyncs == 2
    assert ticks > 20, "the event loop was blocked during fsync"
    assert read_all(tmp_path) == [(1, body(i)) for i in range(100)]


async def test_segments_are_cut_at_the_size_limit(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path, segment_bytes=200)
    positions = [await writer.append([(1, body(i))]) for i in range(40)]
    await writer.close()
    frame = 13 + len(body(0))
    sizes = [p.stat().st_size for p in segment_paths(tmp_path)]
    assert len(sizes) > 3
    assert all(200 <= size < 200 + frame for size in sizes[:-1])
    assert [p.segment for p in positions] == sorted(p.segment for p in positions)
    assert not names(tmp_path, "*.tmp")
    assert [pos for pos, _, _ in WalReader(tmp_path)] == positions


async def test_reopen_continues_at_the_end(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path, segment_bytes=100)
    for i in range(10):
        await writer.append([(1, body(i))])
    end = writer.position
    await writer.close()
    writer = await WalWriter.open(tmp_path, segment_bytes=100)
    assert writer.position == end
    assert not writer.recovery.changed
    await writer.append([(1, body(10))])
    await writer.close()
    assert read_all(tmp_path) == [(1, body(i)) for i in range(11)]


async def test_interval_policy_fsyncs_in_the_background(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path, policy="interval", interval_ms=50)
    for i in range(20):
        await writer.append([(1, body(i))])
    assert writer.stats.fsyncs == 0  # appends returned after the write alone
    deadline = asyncio.get_running_loop().time() + 2
    while writer.stats.fsyncs == 0:
        assert asyncio.get_running_loop().time() < deadline, "no background fsync"
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert writer.stats.fsyncs == 1  # nothing new written, so nothing more to sync
    await writer.close()
    assert read_all(tmp_path) == [(1, body(i)) for i in range(20)]


async def test_interval_policy_syncs_under_sustained_load(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path, policy=FsyncPolicy.INTERVAL, interval_ms=20)
    loop = asyncio.get_running_loop()
    stop = loop.time() + 0.2
    i = 0
    while loop.time() < stop:
        await writer.append([(1, body(i))])
        i += 1
    stats = writer.stats
    await writer.close()
    assert 3 <= stats.fsyncs <= 12, stats  # about one per 20 ms, never one per append
    assert stats.fsyncs < i / 5
    assert read_all(tmp_path) == [(1, body(n)) for n in range(i)]


async def test_never_policy_only_writes(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path, policy=FsyncPolicy.NEVER)
    await asyncio.gather(*(writer.append([(1, body(i))]) for i in range(50)))
    await asyncio.sleep(0.05)
    assert writer.stats.fsyncs == 0
    assert writer.stats.records == 50
    await writer.close()  # close still makes everything durable
    assert writer.stats.fsyncs == 1
    assert read_all(tmp_path) == [(1, body(i)) for i in range(50)]


async def test_failed_fsync_is_sticky(tmp_path: Path) -> None:
    ops = FaultyOps()
    writer = await WalWriter.open(tmp_path, ops=ops)
    acked = [(1, body(i)) for i in range(3)]
    for record in acked:
        await writer.append([record])
    ops.fsyncs_left = 0
    with pytest.raises(WalWriteError) as info:
        await writer.append([(1, body(3))])
    assert isinstance(info.value.__cause__, OSError)
    assert writer.failed
    with pytest.raises(WalWriteError) as later:
        await writer.append([(1, body(4))])
    assert isinstance(later.value.__cause__, OSError)
    with pytest.raises(WalWriteError):
        await writer.sync()
    await writer.close()  # quiet: the error was already reported
    assert read_all(tmp_path)[:3] == acked


async def test_torn_write_failure_under_load(tmp_path: Path) -> None:
    """Concurrent appends while the disk starts failing mid-write: every append either returns
    a position that survives a reopen, or raises; nothing unwritten is reported durable."""
    ops = FaultyOps()
    writer = await WalWriter.open(tmp_path, ops=ops)
    ops.writes_left, ops.partial = 3, True

    async def one(i: int) -> Position | None:
        try:
            return await writer.append([(1, body(i))])
        except WalWriteError:
            return None

    results: list[Position | None] = []
    for wave in range(10):  # concurrent appends per wave; each wave is at least one write
        results += await asyncio.gather(*(one(wave * 10 + i) for i in range(10)))
    await writer.close()
    acked = [(1, body(i)) for pos, i in sorted((p, i) for i, p in enumerate(results) if p)]
    assert acked, "some appends must succeed before the fault"
    assert len(acked) < 100
    assert writer.failed
    reopened = await WalWriter.open(tmp_path)
    assert reopened.recovery.changed  # the half-written batch was a torn tail
    await reopened.close()
    survived = read_all(tmp_path)
    assert survived[: len(acked)] == acked
    assert set(survived) <= {(1, body(i)) for i in range(100)}


async def test_close_is_idempotent_and_stops_the_task(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path)
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert f"wal-writer {tmp_path}" in names
    await writer.append([(1, b"x")])
    await writer.close()
    await writer.close()
    assert f"wal-writer {tmp_path}" not in {t.get_name() for t in asyncio.all_tasks()}
    with pytest.raises(WalClosedError):
        await writer.append([(1, b"y")])


async def test_cancelled_append_does_not_break_the_writer(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path, ops=SlowFsyncOps(0.02))
    pending = asyncio.create_task(writer.append([(1, b"cancelled")]))
    await asyncio.sleep(0.005)
    pending.cancel()
    await writer.append([(1, b"after")])
    await writer.close()
    # A cancelled append is not withdrawn: it may still be in the log, always before "after".
    assert read_all(tmp_path)[-1] == (1, b"after")


async def test_open_removes_interrupted_temp_files(tmp_path: Path) -> None:
    os.close(os.open(tmp_path / "0000000000000001.wal.tmp", os.O_CREAT | os.O_WRONLY))
    writer = await WalWriter.open(tmp_path)
    await writer.close()
    assert names(tmp_path) == ["0000000000000000.wal"]


async def test_writes_queue_in_call_order_without_waiting(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path, ops=SlowFsyncOps(0.002))
    tickets = [writer.write([(1, body(i))]) for i in range(50)]
    assert tickets == sorted(tickets)
    middle = await writer.flushed(tickets[10])
    last = await writer.flushed()
    assert middle <= last
    assert writer.stats.fsyncs < 50  # they shared fsyncs
    await writer.close()
    assert read_all(tmp_path) == [(1, body(i)) for i in range(50)]


async def test_a_failure_is_reported_to_wait_failed(tmp_path: Path) -> None:
    ops = FaultyOps()
    writer = await WalWriter.open(tmp_path, ops=ops)
    ops.fsyncs_left = 0
    waiting = asyncio.ensure_future(writer.wait_failed())
    writer.write([(1, b"doomed")])
    with pytest.raises(WalWriteError):
        await writer.flushed()
    error = await asyncio.wait_for(waiting, 5)
    assert isinstance(error, WalWriteError)
    with pytest.raises(WalWriteError):
        writer.write([(1, b"refused at once")])
    await writer.close()


async def test_a_rotating_sync_starts_a_new_segment_so_older_ones_can_go(tmp_path: Path) -> None:
    writer = await WalWriter.open(tmp_path)
    await writer.append([(1, b"before")])
    position = await writer.sync(rotate=True)
    assert position == Position(1, SEGMENT_HEADER_BYTES)
    await writer.append([(1, b"after")])
    await writer.close()
    assert names(tmp_path, "*.wal") == ["0000000000000000.wal", "0000000000000001.wal"]
    assert read_all(tmp_path, position) == [(1, b"after")]
