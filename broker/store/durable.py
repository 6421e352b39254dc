"""The durable store: every state change is a write-ahead-log entry before the caller hears OK.

Layout of the data directory: ``LOCK`` (one server per directory), ``wal/`` (segments and
snapshots, format in ``broker.wal``).

Checkpoints: the store mirrors the live state it has logged - queues, bindings, subscriptions
and a reference to each live message (payloads are shared with the core, never copied). When
the log has grown by ``checkpoint_bytes`` since the last snapshot, a background task takes
``P = sync()`` and, without yielding to the loop, captures the mirror; it then writes the
snapshot at P and deletes the segments before it. Entries written after P may already be
reflected in the snapshot; because every entry states absolute values, replaying them again
changes nothing. So disk use and recovery time follow live data, not history.

Task ownership: the store owns the checkpoint task; the WAL writer owns its I/O task.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from broker import convert
from broker.errors import FailedPrecondition, Unavailable
from broker.model import CopyState, QueueConfig, StoredMessage
from broker.store import codec
from broker.store.base import Recovered, Store, SubscriptionRecord
from broker.wal import (
    DEFAULT_SEGMENT_BYTES,
    FileOps,
    FsyncPolicy,
    WalReader,
    WalWriteError,
    WalWriter,
    delete_segments_before,
    load_snapshot,
    write_snapshot,
)
from broker.wal.fileops import DEFAULT_OPS
from conveyor.v1 import types_pb2
from conveyor.wal.v1 import records_pb2

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_BYTES = 128 * 1024 * 1024
"""Log growth between snapshots: big enough that snapshots are rare under load, small enough
that a restart replays seconds, not minutes, of history."""
_SNAPSHOT_CHUNK = 5000
"""Messages encoded between yields to the event loop while a snapshot is built."""


class DurableStore(Store):
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
    ) -> None:
        self.data_dir = Path(data_dir)
        self.wal_dir = self.data_dir / "wal"
        self.policy = FsyncPolicy(fsync)
        self.interval_ms = interval_ms
        self.segment_bytes = segment_bytes
        self.checkpoint_bytes = checkpoint_bytes
        self.ops = ops
        self._writer: WalWriter | None = None
        self._lock_fd: int | None = None
        self._queues: dict[str, types_pb2.Queue] = {}
        self._bindings: set[tuple[str, str]] = set()
        self._subs: dict[tuple[str, str], records_pb2.SubscriptionRecord] = {}
        self._messages: dict[tuple[str, str], StoredMessage] = {}
        self._since_checkpoint = 0
        self._snapshot_bytes = 0
        """Size of the last snapshot: the log must grow at least this much before the next, so
        snapshot work stays proportional to what is written however much data is live."""
        self._checkpoint_wake = asyncio.Event()
        self._failure = asyncio.Event()
        self._checkpointer: asyncio.Task[None] | None = None
        self.checkpoints = 0
        self.replayed = 0

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

    async def recover(self) -> Recovered:
        """Opens the log (truncating a torn tail), loads the newest snapshot, replays the rest.

        Corruption before the tail raises ``LogDamageError`` naming file and offset; run
        ``conveyor wal repair`` to cut the log there.
        """
        self._lock()
        self._writer = await WalWriter.open(
            self.wal_dir,
            policy=self.policy,
            interval_ms=self.interval_ms,
            segment_bytes=self.segment_bytes,
            ops=self.ops,
        )
        started = time.perf_counter()
        count = await asyncio.to_thread(self._replay)
        self.replayed = count
        log.info(
            "recovered %d log entries (%d live messages) in %.2fs",
            count,
            len(self._messages),
            time.perf_counter() - started,
        )
        self._checkpointer = asyncio.get_running_loop().create_task(
            self._checkpoint_loop(), name="conveyor-checkpoint"
        )
        return self._recovered()

    def _replay(self) -> int:
        snapshot = load_snapshot(self.wal_dir)
        count = 0
        if snapshot is not None:
            for _, body in snapshot.records:
                self._apply(records_pb2.Entry.FromString(body))
                count += 1
        for _, _, body in WalReader(self.wal_dir, snapshot.position if snapshot else None):
            self._apply(records_pb2.Entry.FromString(body))
            count += 1
        return count

    def _apply(self, entry: records_pb2.Entry) -> None:
        """Replays one entry onto the mirror. Idempotent: entries state absolute values."""
        kind = entry.WhichOneof("change")
        if kind == "queue_put":
            self._queues[entry.queue_put.name] = entry.queue_put
        elif kind == "queue_delete":
            self._forget_queue(entry.queue_delete)
        elif kind == "binding_put":
            self._bindings.add((entry.binding_put.pattern, entry.binding_put.queue))
        elif kind == "binding_delete":
            self._bindings.discard((entry.binding_delete.pattern, entry.binding_delete.queue))
        elif kind == "subscription_put":
            s = entry.subscription_put
            self._subs[(s.queue, s.name)] = s
        elif kind == "subscription_delete":
            s = entry.subscription_delete
            self._subs.pop((s.queue, s.name), None)
        elif kind == "message_put":
            msg = codec.stored_message(entry.message_put)
            self._messages[(msg.queue, msg.id)] = msg
        elif kind == "message_update":
            u = entry.message_update
            target = self._messages.get((u.queue, u.id))
            if target is not None:
                codec.apply_update(target, u)
        elif kind == "message_remove":
            for message_id in entry.message_remove.ids:
                self._messages.pop((entry.message_remove.queue, message_id), None)

    def _forget_queue(self, name: str) -> None:
        self._queues.pop(name, None)
        self._bindings = {b for b in self._bindings if b[1] != name}
        self._subs = {k: v for k, v in self._subs.items() if k[0] != name}
        self._messages = {k: v for k, v in self._messages.items() if k[0] != name}

    def _recovered(self) -> Recovered:
        live = [
            m
            for m in self._messages.values()
            if any(c.state is not CopyState.DONE for c in m.copies)
        ]
        live.sort(key=lambda m: (m.queue, m.seq))
        return Recovered(
            queues=[
                convert.queue_config(q).replace(create_time=convert.seconds_of(q.create_time))
                for q in self._queues.values()
            ],
            bindings=sorted(self._bindings),
            subscriptions=[
                SubscriptionRecord(s.queue, s.name, s.filter, s.create_time_ns / 1e9)
                for s in self._subs.values()
                if s.queue in self._queues
            ],
            messages=[m for m in live if m.queue in self._queues],
        )

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer
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
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- writes --------------------------------------------------------------------------

    @property
    def failed(self) -> bool:
        return self._writer is not None and self._writer.failed

    @property
    def writer(self) -> WalWriter:
        if self._writer is None:
            raise Unavailable("the store is not open yet")
        return self._writer

    async def _append(self, bodies: list[bytes]) -> None:
        if not bodies:
            return
        self._since_checkpoint += sum(len(b) for b in bodies)
        if self._since_checkpoint >= max(self.checkpoint_bytes, self._snapshot_bytes):
            self._checkpoint_wake.set()
        try:
            await self.writer.append([(codec.ENTRY, b) for b in bodies])
        except WalWriteError:
            self._failure.set()
            raise

    async def wait_failed(self) -> None:
        await self._failure.wait()

    async def save_queue(self, config: QueueConfig) -> None:
        queue = convert.queue(config)
        body = codec.queue_put(queue)
        self._queues[config.name] = queue
        await self._append([body])

    async def delete_queue(self, name: str) -> None:
        self._forget_queue(name)
        await self._append([records_pb2.Entry(queue_delete=name).SerializeToString()])

    async def save_binding(self, pattern: str, queue: str) -> None:
        self._bindings.add((pattern, queue))
        binding = types_pb2.Binding(pattern=pattern, queue=queue)
        await self._append([records_pb2.Entry(binding_put=binding).SerializeToString()])

    async def delete_binding(self, pattern: str, queue: str) -> None:
        self._bindings.discard((pattern, queue))
        binding = types_pb2.Binding(pattern=pattern, queue=queue)
        await self._append([records_pb2.Entry(binding_delete=binding).SerializeToString()])

    def _sub(
        self, queue: str, name: str, filter_: str = "", create_time: float = 0.0
    ) -> records_pb2.SubscriptionRecord:
        return records_pb2.SubscriptionRecord(
            queue=queue, name=name, filter=filter_, create_time_ns=round(create_time * 1e9)
        )

    async def save_subscription(self, record: SubscriptionRecord) -> None:
        sub = self._sub(record.queue, record.name, record.filter, record.create_time)
        self._subs[(record.queue, record.name)] = sub
        await self._append([records_pb2.Entry(subscription_put=sub).SerializeToString()])

    async def delete_subscription(self, queue: str, name: str) -> None:
        self._subs.pop((queue, name), None)
        body = records_pb2.Entry(subscription_delete=self._sub(queue, name)).SerializeToString()
        await self._append([body])

    async def write_messages(
        self,
        added: Sequence[StoredMessage],
        updated: Sequence[StoredMessage],
        removed: Sequence[tuple[str, str]],
    ) -> None:
        bodies = [codec.message_put(m) for m in added]
        bodies += [codec.message_update(m) for m in updated]
        for m in added:
            self._messages[(m.queue, m.id)] = m
        by_queue: dict[str, list[str]] = {}
        for queue, message_id in removed:
            self._messages.pop((queue, message_id), None)
            by_queue.setdefault(queue, []).append(message_id)
        bodies += [
            records_pb2.Entry(
                message_remove=records_pb2.MessageRemove(queue=q, ids=ids)
            ).SerializeToString()
            for q, ids in by_queue.items()
        ]
        await self._append(bodies)

    # -- checkpoints ---------------------------------------------------------------------

    async def _checkpoint_loop(self) -> None:
        while True:
            await self._checkpoint_wake.wait()
            self._checkpoint_wake.clear()
            try:
                await self.checkpoint()
            except WalWriteError:
                self._failure.set()
                return  # sticky: nothing more can be written
            except OSError:
                log.exception("checkpoint failed; the log keeps growing until the next one")

    async def checkpoint(self) -> None:
        """Writes a snapshot of the live state and deletes the log segments it covers."""
        writer = self.writer
        # Reset before awaiting, so that appends made during sync() count toward the next
        # checkpoint instead of waking this loop for a second one at once.
        self._since_checkpoint = 0
        position = await writer.sync()
        # No await between sync() returning and this capture: the mirror is exactly the state
        # of every entry before `position`, plus entries queued since (safe to replay twice).
        head = [codec.queue_put(q) for q in self._queues.values()]
        head += [
            records_pb2.Entry(binding_put=types_pb2.Binding(pattern=p, queue=q)).SerializeToString()
            for p, q in sorted(self._bindings)
        ]
        head += [
            records_pb2.Entry(subscription_put=s).SerializeToString() for s in self._subs.values()
        ]
        messages = list(self._messages.values())
        bodies = list(head)
        for start in range(0, len(messages), _SNAPSHOT_CHUNK):
            bodies += [
                codec.message_put(m)
                for m in messages[start : start + _SNAPSHOT_CHUNK]
                if any(c.state is not CopyState.DONE for c in m.copies)
            ]
            await asyncio.sleep(0)
        records = [(codec.ENTRY, b) for b in bodies]
        self._snapshot_bytes = sum(len(b) for b in bodies)
        await asyncio.to_thread(write_snapshot, self.wal_dir, position, records, self.ops)
        deleted = await asyncio.to_thread(delete_segments_before, self.wal_dir, position, self.ops)
        self.checkpoints += 1
        log.info(
            "checkpoint at %s: %d entries, %d files deleted", position, len(records), len(deleted)
        )
