"""The asyncio append path: group commit, fsync policies, sticky write errors.

Task ownership: each ``WalWriter`` owns one background task (named ``wal-writer <dir>``). It is
the only code that touches the ``SegmentFile``, always through one ``asyncio.to_thread`` call at
a time, so the event loop never blocks on write or fsync and the segment needs no lock.
Appenders only enqueue a request and await its future; requests that queue up while a write is
in flight form the next batch: one write and (policy ``always``) one fsync for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from broker.wal.errors import WalClosedError, WalWriteError
from broker.wal.fileops import DEFAULT_OPS, FileOps
from broker.wal.record import encode
from broker.wal.repair import RepairReport, prepare_for_append
from broker.wal.segment import DEFAULT_SEGMENT_BYTES, Position, SegmentFile

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_INTERVAL_MS = 100
"""For policy ``interval``: an OS crash loses at most ~0.1 s of appends, for <= 10 fsyncs/s."""

MAX_BATCH_BYTES = 4 * 1024 * 1024
"""Bounds one write's memory and latency; under load, later requests wait for the next batch."""


class FsyncPolicy(StrEnum):
    """When appended records reach stable storage (see the README for what each risks)."""

    ALWAYS = "always"
    """``append`` returns after an fsync covering its records; concurrent appends share one."""
    INTERVAL = "interval"
    """``append`` returns after the write; the writer fsyncs every ``interval_ms`` if needed."""
    NEVER = "never"
    """``append`` returns after the write; the OS decides when it is flushed."""


@dataclass(frozen=True, slots=True)
class WriterStats:
    records: int
    batches: int
    fsyncs: int
    bytes: int

    @property
    def records_per_fsync(self) -> float:
        return self.records / self.fsyncs if self.fsyncs else float(self.records)


@dataclass(slots=True, eq=False)
class _Request:
    data: bytes
    records: int
    sync: bool
    future: asyncio.Future[Position]


