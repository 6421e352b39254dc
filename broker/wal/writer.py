"""The asyncio append path: ordered writes, group commit, fsync policies, sticky write errors.

``write`` frames records and queues them at once, in call order, without waiting: the state
machine above logs each change in the same tick it makes it, so the log's order is the order of
the changes. ``flushed`` waits until everything written so far is as durable as the policy
promises; ``sync`` waits for an fsync whatever the policy.

Task ownership: each ``WalWriter`` owns one background task (named ``wal-writer <dir>``). It is
the only code that touches the ``SegmentFile``, always through one ``asyncio.to_thread`` call at
a time, so the event loop never blocks on write or fsync and the segment needs no lock. Writes
that queue up while one is in flight form the next batch: one write and (policy ``always``) one
fsync for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, TypeVar

from broker.wal.errors import WalClosedError, WalWriteError
from broker.wal.fileops import DEFAULT_OPS, FileOps
from broker.wal.record import frame_header
from broker.wal.repair import RepairReport, prepare_for_append
from broker.wal.segment import DEFAULT_SEGMENT_BYTES, Position, SegmentFile

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_INTERVAL_MS = 100
"""For policy ``interval``: an OS crash loses at most ~0.1 s of writes, for <= 10 fsyncs/s."""

MAX_BATCH_BYTES = 4 * 1024 * 1024
"""Bounds one write's memory and latency; under load, later writes wait for the next batch."""


class FsyncPolicy(StrEnum):
    """When written records reach stable storage (see the README for what each risks)."""

    ALWAYS = "always"
    """``flushed`` returns after an fsync covering the records; concurrent writers share one."""
    INTERVAL = "interval"
    """``flushed`` returns after the write; the writer fsyncs every ``interval_ms`` if needed."""
    NEVER = "never"
    """``flushed`` returns after the write; the OS decides when it is flushed."""


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
class _Pending:
    ticket: int
    parts: list[bytes]
    size: int
    records: int


@dataclass(slots=True, eq=False)
class _Waiter:
    """Resolved once writes up to ``written`` are in the file and up to ``synced`` fsynced."""

    ticket: int
    written: int
    synced: int
    future: asyncio.Future[Position]


