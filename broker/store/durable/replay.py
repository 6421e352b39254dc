"""Recovery: replaying a snapshot and the log after it, then making the result live.

Replay (``Replay.apply``, in a worker thread while health says NOT_SERVING) only builds
records: queue configurations, bindings, subscriptions, and per queue a dict of messages with
their units' attempts, due times and outcomes, each record setting absolute values. Activation
(``Replay.activate``, on the event loop) then builds the indexes once - ready orders, FIFO
lanes, counts, one timer per distinct due or expiry time - rather than maintaining them
record by record. Leases held when the server stopped come back expired: the attempt stays
counted, and the unit is retried (or dead-lettered at max deliveries) by the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import partial

from broker.model import Guarantee, MessageState, QueueConfig
from broker.store.at_rest import AtRest
from broker.store.base import CopyStatus, MessageStatus
from broker.store.durable import records
from broker.store.ids import message_id
from broker.store.memory import lifecycle, retained
from broker.store.memory.machine import Machine
from broker.store.memory.queue import QueueState, footprint
from broker.store.memory.records import (
    DELAYED,
    DONE,
    IN_FLIGHT,
    READY,
    Copy,
    FanoutMsg,
    Msg,
    Unit,
    unit_at,
    unit_key,
)
from broker.store.memory.retained import RetainedLog
from broker.store.memory.status import StatusBoard
from conveyor.wal.v2 import records_pb2

_ALO = int(Guarantee.AT_LEAST_ONCE)
_FIRE_AND_FORGET = int(Guarantee.FIRE_AND_FORGET)
_DELIVERED = int(MessageState.DELIVERED)


def _s(ns: int) -> float:
    return ns / 1e9


class Replay:
    """The state the records describe, before it is made live."""

    def __init__(self, at_rest: AtRest | None = None, board: StatusBoard | None = None) -> None:
        self.at_rest = at_rest or AtRest()
        self.board = board or StatusBoard()
        """Finished statuses, from snapshots and FINISHED records (the machine's board)."""
        self.retained: dict[str, RetainedLog] = {}
        self.configs: dict[str, QueueConfig] = {}
        self.bindings: set[tuple[str, str]] = set()
        self.subs: dict[str, dict[str, tuple[str, float]]] = {}
        self.messages: dict[str, dict[int, Msg]] = {}
        self.dedup: dict[str, list[tuple[str, int, float]]] = {}
        self.next_seq = 0
        self.entries = 0
        self.paused: set[str] = set()
        self.nack_reasons: dict[str, dict[int, str]] = {}
        """Per queue, the last nack reason per unit key (those given one)."""

    def apply_all(self, entries: Iterable[tuple[int, bytes]]) -> None:
        apply = self.apply
        for record_type, body in entries:
            apply(record_type, body)

    def apply(self, record_type: int, body: bytes) -> None:
        self.entries += 1
        if record_type == records.PUBLISHED:
            self._published(records_pb2.Published.FromString(body))
        elif record_type == records.CLAIMED:
            claimed = records_pb2.Claimed.FromString(body)
            for unit, i in self._units(claimed.queue, claimed.seqs, claimed.copies):
                unit.attempts = claimed.attempts[i]
                unit.state = IN_FLIGHT
        elif record_type == records.REQUEUED:
            requeued = records_pb2.Requeued.FromString(body)
            reasons = requeued.reasons
            for unit, i in self._units(requeued.queue, requeued.seqs, requeued.copies):
                unit.attempts = requeued.attempts[i]
                unit.state = DELAYED
                unit.due = _s(requeued.due_ns[i])
                if reasons and reasons[i]:
                    self._nack_reason(requeued.queue, unit_key(unit), reasons[i])
        elif record_type == records.FINISHED:
            self._finished(records_pb2.Finished.FromString(body))
        elif record_type == records.STATUSES:
            self._statuses(records_pb2.Statuses.FromString(body))
        else:
            self._config(record_type, json.loads(body))

    def _config(self, record_type: int, value: dict[str, object]) -> None:
        if record_type == records.QUEUE_PUT:
            config = records.config_of(value)
            self.configs[config.name] = config
            self.messages.setdefault(config.name, {})
            self.subs.setdefault(config.name, {})
            self.retained.setdefault(config.name, RetainedLog()).trim(config, None)
        elif record_type == records.QUEUE_DELETE:
            name = str(value["name"])
            self.configs.pop(name, None)
            self.messages.pop(name, None)
            self.subs.pop(name, None)
            self.dedup.pop(name, None)
            self.paused.discard(name)
            self.nack_reasons.pop(name, None)
            self.retained.pop(name, None)
            self.bindings = {b for b in self.bindings if b[1] != name}
        elif record_type == records.BINDING_PUT:
            self.bindings.add((str(value["pattern"]), str(value["queue"])))
        elif record_type == records.BINDING_DELETE:
            self.bindings.discard((str(value["pattern"]), str(value["queue"])))
        elif record_type == records.SUBSCRIPTION_PUT:
            subs = self.subs.get(str(value["queue"]))
            if subs is not None:
                subs[str(value["name"])] = (str(value["filter"]), float(value["create_time"]))  # type: ignore[arg-type]
        elif record_type == records.SUBSCRIPTION_DELETE:
            self.subs.get(str(value["queue"]), {}).pop(str(value["name"]), None)
        elif record_type == records.QUEUE_PAUSED:
            if value["paused"]:
                self.paused.add(str(value["name"]))
            else:
                self.paused.discard(str(value["name"]))
        elif record_type == records.SEQUENCE:
            self.next_seq = max(self.next_seq, int(value["next_seq"]))  # type: ignore[call-overload]
        else:
            raise ValueError(f"unknown record type {record_type}")

    def _published(self, record: records_pb2.Published) -> None:
        msgs = self.messages.get(record.queue)
        if msgs is None:
            return  # its queue was deleted later in the log
        if record.dedup_ids:
            self.dedup.setdefault(record.queue, []).extend(
                zip(
                    record.dedup_ids,
                    record.dedup_seqs,
                    [_s(u) for u in record.dedup_until_ns],
                    strict=True,
                )
            )
        seqs = list(record.seqs)
        if not seqs:
            return
        datas, topics, sizes = list(record.messages), list(record.topics), list(record.sizes)
        if record.sealed_key or record.codecs:
            datas = self.at_rest.decode(record.queue, seqs, datas, record.codecs, record.sealed_key)
        shared_time = _s(record.publish_time_ns)
        if record.retained_at_ns:
            kept: dict[int, Msg] = {}
            self._published_with_columns(record, kept, seqs, datas, topics, sizes, shared_time)
            log = self.retained[record.queue]
            for msg, at in zip(kept.values(), record.retained_at_ns, strict=True):
                msg.state, msg.final = DONE, _DELIVERED
                log.keep(msg, _s(at))
            self._bump(seqs)
            return
        if not (
            record.publish_times_ns
            or record.due_ns
            or record.guarantees
            or record.priorities
            or record.ordering_keys
            or record.expires_at_ns
            or record.attempts
            or record.in_flight
            or record.copies
        ):
            # A Send batch of plain messages, the common record: ready, with nothing to set.
            for seq, data, topic, size in zip(seqs, datas, topics, sizes, strict=True):
                msgs[seq] = Msg(
                    seq, data, size, topic, shared_time, READY, shared_time, _ALO, 0, "", 0.0
                )
        else:
            self._published_with_columns(record, msgs, seqs, datas, topics, sizes, shared_time)
        self._bump(seqs)

    def _bump(self, seqs: list[int]) -> None:
        last = max(seqs) + 1
        if last > self.next_seq:
            self.next_seq = last

    def _published_with_columns(
        self,
        record: records_pb2.Published,
        msgs: dict[int, Msg],
        seqs: list[int],
        datas: list[bytes],
        topics: list[str],
        sizes: list[int],
        shared_time: float,
    ) -> None:
        n = len(seqs)
        times = [t / 1e9 for t in record.publish_times_ns] or [shared_time] * n
        dues = [t / 1e9 for t in record.due_ns] or times
        columns = zip(
            seqs,
            datas,
            topics,
            sizes,
            times,
            dues,
            list(record.guarantees) or [_ALO] * n,
            list(record.priorities) or [0] * n,
            list(record.ordering_keys) or [""] * n,
            [t / 1e9 for t in record.expires_at_ns] or [0.0] * n,
            list(record.attempts) or [0] * n,
            list(record.in_flight) or [False] * n,
            strict=True,
        )
        fans = record.copies
        if fans:
            fan_of = {seq: fan for seq, fan in zip(seqs, fans, strict=True) if fan.subscriptions}
        for seq, data, topic, size, t, due, g, prio, key, exp, tries, leased in columns:
            if fans and seq in fan_of:
                msg: Msg = self._fanout(fan_of[seq], seq, data, size, topic, t, g)
                msg.priority, msg.key, msg.expires_at = prio, key, exp
            else:
                state = IN_FLIGHT if leased else READY if due <= t else DELAYED
                msg = Msg(seq, data, size, topic, t, state, due, g, prio, key, exp)
                msg.attempts = tries
            msgs[seq] = msg
        if record.nack_reasons:
            for seq, reason in zip(seqs, record.nack_reasons, strict=True):
                if reason:
                    self._nack_reason(record.queue, seq << 16, reason)
        for seq, fan in zip(seqs, fans, strict=False):
            for i, reason in enumerate(fan.nack_reasons):
                if reason:
                    self._nack_reason(record.queue, seq << 16 | i, reason)

    def _nack_reason(self, queue: str, key: int, reason: str) -> None:
        self.nack_reasons.setdefault(queue, {})[key] = reason

    def _fanout(
        self,
        fan: records_pb2.Copies,
        seq: int,
        data: bytes,
        size: int,
        topic: str,
        publish_time: float,
        guarantee: int,
    ) -> FanoutMsg:
        msg = FanoutMsg(
            seq, data, size, topic, publish_time, DELAYED, publish_time, guarantee, 0, "", 0.0
        )
        msg.required_acks = fan.required_acks
        count = len(fan.subscriptions)
        attempts = fan.attempts or [0] * count
        finals = fan.finals or [0] * count
        dues = [_s(t) for t in fan.due_ns] or [publish_time] * count
        in_flight = fan.in_flight or [False] * count
        for i, sub in enumerate(fan.subscriptions):
            state = DONE if finals[i] else IN_FLIGHT if in_flight[i] else DELAYED
            copy = Copy(msg, i, sub, state, dues[i])
            copy.attempts = attempts[i]
            copy.final = finals[i]
            msg.copies.append(copy)
        return msg

    def _units(
        self, queue: str, seqs: Sequence[int], copies: Sequence[int]
    ) -> Iterable[tuple[Unit, int]]:
        """The units a record names that still exist, with their position in the record."""
        msgs = self.messages.get(queue)
        if msgs is None:
            return
        for i, seq in enumerate(seqs):
            msg = msgs.get(seq)
            if msg is None:
                continue
            if msg.copies is None:
                yield msg, i
                continue
            index = copies[i] if copies else 0
            if index < len(msg.copies):
                yield msg.copies[index], i

    def _finished(self, record: records_pb2.Finished) -> None:
        msgs = self.messages.get(record.queue)
        if msgs is None:
            return
        state = record.state
        when = _s(record.time_ns)
        config = self.configs[record.queue]
        log = self.retained[record.queue]
        board = self.board
        for unit, _ in list(self._units(record.queue, record.seqs, record.copies)):
            msg = unit.msg
            if msg.copies is None:
                del msgs[msg.seq]
                msg.final = state
            else:
                unit.state, unit.final = DONE, state
                if not all(c.state == DONE for c in msg.copies):
                    continue
                del msgs[msg.seq]
                if isinstance(msg, FanoutMsg):
                    msg.recount()
                    lifecycle.decide(msg, state)
            msg.state = DONE
            board.finished(record.queue, msg, "", when)
            if config.retains and msg.final == _DELIVERED and msg.guarantee != _FIRE_AND_FORGET:
                if isinstance(msg, FanoutMsg):
                    msg.copies = []
                log.keep(msg, when)
                log.trim(config, None)

    def _statuses(self, record: records_pb2.Statuses) -> None:
        for st in record.statuses:
            state = MessageState(st.state)
            self.board.restore(
                st.seq,
                MessageStatus(
                    queue=st.queue,
                    message_id=message_id(st.seq),
                    state=state,
                    acked_by=tuple(st.acked_by),
                    required_acks=st.required_acks,
                    attempts=st.attempts,
                    copies=tuple(CopyStatus(s, MessageState.DELIVERED, 0) for s in st.acked_by)
                    or (CopyStatus("", state, st.attempts),),
                    reason=st.reason,
                    update_time=_s(st.time_ns),
                    guarantee=Guarantee(st.guarantee or _ALO),
                ),
            )

    # -- making it live ------------------------------------------------------------------

    def activate(self, m: Machine) -> list[tuple[QueueState, Unit]]:
        """Builds the live state in ``m`` (whose journal must already be writing) and returns
        the units whose lease a stop cut short, for ``expire_leases``."""
        now = m.clock()
        m.next_seq = max(m.next_seq, self.next_seq)
        cut_short: list[tuple[QueueState, Unit]] = []
        for name, config in self.configs.items():
            q = m.new_queue(QueueState(config))
            for sub, (filter_, created) in self.subs.get(name, {}).items():
                q.add_subscription(sub, filter_, created)
            for dedup_id, seq, until in self.dedup.get(name, ()):
                if until > now:
                    q.dedup.remember(dedup_id, seq, until)
            msgs = self.messages.get(name, {})
            q.messages = msgs if _ascending(msgs) else dict(sorted(msgs.items()))
            m.usage.stored += sum(
                footprint(len(x.data), len(x.copies) if x.copies is not None else 0)
                for x in msgs.values()
            )
            ready: list[Msg] = []
            due: dict[float, list[int]] = {}
            expiring: dict[float, list[int]] = {}
            for seq, msg in q.messages.items():
                if msg.state == READY and msg.copies is None:
                    ready.append(msg)  # the common case, counted and offered in bulk below
                    if msg.expires_at:
                        expiring.setdefault(msg.expires_at, []).append(seq)
                    continue
                for unit in msg.copies if msg.copies is not None else (msg,):
                    if unit.state == DELAYED and unit.due <= now:
                        unit.state = READY
                    q.add_unit(unit)
                    if unit.state == READY:
                        q.offer(unit)
                    elif unit.state == DELAYED:
                        due.setdefault(unit.due, []).append(seq << 16 | unit.index)
                    elif unit.state == IN_FLIGHT:
                        cut_short.append((q, unit))
                if isinstance(msg, FanoutMsg):
                    msg.recount()
                    lifecycle.decide(msg)
                if msg.expires_at:
                    expiring.setdefault(msg.expires_at, []).append(seq)
            q.add_ready(ready)
            q.paused = name in self.paused
            for key, reason in self.nack_reasons.get(name, {}).items():
                held = unit_at(q, key)
                if held is not None and held.state != DONE:
                    q.nack_reasons[key] = reason
            log = self.retained.get(name)
            if log is not None:
                q.retained = log
                log.trim(config, now)
                retained.schedule(m, q)
            for at, keys in due.items():
                m.timers.schedule(at, partial(lifecycle.became_due, m, q, keys))
            for at, seqs in expiring.items():
                m.timers.schedule(at, partial(lifecycle.expire, m, q, seqs))
        for pattern, queue in sorted(self.bindings):
            if queue in m.queues:
                m.bindings.insert(pattern, queue)
        return cut_short


def _ascending(msgs: dict[int, Msg]) -> bool:
    previous = -1
    for seq in msgs:
        if seq < previous:
            return False
        previous = seq
    return True


def expire_leases(m: Machine, cut_short: list[tuple[QueueState, Unit]]) -> None:
    """Treats leases a stop cut short as expired, journaling what that changes."""
    now = m.clock()
    by_queue: dict[QueueState, list[Unit]] = {}
    for q, unit in cut_short:
        by_queue.setdefault(q, []).append(unit)
    for q, units in by_queue.items():
        requeued: list[Unit] = []
        finished: list[Unit] = []
        for unit in units:
            lifecycle.retry(m, q, unit, None, now, requeued=requeued, finished=finished)
        if requeued:
            m.journal.requeued(q, requeued)
        if finished:
            m.journal.finished(q, finished, MessageState.DEAD_LETTERED)
        lifecycle.schedule_due(m, q, requeued)
    m.notify()


def live_messages(m: Machine) -> int:
    return sum(len(q.messages) for q in m.queues.values())
