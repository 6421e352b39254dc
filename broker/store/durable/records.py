"""The durable store's log records: what each journal call writes, in format 2.

Record types (the WAL frame's type byte) and bodies:

=====  ====================  ===============================================================
type   name                  body
=====  ====================  ===============================================================
1      QUEUE_PUT             JSON: the queue's whole configuration (``QueueConfig`` fields)
2      QUEUE_DELETE          JSON ``{"name"}``: the queue, its messages, bindings, subscriptions
3      BINDING_PUT           JSON ``{"pattern", "queue"}``
4      BINDING_DELETE        JSON ``{"pattern", "queue"}``
5      SUBSCRIPTION_PUT      JSON ``{"queue", "name", "filter", "create_time"}``
6      SUBSCRIPTION_DELETE   JSON ``{"queue", "name"}``
7      SEQUENCE              JSON ``{"next_seq"}`` (snapshots): no id below it is reused
30     QUEUE_PAUSED          JSON ``{"name", "paused"}``: the queue was paused or resumed
10     PUBLISHED             ``conveyor.wal.v2.Published``: a Send batch (snapshots: live
                             messages with their state)
11     CLAIMED               ``conveyor.wal.v2.Claimed``: attempts handed out
12     REQUEUED              ``conveyor.wal.v2.Requeued``: units ready again at a time
13     FINISHED              ``conveyor.wal.v2.Finished``: units ended with a state
40     STATUSES              ``conveyor.wal.v2.Statuses`` (snapshots): finished messages'
                             statuses still inside the status window
=====  ====================  ===============================================================

Message bytes of encrypted queues, and payloads above the compression threshold, are written
sealed or compressed (``at_rest``); everything else as it is, so the plain path stays cheap.
Snapshots hold retained acked messages (for replay) as PUBLISHED records whose
``retained_at_ns`` column is set.

Configuration records are JSON: rare, readable in a hex dump, and a field added later is
simply absent from older records. Message records are protobuf columns (see the .proto),
one per batch, so a Send of 1,000 messages is one record. Times are Unix nanoseconds.
A Send batch larger than ``RECORD_BUDGET`` is split into several records.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from broker.model import Backoff, Guarantee, MessageState, Overflow, QueueConfig, QueueKind
from broker.store.at_rest import AtRest
from broker.store.base import MessageStatus
from broker.store.memory.journal import Journal
from broker.store.memory.queue import QueueState, SubState
from broker.store.memory.records import DELAYED, DONE, IN_FLIGHT, FanoutMsg, Msg, Unit, unit_key
from conveyor.wal.v2 import records_pb2

QUEUE_PUT = 1
QUEUE_DELETE = 2
BINDING_PUT = 3
BINDING_DELETE = 4
SUBSCRIPTION_PUT = 5
SUBSCRIPTION_DELETE = 6
SEQUENCE = 7
QUEUE_PAUSED = 30
PUBLISHED = 10
CLAIMED = 11
REQUEUED = 12
FINISHED = 13
STATUSES = 40

RECORD_BUDGET = 4 * 1024 * 1024
"""Message bytes per PUBLISHED record: well under the WAL's 16 MiB frame limit with room for
the other columns, so any batch the server accepts can be logged."""

_ALO = int(Guarantee.AT_LEAST_ONCE)
_FIRE_AND_FORGET = int(Guarantee.FIRE_AND_FORGET)
_U = TypeVar("_U", bound=Unit)


def _ns(t: float) -> int:
    return round(t * 1e9)


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def config_body(config: QueueConfig) -> bytes:
    return _json(dataclasses.asdict(config))


def config_of(raw: dict[str, Any]) -> QueueConfig:
    known = {f.name for f in dataclasses.fields(QueueConfig)}
    values = {k: v for k, v in raw.items() if k in known}
    backoff = values.pop("backoff", {})
    backoff["delays_s"] = tuple(backoff.get("delays_s", ()))
    return QueueConfig(
        **values,
        backoff=Backoff(**backoff),
    ).replace(
        kind=QueueKind(values.get("kind", QueueKind.STANDARD)),
        overflow=Overflow(values.get("overflow", Overflow.REJECT_NEW)),
    )


def json_body(**values: Any) -> bytes:
    return _json(values)


def published(
    q: QueueState,
    msgs: Sequence[Msg],
    dedup: Sequence[tuple[str, int, float]] = (),
    *,
    snapshot: bool = False,
    at_rest: AtRest | None = None,
    retained: bool = False,
) -> bytes:
    """One PUBLISHED body. Columns that hold only defaults stay empty; ``snapshot`` adds the
    state columns (attempts, due times, leases, copies' outcomes); ``retained``: the messages
    are retained acked ones (snapshots). ``at_rest`` seals and compresses where the queue
    asks for it; outside snapshots, what compression saved is counted in the queue's stats."""
    record = records_pb2.Published(queue=q.name)
    if msgs:
        first = msgs[0].publish_time
        record.seqs.extend([m.seq for m in msgs])
        config = q.config
        threshold = at_rest.threshold(config.compress_above_bytes) if at_rest else 0
        if at_rest is not None and (threshold or config.encrypted):
            entries, codecs, key_id, count, saved = at_rest.encode(
                q.name,
                [m.seq for m in msgs],
                [m.data for m in msgs],
                [m.size for m in msgs],
                threshold,
                config.encrypted,
            )
            record.messages.extend(entries)
            record.codecs.extend(codecs)
            record.sealed_key = key_id
            if not snapshot:
                q.counters.compressed += count
                q.counters.compression_saved += saved
        else:
            record.messages.extend([m.data for m in msgs])
        if retained:
            record.retained_at_ns.extend([_ns(m.changed) for m in msgs])
        record.topics.extend([m.topic for m in msgs])
        record.sizes.extend([m.size for m in msgs])
        # Which optional columns this batch needs, in one pass (most need none).
        guarantees = priorities = keys = expiry = copies = delayed = attempted = False
        for m in msgs:
            if m.attempts:
                attempted = True
            if m.guarantee != _ALO:
                guarantees = True
            if m.priority:
                priorities = True
            if m.key:
                keys = True
            if m.expires_at:
                expiry = True
            if m.copies is not None:
                copies = True
            if m.due > first:
                delayed = True
        if guarantees:
            record.guarantees.extend([m.guarantee for m in msgs])
        if priorities:
            record.priorities.extend([m.priority for m in msgs])
        if keys:
            record.ordering_keys.extend([m.key for m in msgs])
        if expiry:
            record.expires_at_ns.extend([_ns(m.expires_at) for m in msgs])
        if copies:
            record.copies.extend([_copies(q, m, snapshot) for m in msgs])
        if snapshot:
            record.publish_times_ns.extend([round(m.publish_time * 1e9) for m in msgs])
            plain = [m for m in msgs if m.copies is None]
            if any(m.state == DELAYED for m in plain):
                record.due_ns.extend([round(m.due * 1e9) for m in msgs])
            if any(m.attempts for m in plain):
                record.attempts.extend([m.attempts for m in msgs])
            if any(m.state == IN_FLIGHT for m in plain):
                record.in_flight.extend([m.state == IN_FLIGHT for m in msgs])
            reasons = q.nack_reasons
            if reasons and any(m.seq << 16 in reasons for m in plain):
                record.nack_reasons.extend([reasons.get(m.seq << 16, "") for m in msgs])
        else:
            record.publish_time_ns = _ns(first)
            if delayed:
                record.due_ns.extend([round(m.due * 1e9) for m in msgs])
            if attempted:  # redriven with their attempt counts kept
                record.attempts.extend([m.attempts for m in msgs])
    if dedup:
        record.dedup_ids.extend([d for d, _, _ in dedup])
        record.dedup_seqs.extend([s for _, s, _ in dedup])
        record.dedup_until_ns.extend([_ns(u) for _, _, u in dedup])
    return record.SerializeToString()


def _copies(q: QueueState, msg: Msg, snapshot: bool) -> records_pb2.Copies:
    if not isinstance(msg, FanoutMsg):
        return records_pb2.Copies()
    copies = msg.copies
    out = records_pb2.Copies(subscriptions=[c.sub for c in copies], required_acks=msg.required_acks)
    if snapshot:
        out.attempts.extend([c.attempts for c in copies])
        out.finals.extend([c.final if c.state == DONE else 0 for c in copies])
        out.due_ns.extend([round(c.due * 1e9) for c in copies])
        out.in_flight.extend([c.state == IN_FLIGHT for c in copies])
        reasons = q.nack_reasons
        if reasons and any(unit_key(c) in reasons for c in copies):
            out.nack_reasons.extend([reasons.get(unit_key(c), "") for c in copies])
    elif any(c.attempts for c in copies):  # redriven with their attempt counts kept
        out.attempts.extend([c.attempts for c in copies])
    return out


def split(msgs: Sequence[Msg]) -> list[Sequence[Msg]]:
    """Batches of at most ``RECORD_BUDGET`` message bytes (at least one message each)."""
    total = 0
    for m in msgs:
        total += len(m.data)
    if total <= RECORD_BUDGET:
        return [msgs]
    out: list[Sequence[Msg]] = []
    start = size = 0
    for i, m in enumerate(msgs):
        if size and size + len(m.data) > RECORD_BUDGET:
            out.append(msgs[start:i])
            start, size = i, 0
        size += len(m.data)
    out.append(msgs[start:])
    return out


class WalJournal(Journal):
    """Encodes each change as a record and hands it to ``write`` (the WAL writer's, which
    queues it in order without waiting)."""

    def __init__(
        self, write: Callable[[list[tuple[int, bytes]]], object], at_rest: AtRest | None = None
    ) -> None:
        self._write = write
        self.at_rest = at_rest
        self.bytes = 0
        """Record bytes written: the checkpointer's measure of log growth."""

    def _put(self, records: list[tuple[int, bytes]]) -> None:
        for _, body in records:
            self.bytes += len(body)
        self._write(records)

    def queue_put(self, config: QueueConfig) -> None:
        self._put([(QUEUE_PUT, config_body(config))])

    def queue_delete(self, name: str) -> None:
        self._put([(QUEUE_DELETE, json_body(name=name))])

    def queue_paused(self, name: str, paused: bool) -> None:
        self._put([(QUEUE_PAUSED, json_body(name=name, paused=paused))])

    def binding_put(self, pattern: str, queue: str) -> None:
        self._put([(BINDING_PUT, json_body(pattern=pattern, queue=queue))])

    def binding_delete(self, pattern: str, queue: str) -> None:
        self._put([(BINDING_DELETE, json_body(pattern=pattern, queue=queue))])

    def subscription_put(self, queue: str, sub: SubState) -> None:
        self._put([(SUBSCRIPTION_PUT, subscription_body(queue, sub))])

    def subscription_delete(self, queue: str, name: str) -> None:
        self._put([(SUBSCRIPTION_DELETE, json_body(queue=queue, name=name))])

    def published(
        self, q: QueueState, msgs: Sequence[Msg], dedup: Sequence[tuple[str, int, float]]
    ) -> None:
        msgs = on_disk(msgs)
        if not msgs and not dedup:
            return
        parts = split(msgs) if msgs else [msgs]
        at_rest = self.at_rest
        records = [(PUBLISHED, published(q, part, at_rest=at_rest)) for part in parts[:-1]]
        records.append((PUBLISHED, published(q, parts[-1], dedup, at_rest=at_rest)))
        self._put(records)

    def replayed(self, q: QueueState, msgs: Sequence[Msg]) -> None:
        msgs = on_disk(msgs)
        if msgs:
            self._put(
                [
                    (PUBLISHED, published(q, part, snapshot=True, at_rest=self.at_rest))
                    for part in split(msgs)
                ]
            )

    def claimed(self, q: QueueState, units: Sequence[Unit]) -> None:
        units = on_disk(units)
        if not units:
            return
        record = records_pb2.Claimed(
            queue=q.name, seqs=[u.seq for u in units], attempts=[u.attempts for u in units]
        )
        _copy_indexes(record.copies, units)
        self._put([(CLAIMED, record.SerializeToString())])

    def requeued(self, q: QueueState, units: Sequence[Unit]) -> None:
        units = on_disk(units)
        if not units:
            return
        record = records_pb2.Requeued(
            queue=q.name,
            seqs=[u.seq for u in units],
            attempts=[u.attempts for u in units],
            due_ns=[_ns(u.due) for u in units],
        )
        reasons = q.nack_reasons
        if reasons:
            said = [reasons.get(unit_key(u), "") for u in units]
            if any(said):
                record.reasons.extend(said)
        _copy_indexes(record.copies, units)
        self._put([(REQUEUED, record.SerializeToString())])

    def finished(self, q: QueueState, units: Sequence[Unit], state: MessageState) -> None:
        units = on_disk(units)
        if not units:
            return
        record = records_pb2.Finished(
            queue=q.name,
            seqs=[u.seq for u in units],
            state=int(state),
            time_ns=_ns(units[0].msg.changed),
        )
        _copy_indexes(record.copies, units)
        self._put([(FINISHED, record.SerializeToString())])


def on_disk(units: Sequence[_U]) -> Sequence[_U]:
    """The units of messages kept on disk: fire-and-forget ones never are."""
    for u in units:
        if u.guarantee == _FIRE_AND_FORGET:
            return [u for u in units if u.guarantee != _FIRE_AND_FORGET]
    return units


def _copy_indexes(column: Any, units: Sequence[Unit]) -> None:
    """Fills a ``copies`` column, left empty when every unit is a message's only one."""
    indexes = [u.index for u in units]
    if any(indexes):
        column.extend(indexes)


def subscription_body(queue: str, sub: SubState) -> bytes:
    return json_body(queue=queue, name=sub.name, filter=sub.filter, create_time=sub.create_time)


def statuses_body(entries: Sequence[tuple[int, MessageStatus]]) -> bytes:
    """One STATUSES body (snapshots)."""
    record = records_pb2.Statuses()
    for seq, st in entries:
        record.statuses.append(
            records_pb2.FinishedStatus(
                queue=st.queue,
                seq=seq,
                state=int(st.state),
                attempts=st.attempts,
                acked_by=st.acked_by,
                required_acks=st.required_acks,
                reason=st.reason,
                time_ns=_ns(st.update_time),
                guarantee=int(st.guarantee),
            )
        )
    return record.SerializeToString()
