"""The durable store: the memory store's state machine with a write-ahead log as its journal.

Every change is a log record, written in the order the changes are made (``records``); a verb
returns once its records are as durable as the fsync policy promises (``_commit``). Which
verbs wait:

- publish, configuration changes, cancel/purge/redrive, and acks or nacks by unary RPC wait.
- claims wait, before the deliveries are handed out, until the claim's record is in the log
  file and everything logged before it is as durable as the policy promises
  (``WalWriter.written``). So a consumer never sees a message a crash could still lose (its
  publish record came first), and an attempt a consumer saw survives a crash of the server
  process: max_deliveries holds exactly across restarts. The attempt's own fsync is not
  awaited, which saves one fsync of latency per delivery: a crash of the whole machine in
  that instant can lose the attempt (the message comes back with the same attempt number).
- acks, nacks and lease changes on a StreamingReceive stream do not wait (``sync=False``):
  nothing answers them, and the next claim on the stream waits for them anyway.
- lease extensions and expiries are not logged at all: a restart treats every lease as
  expired (the attempt counted), which is what an expiry would have done.

What a crash can cost, per policy (README): with ``always``, nothing a caller was told; with
``interval`` or ``never``, what the OS had not written back.

Layout of the data directory: ``LOCK`` (one server per directory), ``wal/`` (segments and
snapshots, format in ``broker.wal``; records in ``broker.store.durable.records``).

Task ownership: the store owns the checkpoint task (``checkpoint.Checkpointer``); the WAL
writer owns its I/O task. Failures of either are sticky: ``failed`` turns true, writes raise
``Unavailable``, and ``wait_failed`` returns the error for the server to report.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from pathlib import Path

from broker import collector
from broker.errors import FailedPrecondition, Unavailable
from broker.store.at_rest import AtRest, refuse_unkeyed
from broker.store.durable import checkpoint, records
from broker.store.durable.replay import Replay, expire_leases, live_messages
from broker.store.memory import MemoryStore
from broker.store.memory.machine import Clock
from broker.telemetry.logs import event
from broker.wal import (
    DEFAULT_SEGMENT_BYTES,
    FileOps,
    FsyncPolicy,
    WalReader,
    WalWriteError,
    WalWriter,
    load_snapshot,
)
from broker.wal.fileops import DEFAULT_OPS

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_BYTES = 128 * 1024 * 1024
"""Log growth between snapshots: big enough that snapshots are rare under load, small enough
that a restart replays seconds, not minutes, of history."""


class DurableStore(MemoryStore):
    """Memory for speed, a write-ahead log for durability (see the module docstring)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        fsync: str = "always",
        interval_ms: float = 50,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        checkpoint_bytes: int = DEFAULT_CHECKPOINT_BYTES,
        ops: FileOps = DEFAULT_OPS,
        clock: Clock = time.time,
        max_payload_bytes: int = 1024 * 1024,
        run_timers: bool = True,
        at_rest: AtRest | None = None,
        status_retention_s: float | None = None,
        max_memory_bytes: int = 0,
        max_queues: int = 0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.at_rest = at_rest or AtRest()
        """Encryption keys and the compression threshold (``at_rest``)."""
        self.wal_dir = self.data_dir / "wal"
        self.policy = FsyncPolicy(fsync)
        self.interval_ms = interval_ms
        self.segment_bytes = segment_bytes
        self.checkpoint_bytes = checkpoint_bytes
        self.ops = ops
        self._writer: WalWriter | None = None
        self._journal: records.WalJournal | None = None
        self._checkpointer: checkpoint.Checkpointer | None = None
        self._lock_fd: int | None = None
        self._failure: asyncio.Future[BaseException] | None = None
        self._watcher: asyncio.Task[None] | None = None
        super().__init__(
            clock=clock,
            max_payload_bytes=max_payload_bytes,
            run_timers=run_timers,
            status_retention_s=status_retention_s,
            max_memory_bytes=max_memory_bytes,
            max_queues=max_queues,
        )
        self.machine.can_seal = bool(self.at_rest.keyring)

    # -- start and stop ------------------------------------------------------------------

    def _lock(self) -> None:
        self.wal_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.data_dir / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FailedPrecondition(
                f"data directory {self.data_dir} is in use by another Conveyor server"
            ) from None
        self._lock_fd = fd

    async def open(self) -> None:
        """Opens the log (truncating a torn tail), loads the newest snapshot, replays the rest,
        makes the state live, and expires the leases the last stop cut short.

        Corruption before the tail raises ``LogDamageError`` naming file and offset (run
        ``conveyor wal repair`` to cut the log there); a directory of another format raises
        ``UnsupportedFormatError``.
        """
        self._lock()
        loop = asyncio.get_running_loop()
        self._failure = loop.create_future()
        try:
            self._writer = await WalWriter.open(
                self.wal_dir,
                policy=self.policy,
                interval_ms=self.interval_ms,
                segment_bytes=self.segment_bytes,
                ops=self.ops,
            )
            started = time.perf_counter()
            replay = await asyncio.to_thread(self._replay)
            self._check_keys(replay)
            self._journal = records.WalJournal(self._writer.write, self.at_rest)
            self.machine.journal = self._journal
            with collector.paused():
                cut_short = replay.activate(self.machine)
            expire_leases(self.machine, cut_short)
            took, live = time.perf_counter() - started, live_messages(self.machine)
            log.info(
                "recovered %d log entries (%d live messages) in %.3fs",
                replay.entries,
                live,
                took,
                extra=event(
                    "store.recovered",
                    entries=replay.entries,
                    live_messages=live,
                    duration_s=round(took, 6),
                ),
            )
        except BaseException:
            await self._release()
            raise
        self._checkpointer = checkpoint.Checkpointer(
            self.machine,
            self._writer,
            self.wal_dir,
            self.ops,
            self.checkpoint_bytes,
            self.at_rest,
        )
        self._watcher = loop.create_task(self._watch(), name="conveyor-store-watch")
        await super().open()

    def _check_keys(self, replay: Replay) -> None:
        if self.at_rest.keyring:
            return
        refuse_unkeyed(sorted(name for name, c in replay.configs.items() if c.encrypted))

    def _replay(self) -> Replay:
        with collector.paused():
            return self._read_all()

    def _read_all(self) -> Replay:
        replay = Replay(self.at_rest, self.machine.board)
        snapshot = load_snapshot(self.wal_dir)
        if snapshot is not None:
            replay.apply_all(snapshot.records)
        reader = WalReader(self.wal_dir, snapshot.position if snapshot else None)
        replay.apply_all((record_type, body) for _, record_type, body in reader)
        return replay

    async def close(self) -> None:
        await super().close()
        if self._watcher is not None:
            self._watcher.cancel()
        if self._checkpointer is not None:
            await self._checkpointer.stop()
        if self._writer is not None:
            with contextlib.suppress(WalWriteError):
                await self._writer.close()
            st = self._writer.stats
            log.info(
                "wal stats: records=%d batches=%d fsyncs=%d bytes=%d records_per_fsync=%.1f",
                st.records,
                st.batches,
                st.fsyncs,
                st.bytes,
                st.records_per_fsync,
            )
        await self._release()

    async def _release(self) -> None:
        if self._writer is not None and self._journal is None:
            await self._writer.close()  # opened, but recovery failed
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- durability ----------------------------------------------------------------------

    @property
    def failed(self) -> bool:
        return self._failure is not None and self._failure.done()

    async def wait_failed(self) -> BaseException:
        assert self._failure is not None, "open the store first"
        return await asyncio.shield(self._failure)

    async def _watch(self) -> None:
        """Turns the first failure of the writer or the checkpointer into the store's."""
        writer, checkpointer = self._writer, self._checkpointer
        assert writer is not None
        assert checkpointer is not None
        assert self._failure is not None
        waits = [
            asyncio.ensure_future(writer.wait_failed()),
            asyncio.ensure_future(checkpointer.wait_failed()),
        ]
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if not self._failure.done():
                self._failure.set_result(next(iter(done)).result())
        finally:
            for wait in waits:
                wait.cancel()

    async def _commit(self, sync: bool = True, *, handout: bool = False) -> None:
        if self._failure is not None and self._failure.done():
            error = self._failure.result()
            raise Unavailable(f"the store failed and accepts no writes until restart: {error}")
        writer, journal, checkpointer = self._writer, self._journal, self._checkpointer
        if writer is None or journal is None:
            return
        if checkpointer is not None:
            checkpointer.grew(journal.bytes)
        if handout:
            await writer.written()
        elif sync:
            await writer.flushed()

    async def checkpoint(self) -> None:
        """Takes a checkpoint now (tests, benchmarks)."""
        assert self._writer is not None
        await checkpoint.checkpoint(
            self.machine, self._writer, self.wal_dir, self.ops, self.at_rest
        )