class WalWriter:
    """Appends records to the log in ``directory``. Create with ``await WalWriter.open(...)``.

    Invariant: ``flushed`` and ``sync`` return only once the records written before them are
    on disk (and, where the policy or the call asks, fsynced). After the first failed write or
    fsync, ``write`` raises ``WalWriteError`` and every wait fails with it (sticky).
    """

    on_sync: ClassVar[Callable[[float, int], None] | None] = None
    """Told ``(fsync seconds, records it covered)`` after each fsync of written records, on
    the event loop (the metrics' fsync latency and group-commit size)."""

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
        self._pending: deque[_Pending] = deque()
        self._waiters: list[_Waiter] = []
        self._ticket = 0
        """Number of the last ``write`` call."""
        self._written = 0
        """Every write up to this ticket is in the file."""
        self._synced = 0
        """Every write up to this ticket is fsynced."""
        self._sync_wanted = 0
        self._rotations: list[asyncio.Future[Position]] = []
        self._wakeup = asyncio.Event()
        self._error: BaseException | None = None
        self._failed = asyncio.Event()
        self._closed = False
        self._position = segment.position
        self._records = 0
        self._sync_s = 0.0
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

    async def wait_failed(self) -> WalWriteError:
        """Returns the (sticky) error once a write or fsync has failed."""
        await self._failed.wait()
        return self._write_error()

    @property
    def position(self) -> Position:
        """End of the last batch written (durable only as far as the policy promises)."""
        return self._position

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            self._records, self._batches, self._segment.fsyncs, self._segment.bytes_written
        )

    def write(self, records: Sequence[tuple[int, bytes]]) -> int:
        """Queue ``(type, body)`` records after everything written before; return a ticket for
        ``flushed``. Raises ``WalWriteError`` once the log has failed, ``RecordTooLargeError``
        (before queueing anything) for a record over the limit."""
        self._check_usable()
        parts: list[bytes] = []
        size = 0
        for record_type, body in records:
            header = frame_header(record_type, body)
            parts += (header, body)
            size += len(header) + len(body)
        self._ticket += 1
        self._pending.append(_Pending(self._ticket, parts, size, len(records)))
        if not self._wakeup.is_set():
            self._wakeup.set()
        return self._ticket

    async def flushed(self, ticket: int | None = None) -> Position:
        """Wait until the write of ``ticket`` (default: every write so far) is as durable as
        the policy promises; return the end of its records (or a later position, if they were
        already durable)."""
        target = self._ticket if ticket is None else ticket
        return await self._wait(target, target if self.policy is FsyncPolicy.ALWAYS else 0)

    async def written(self, ticket: int | None = None) -> Position:
        """Wait until the write of ``ticket`` (default: the last) is in the file - safe from a
        crash of this process, not of the machine - and everything written before it is as
        durable as the policy promises. Cheaper than ``flushed`` by one fsync whenever the
        write lands in a batch of its own."""
        target = self._ticket if ticket is None else ticket
        return await self._wait(target, target - 1 if self.policy is FsyncPolicy.ALWAYS else 0)

    async def append(self, records: Sequence[tuple[int, bytes]]) -> Position:
        """``write`` then ``flushed``: log records and wait until they are durable."""
        return await self.flushed(self.write(records))

    async def sync(self, *, rotate: bool = False) -> Position:
        """Write and fsync everything written so far, whatever the policy; return its end.

        With ``rotate``, the segment is also cut, and the position returned is the start of
        the new one: a snapshot taken there lets every segment before it be deleted, instead
        of leaving the one it covers on disk until it fills.

        A snapshot must cover only a position returned here (or by ``flushed`` under
        ``always``).
        """
        if not rotate:
            return await self._wait(self._ticket, self._ticket)
        self._check_usable()
        future: asyncio.Future[Position] = self._loop.create_future()
        self._rotations.append(future)
        if not self._wakeup.is_set():
            self._wakeup.set()
        return await future

    async def close(self) -> None:
        """Flush and fsync what is queued, stop the task, close the file. Idempotent.

        Raises ``WalWriteError`` if that last flush fails; a writer that had already failed
        closes quietly, having reported its error to the writers.
        """
        if self._closed:
            return
        try:
            if self._error is None and not self._task.done():
                await self._wait(self._ticket, self._ticket)
        finally:
            self._closed = True
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
            f"WAL write to {self.directory} failed; refusing writes until restart: {self._error}"
        )
        error.__cause__ = self._error
        return error

    async def _wait(self, written: int, synced: int) -> Position:
        self._check_usable()
        if self._written >= written and self._synced >= synced:
            return self._position
        future: asyncio.Future[Position] = self._loop.create_future()
        self._waiters.append(_Waiter(written, written, synced, future))
        if synced > self._sync_wanted:
            self._sync_wanted = synced
        if not self._wakeup.is_set():
            self._wakeup.set()
        return await future

    async def _run(self) -> None:
        try:
            while True:
                batch = self._take_batch()
                rotations = list(self._rotations)
                sync = (
                    (bool(batch) and self.policy is FsyncPolicy.ALWAYS)
                    or self._sync_wanted > self._synced
                    or self._interval_sync_due()
                    or bool(rotations)
                )
                if not batch and not sync:
                    await self._wait_for_work()
                    continue
                data = [part for pending in batch for part in pending.parts]
                last = batch[-1].ticket if batch else 0
                try:
                    start = await self._run_io(
                        functools.partial(self._write, data, sync, bool(rotations), last)
                    )
                except Exception as exc:
                    self._fail(exc)
                    return
                self._written_batch(batch, start, sync)
                if rotations:
                    del self._rotations[: len(rotations)]
                    self._position = self._segment.position
                    for future in rotations:
                        if not future.done():
                            future.set_result(self._position)
        finally:
            self._fail_pending()  # whatever ends the task, no writer may wait forever

    def _on_written(self, ticket: int) -> None:
        """From the worker thread, between a batch's write and its fsync: what only needed
        the write may go on."""
        if ticket > self._written:
            self._written = ticket
            self._resolve({})

    def _written_batch(self, batch: list[_Pending], start: Position, sync: bool) -> None:
        ends: dict[int, Position] = {}
        if batch:
            self._written = batch[-1].ticket
            offset = start.offset
            for pending in batch:
                offset += pending.size
                ends[pending.ticket] = Position(start.segment, offset)
            self._position = Position(start.segment, offset)
            records = sum(pending.records for pending in batch)
            self._records += records
            if records:
                self._batches += 1
        if sync:
            self._synced = self._written
            self._dirty_since = None
            observe = WalWriter.on_sync
            if observe is not None and batch:
                observe(self._sync_s, sum(pending.records for pending in batch))
        elif batch and self.policy is FsyncPolicy.INTERVAL and self._dirty_since is None:
            self._dirty_since = self._loop.time()
        self._resolve(ends)

    def _resolve(self, ends: dict[int, Position]) -> None:
        waiting: list[_Waiter] = []
        written, synced = self._written, self._synced
        for waiter in self._waiters:
            if written >= waiter.written and synced >= waiter.synced:
                if not waiter.future.done():
                    waiter.future.set_result(ends.get(waiter.ticket, self._position))
            else:
                waiting.append(waiter)
        self._waiters = waiting

    def _interval_sync_due(self) -> bool:
        return (
            self._dirty_since is not None
            and self._loop.time() - self._dirty_since >= self._interval
        )

    async def _wait_for_work(self) -> None:
        """Sleep until a write or wait arrives or, under ``interval``, the oldest unsynced
        write reaches its deadline."""
        self._wakeup.clear()
        timeout = None
        if self._dirty_since is not None:
            timeout = max(0.0, self._dirty_since + self._interval - self._loop.time())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wakeup.wait()

    def _take_batch(self) -> list[_Pending]:
        batch: list[_Pending] = []
        size = 0
        while self._pending and (not batch or size + self._pending[0].size <= MAX_BATCH_BYTES):
            pending = self._pending.popleft()
            batch.append(pending)
            size += pending.size
        return batch

    def _write(
        self, parts: list[bytes], sync: bool, rotate: bool = False, last: int = 0
    ) -> Position:
        """Runs in a worker thread; the only caller of ``self._segment`` while the task lives."""
        start = self._segment.append(b"".join(parts)) if parts else self._segment.position
        if sync and parts and self._waiters:
            self._loop.call_soon_threadsafe(self._on_written, last)
        if sync:
            started = time.perf_counter()
            self._segment.sync()
            self._sync_s = time.perf_counter() - started
        if rotate:
            self._segment.cut()
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
                self._failed.set()
            raise

    def _fail(self, exc: Exception) -> None:
        self._error = exc
        self._failed.set()
        logger.error("WAL write to %s failed; refusing writes", self.directory, exc_info=exc)
        self._fail_pending()

    def _fail_pending(self) -> None:
        futures = [w.future for w in self._waiters] + self._rotations
        for future in futures:
            if not future.done():
                future.set_exception(
                    self._write_error()
                    if self._error is not None
                    else WalClosedError(f"WAL writer for {self.directory} stopped")
                )
        self._waiters = []
        self._rotations = []
        self._pending.clear()
