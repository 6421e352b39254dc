"""Checkpoints: a snapshot of the live state, then deleting the log it covers.

``P = sync(rotate=True)`` first (the segment is cut there, so everything before P can go
once the snapshot is written); then the state is captured in chunks with the event loop running
between them (a chunk is ``CHUNK_MESSAGES`` messages or ``CHUNK_BYTES`` of them), each chunk
encoded on the loop and written by a worker thread while the loop serves. Changes made during
the capture are in the log after P and may or may not be in the snapshot already: every record
states absolute values, so replaying them over the snapshot gives the same state either way.
So the loop is never stalled for longer than one chunk, whatever the live data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from broker.store.at_rest import AtRest
from broker.store.durable import records
from broker.store.memory.machine import Machine
from broker.store.memory.records import Msg
from broker.telemetry.logs import event
from broker.wal import FileOps, SnapshotWriter, WalWriter, delete_segments_before

log = logging.getLogger(__name__)

CHUNK_MESSAGES = 2000
"""Messages per snapshot record: a few milliseconds of encoding between yields."""
CHUNK_BYTES = 1024 * 1024
"""Message bytes per snapshot record, for large payloads."""


async def checkpoint(
    m: Machine, writer: WalWriter, wal_dir: Path, ops: FileOps, at_rest: AtRest | None = None
) -> tuple[int, int, int]:
    """Writes a snapshot and deletes what it covers; returns (records, bytes, files deleted)."""
    position = await writer.sync(rotate=True)
    snapshot = await asyncio.to_thread(SnapshotWriter, wal_dir, position, ops)
    try:
        head: list[tuple[int, bytes]] = [(records.SEQUENCE, records.json_body(next_seq=m.next_seq))]
        head += [(records.QUEUE_PUT, records.config_body(q.config)) for q in m.queues.values()]
        head += [
            (records.QUEUE_PAUSED, records.json_body(name=q.name, paused=True))
            for q in m.queues.values()
            if q.paused
        ]
        head += [
            (records.BINDING_PUT, records.json_body(pattern=p, queue=q))
            for p, q in sorted(m.bindings.patterns())
        ]
        for each in m.queues.values():
            head += [
                (records.SUBSCRIPTION_PUT, records.subscription_body(each.name, sub))
                for sub in each.subs.values()
            ]
        await asyncio.to_thread(snapshot.write, head)
        for name in list(m.queues):
            q = m.queues.get(name)
            if q is None:
                continue
            dedup = q.dedup.entries(m.clock())
            if dedup:
                await asyncio.to_thread(
                    snapshot.write, [(records.PUBLISHED, records.published(q, (), dedup))]
                )
            # Live messages first, retained ones after: an ack during the capture moves a
            # message from one to the other, and its FINISHED record (after P) needs it in the
            # snapshot to act on. Captured live before the ack, the record retains it on
            # replay; acked before the live pass reaches it, it is retained by the time the
            # retained pass starts. The other order loses it: past the retained pass and gone
            # from the live one, it is in neither, and FINISHED finds nothing to retain.
            # (Replay keeps live and retained records apart, so a replayed message that is
            # both comes back as both either way.)
            for kept_msgs, retained in ((q.messages, False), (q.retained.msgs, True)):
                seqs = list(kept_msgs)
                start = 0
                while start < len(seqs):
                    chunk: list[Msg] = []
                    size = 0
                    while start < len(seqs) and len(chunk) < CHUNK_MESSAGES and size < CHUNK_BYTES:
                        msg = kept_msgs.get(seqs[start])
                        start += 1
                        if msg is not None:
                            chunk.append(msg)
                            size += len(msg.data)
                    kept = records.on_disk(chunk)
                    if kept:
                        body = records.published(
                            q, kept, snapshot=True, at_rest=at_rest, retained=retained
                        )
                        await asyncio.to_thread(snapshot.write, [(records.PUBLISHED, body)])
        finished = m.board.seqs()
        for i in range(0, len(finished), CHUNK_MESSAGES):
            statuses = m.board.entries(finished[i : i + CHUNK_MESSAGES], m.clock())
            if statuses:
                body = records.statuses_body(statuses)
                await asyncio.to_thread(snapshot.write, [(records.STATUSES, body)])
        path = await asyncio.to_thread(snapshot.commit)
    except BaseException:
        await asyncio.shield(asyncio.to_thread(snapshot.abort))
        raise
    deleted = await asyncio.to_thread(delete_segments_before, wal_dir, position, ops)
    log.info(
        "checkpoint at %s: %d entries, %d bytes, %d files deleted (%s)",
        position,
        snapshot.count,
        snapshot.bytes,
        len(deleted),
        path.name,
        extra=event(
            "store.checkpoint",
            entries=snapshot.count,
            bytes=snapshot.bytes,
            files_deleted=len(deleted),
            snapshot=path.name,
        ),
    )
    return snapshot.count, snapshot.bytes, len(deleted)


class Checkpointer:
    """Owns the checkpoint task: woken when the log has grown enough, it takes a checkpoint.

    Supervised: any error ends the task and is kept; the store reports it as failed (health
    goes NOT_SERVING), because a log that can no longer be compacted will fill the disk. A
    snapshot cut short by a stop is abandoned (its temporary file removed).
    """

    def __init__(
        self,
        m: Machine,
        writer: WalWriter,
        wal_dir: Path,
        ops: FileOps,
        threshold: int,
        at_rest: AtRest | None = None,
    ) -> None:
        self.m = m
        self.at_rest = at_rest
        self.writer = writer
        self.wal_dir = wal_dir
        self.ops = ops
        self.threshold = threshold
        self.snapshot_bytes = 0
        """Size of the last snapshot: the log must grow at least this much before the next,
        so snapshot work stays proportional to what is written however much data is live."""
        self.grown_since = 0
        self.count = 0
        self.error: BaseException | None = None
        self.failed = asyncio.Event()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="conveyor-checkpoint")

    def grew(self, total_bytes: int) -> None:
        """Told the journal's byte count after writes; wakes the task past the threshold."""
        grown = total_bytes - self.grown_since
        if grown >= max(self.threshold, self.snapshot_bytes) and not self._wake.is_set():
            self._wake.set()

    def request(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                self.grown_since = self.journal_bytes()
                _, self.snapshot_bytes, _ = await checkpoint(
                    self.m, self.writer, self.wal_dir, self.ops, self.at_rest
                )
                self.count += 1
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            log.exception("checkpoint failed; the store stops accepting writes")
            self.error = exc
            self.failed.set()

    async def wait_failed(self) -> BaseException:
        await self.failed.wait()
        assert self.error is not None
        return self.error

    def journal_bytes(self) -> int:
        journal = self.m.journal
        return journal.bytes if isinstance(journal, records.WalJournal) else 0

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