class WalWriter:
    """Appends records to the log in ``directory``. Create with ``await WalWriter.open(...)``.

    Invariant: a position is returned only for records written (and, if the policy asks,
    fsynced) in full. After the first failed write or fsync, every append raises
    ``WalWriteError`` (sticky). Cancelling an ``append`` does not withdraw its records.
    """

    def __init__(
        self,
        segment: SegmentFile,
        *,
        policy: FsyncPolicy,
        interval_ms: float,
        recovery: RepairReport,
    ) -> None:
        self.directory = segment.directory
        self.policy = FsyncPolicy(policy)
        self.recovery = recovery
        """What opening had to repair (a torn tail), for the startup log."""
        self._segment = segment
        self._interval = interval_ms / 1000
        self._queue: deque[_Request] = deque()
        self._inflight: list[_Request] = []
        self._wakeup = asyncio.Event()
        self._error: BaseException | None = None
        self._closed = False
        self._position = segment.position
        self._records = 0
        self._batches = 0
        self._loop = asyncio.get_running_loop()
        self._dirty_since: float | None = None
        """Under ``interval``: when the oldest write not yet fsynced was made."""
        self._task = self._loop.create_task(self._run(), name=f"wal-writer {self.directory}")

    @classmethod
    async def open(
        cls,
        directory: Path,
        *,
        policy: FsyncPolicy | str = FsyncPolicy.ALWAYS,
        interval_ms: float = DEFAULT_INTERVAL_MS,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        ops: FileOps = DEFAULT_OPS,
    ) -> WalWriter:
        """Open ``directory`` for appending, after a crash too: a torn tail is truncated (a
        ``.broken`` copy is kept); corruption raises ``CorruptRecordError``."""
        if interval_ms <= 0 or segment_bytes <= 0:
            raise ValueError("interval_ms and segment_bytes must be positive")
        directory = Path(directory)
        end, report = await asyncio.to_thread(prepare_for_append, directory, ops)
        if report.changed:
            logger.warning("WAL %s: %s; truncated, copy kept", directory, report.problem)
        segment = await asyncio.to_thread(
            SegmentFile, directory, end, segment_bytes=segment_bytes, ops=ops
        )
        return cls(segment, policy=FsyncPolicy(policy), interval_ms=interval_ms, recovery=report)

    @property
    def failed(self) -> bool:
        return self._error is not None

    @property
    def position(self) -> Position:
        """End of the last batch written (durable only as far as the policy promises)."""
        return self._position

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            self._records, self._batches, self._segment.fsyncs, self._segment.bytes_written
        )

    async def append(self, records: Sequence[tuple[int, bytes]]) -> Position:
        """Log ``(type, body)`` records in order; return the position after the last one once
        they are as durable as the policy promises."""
        self._check_usable()
        data = b"".join([encode(record_type, body) for record_type, body in records])
        return await self._submit(data, len(records), sync=self.policy is FsyncPolicy.ALWAYS)

    async def sync(self) -> Position:
        """Write and fsync everything appended so far, whatever the policy; return its end.

        A snapshot must cover only a position returned here (or by ``append`` under ``always``).
        """
        self._check_usable()
        return await self._submit(b"", 0, sync=True)

    async def close(self) -> None:
        """Flush and fsync what is queued, stop the task, close the file. Idempotent.

        Raises ``WalWriteError`` if that last flush fails; a writer that had already failed
        closes quietly, having reported its error to the appends.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._error is None and not self._task.done():
                await self._submit(b"", 0, sync=True)
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await asyncio.to_thread(self._segment.close)

    def _check_usable(self) -> None:
        if self._error is not None:
            raise self._write_error()
        if self._closed:
            raise WalClosedError(f"WAL writer for {self.directory} is closed")

    def _write_error(self) -> WalWriteError:
        error = WalWriteError(
            f"WAL write to {self.directory} failed; refusing appends until restart: {self._error}"
        )
        error.__cause__ = self._error
        return error

    async def _submit(self, data: bytes, records: int, *, sync: bool) -> Position:
        future: asyncio.Future[Position] = self._loop.create_future()
        self._queue.append(_Request(data, records, sync, future))
        self._wakeup.set()
        return await future

    async def _run(self) -> None:
        try:
            while True:
                if self._interval_sync_due():
                    # After the previous batch's appends were answered, never inside one.
                    batch, data, sync = [], b"", True
                elif self._queue:
                    batch = self._inflight = self._take_batch()
                    data = b"".join([request.data for request in batch])
                    sync = any(request.sync for request in batch)
                else:
                    await self._wait_for_work()
                    continue
                try:
                    start = await self._run_io(functools.partial(self._write, data, sync))
                except Exception as exc:
                    self._fail(exc)
                    return
                if sync:
                    self._dirty_since = None
                elif data and self.policy is FsyncPolicy.INTERVAL and self._dirty_since is None:
                    self._dirty_since = self._loop.time()
                self._resolve(batch, start)
        finally:
            self._fail_pending()  # whatever ends the task, no appender may wait forever

    def _interval_sync_due(self) -> bool:
        return (
            self._dirty_since is not None
            and self._loop.time() - self._dirty_since >= self._interval
        )

    async def _wait_for_work(self) -> None:
        """Sleep until a request arrives or, under ``interval``, the oldest unsynced write
        reaches its deadline."""
        self._wakeup.clear()
        timeout = None
        if self._dirty_since is not None:
            timeout = max(0.0, self._dirty_since + self._interval - self._loop.time())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wakeup.wait()

    def _take_batch(self) -> list[_Request]:
        batch: list[_Request] = []
        size = 0
        while self._queue and (not batch or size + len(self._queue[0].data) <= MAX_BATCH_BYTES):
            request = self._queue.popleft()
            batch.append(request)
            size += len(request.data)
        return batch

    def _write(self, data: bytes, sync: bool) -> Position:
        """Runs in a worker thread; the only caller of ``self._segment`` while the task lives."""
        start = self._segment.append(data)
        if sync:
            self._segment.sync()
        return start

    async def _run_io(self, call: Callable[[], _T]) -> _T:
        """Run ``call`` in a thread. A cancel still waits for the thread to finish, so the
        segment's fd is never closed under a running write."""
        io = asyncio.ensure_future(asyncio.to_thread(call))
        try:
            return await asyncio.shield(io)
        except asyncio.CancelledError:
            await asyncio.wait([io])
            if not io.cancelled() and io.exception() is not None:
                self._error = io.exception()
            raise

    def _resolve(self, batch: list[_Request], start: Position) -> None:
        offset = start.offset
        for request in batch:
            offset += len(request.data)
            if not request.future.done():
                request.future.set_result(Position(start.segment, offset))
            self._records += request.records
        self._position = Position(start.segment, offset)
        if any(request.records for request in batch):
            self._batches += 1
        self._inflight = []

    def _fail(self, exc: Exception) -> None:
        self._error = exc
        logger.error("WAL write to %s failed; refusing appends", self.directory, exc_info=exc)
        self._fail_pending()

    def _fail_pending(self) -> None:
        for request in [*self._inflight, *self._queue]:
            if not request.future.done():
                request.future.set_exception(
                    self._write_error()
                    if self._error is not None
                    else WalClosedError(f"WAL writer for {self.directory} stopped")
                )
        self._inflight = []
        self._queue.clear()
