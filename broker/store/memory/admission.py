"""Publish: routing, limits, dedup, depth admission, fan-out copies; then storing the batch.

Each message is checked against every queue it goes to before anything is stored for it, so
it fails or succeeds alone (an error is its outcome; the rest of the batch goes on). Depth is
admitted message by message: under REJECT_NEW a message that finds its queue full is refused;
under DROP_OLDEST the oldest message not in flight makes room, even one stored earlier in the
same batch, so a batch larger than the queue keeps its newest messages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache, partial

from broker import wire
from broker.errors import BrokerError, ResourceExhausted
from broker.model import Guarantee, MessageState, Overflow
from broker.routing import validate_topic
from broker.store import admission_rules as rules
from broker.store.base import NewMessage, Outcome, PublishResult
from broker.store.ids import message_id
from broker.store.memory import lifecycle, messages
from broker.store.memory.machine import Machine
from broker.store.memory.queue import MESSAGE_OVERHEAD, QueueState, footprint
from broker.store.memory.records import IN_FLIGHT, READY, Msg, Unit, units
from conveyor.v1 import types_pb2

REASON_DROPPED = "dropped: queue full (DROP_OLDEST)"

_checked_topic = lru_cache(maxsize=4096)(validate_topic)
"""Valid topics repeat: the regex runs once per distinct topic (errors are not cached)."""
_good_topics: dict[str, None] = {}
"""Topics that passed the general path, so the express path may skip the check; cleared
when it grows past ``_GOOD_TOPICS_MAX``."""
_GOOD_TOPICS_MAX = 4096
_ALO = int(Guarantee.AT_LEAST_ONCE)
_ID_PREFIX = [wire.M_ID + wire.varint(n) for n in range(64)]


class _Plan:
    """What storing one message in one queue needs, decided before anything is stored."""

    __slots__ = (
        "dedup_id",
        "delay",
        "duplicate",
        "extra",
        "q",
        "required",
        "subs",
        "ttl",
        "victim",
    )

    def __init__(self, q: QueueState) -> None:
        self.q = q
        self.dedup_id = ""
        self.duplicate: int | None = None
        self.victim: Msg | None = None
        self.subs: list[str] | None = None
        self.required = 1
        self.delay = 0.0
        self.ttl = 0.0
        self.extra = b""


class _Batch:
    """What one queue got from this publish, for the journal and the timers."""

    __slots__ = ("dedup", "delayed", "dropped", "expiring", "msgs")

    def __init__(self) -> None:
        self.msgs: list[Msg] = []
        self.dedup: list[tuple[str, int, float]] = []
        self.dropped: list[Unit] = []
        self.delayed: dict[float, list[int]] = {}
        self.expiring: dict[float, list[int]] = {}


class _Express:
    """The common case, kept cheap: an at-least-once message with no dedup id, delay or TTL,
    to a named queue with no default delay, TTL or depth limit. Such a message cannot fail
    but on its size or topic (checked here), and is stored with the fields every message of
    the batch shares encoded once. Its units are offered in bulk, before anything else of the
    batch is, so publish order holds."""

    __slots__ = ("done", "limit", "m", "now", "pending", "q", "tail", "usage")

    def __init__(self, m: Machine, q: QueueState, now: float, pt_field: bytes, done: _Batch):
        self.m = m
        self.q = q
        self.now = now
        self.done = done
        self.limit = q.config.max_payload_bytes or m.max_payload_bytes
        self.tail = b"".join(
            (
                wire.M_GUARANTEE,
                wire.varint(_ALO),
                wire.M_REQUIRED_ACKS,
                wire.varint(1),
                pt_field,
                q.queue_field,
            )
        )
        self.pending: list[Msg] = []
        self.usage = m.usage

    @staticmethod
    def usable(q: QueueState, watch: bool) -> bool:
        config = q.config
        return not (
            watch
            or config.default_delay_s
            or config.message_ttl_s
            or config.max_depth
            or config.dedup_by_content
        )

    def store(self, item: NewMessage) -> str | None:
        """The new message's id, or None when the message needs the general path."""
        if (
            item.guarantee != _ALO
            or item.dedup_id
            or item.delay_s is not None
            or item.ttl_s is not None
            or item.size > self.limit
            or (item.topic and item.topic not in _good_topics)
            or self.usage.stored + len(item.raw) + MESSAGE_OVERHEAD > self.usage.limit
        ):
            return None
        m = self.m
        seq = m.next_seq
        m.next_seq = seq + 1
        mid = f"{seq:x}"
        encoded = mid.encode()
        now = self.now
        data = b"".join((item.raw, _ID_PREFIX[len(encoded)], encoded, self.tail))
        self.usage.stored += len(data) + MESSAGE_OVERHEAD
        msg = Msg(
            seq,
            data,
            item.size,
            item.topic,
            now,
            READY,
            now,
            _ALO,
            item.priority,
            item.ordering_key,
            0.0,
        )
        self.q.messages[seq] = msg
        self.pending.append(msg)
        return mid

    def flush(self) -> None:
        pending = self.pending
        if pending:
            self.q.add_ready(pending)
            self.q.counters.sent += len(pending)
            self.done.msgs += pending
            self.pending = []


def publish(
    m: Machine, queue: str, batch: Sequence[NewMessage], watch: bool
) -> list[PublishResult]:
    named: QueueState | None = None
    if queue:
        try:
            named = m.queue(queue)
        except BrokerError as exc:
            return [Outcome(error=exc) for _ in batch]
    now = m.clock()
    pt_field = wire.publish_time_field(now)
    touched: dict[QueueState, _Batch] = {}
    results: list[PublishResult] = []
    board = m.board
    express = None
    if named is not None and _Express.usable(named, watch):
        express = _Express(m, named, now, pt_field, touched.setdefault(named, _Batch()))
    for item in batch:
        if express is not None:
            mid = express.store(item)
            if mid is not None:
                results.append(mid)
                continue
            express.flush()
        try:
            targets = (named,) if named is not None else _route(m, item.topic)
            plans = [_plan(m, q, item, now) for q in targets]
        except BrokerError as exc:
            # Without its traceback: that would hold this frame, and so ``results``, in a
            # cycle only the collector frees, and the collector freezes what it finds old
            # (broker.collector): a server refusing sends steadily would keep every refusal.
            results.append(Outcome(error=exc.with_traceback(None)))
            continue
        ids: list[str] = []
        duplicates: list[bool] = []
        for plan in plans:
            q = plan.q
            duplicates.append(plan.duplicate is not None)
            if plan.duplicate is not None:
                q.counters.duplicates += 1
                ids.append(message_id(plan.duplicate))
                continue
            done = touched.get(q)
            if done is None:
                done = touched[q] = _Batch()
            if plan.victim is not None:
                q.counters.dropped += 1
                done.dropped += lifecycle.end(
                    m, q, plan.victim, MessageState.DROPPED, REASON_DROPPED
                )
            seq = m.next_seq
            m.next_seq = seq + 1
            due = now + plan.delay
            expires = now + plan.ttl if plan.ttl else 0.0
            msg = messages.create(
                q,
                seq,
                item.raw,
                item.topic,
                item.size,
                item.guarantee,
                item.priority,
                item.ordering_key,
                now,
                pt_field,
                due,
                expires,
                plan.subs,
                plan.required,
                plan.extra,
            )
            q.counters.sent += 1
            done.msgs.append(msg)
            if plan.dedup_id:
                until = now + q.config.dedup_window_s
                q.dedup.remember(plan.dedup_id, seq, until)
                done.dedup.append((plan.dedup_id, seq, until))
            if due > now:
                done.delayed.setdefault(due, []).append(seq << 16)
            if expires:
                done.expiring.setdefault(expires, []).append(seq)
            if watch:
                board.watch(seq)
            ids.append(message_id(seq))
            if item.topic:
                _good_topics[item.topic] = None
        if len(ids) == 1 and not duplicates[0] and named is not None:
            results.append(ids[0])
        else:
            results.append(
                Outcome(
                    message_id=ids[0] if ids else "",
                    duplicate=any(duplicates),
                    queues=[p.q.name for p in plans],
                    message_ids=ids,
                    duplicates=duplicates,
                )
            )
    if express is not None:
        express.flush()
    for q, done in touched.items():
        m.journal.published(q, done.msgs, done.dedup)
        if done.dropped:
            m.journal.finished(q, done.dropped, MessageState.DROPPED)
        for due, keys in done.delayed.items():
            m.timers.schedule(due, partial(lifecycle.became_due, m, q, keys))
        for at, seqs in done.expiring.items():
            m.timers.schedule(at, partial(lifecycle.expire, m, q, seqs))
    m.notify()
    return results


def _route(m: Machine, topic: str) -> list[QueueState]:
    return [m.queues[n] for n in rules.routed(m.bindings.match, topic) if n in m.queues]


def _plan(m: Machine, q: QueueState, item: NewMessage, now: float) -> _Plan:
    config = q.config
    plan = _Plan(q)
    topic = item.topic
    if topic:
        _checked_topic(topic)
        if len(_good_topics) >= _GOOD_TOPICS_MAX:
            _good_topics.clear()
    rules.check_payload(item, config.max_payload_bytes or m.max_payload_bytes, q.name)
    dedup_id = item.dedup_id or (content_id(item) if config.dedup_by_content else "")
    if dedup_id:
        first = q.dedup.lookup(dedup_id, now)
        if first is not None:
            plan.duplicate = first
            return plan
        plan.dedup_id = dedup_id
    plan.delay, plan.ttl, plan.extra = rules.timing(config, item)
    if item.guarantee == Guarantee.BROADCAST or item.guarantee == Guarantee.QUORUM:
        subs = q.matching(topic)
        plan.required = rules.fanout_acks(item, subs, q.name)
        plan.subs = subs
    usage = m.usage
    if usage.stored + footprint(len(item.raw), len(plan.subs or ())) > usage.limit:
        raise ResourceExhausted(
            f"max_memory reached: stored messages take about {usage.stored} of the server's "
            f"{usage.limit} bytes; consume or purge messages, or raise max_memory"
        )
    if q.full():
        if config.overflow is Overflow.REJECT_NEW or (victim := _droppable(q)) is None:
            raise ResourceExhausted(
                f"queue {q.name!r} is full ({config.max_depth} messages); consume or purge "
                "it, raise max_depth, or use overflow policy DROP_OLDEST"
            )
        plan.victim = victim
    return plan


def content_id(item: NewMessage) -> str:
    """The dedup id of a message in a ``dedup_by_content`` queue that sets none: a SHA-256 of
    its topic, ordering key and payload (lengths first, so no two triples run together)."""
    payload = types_pb2.Message.FromString(item.raw).payload
    digest = hashlib.sha256()
    for part in (item.topic.encode(), item.ordering_key.encode()):
        digest.update(b"%d:" % len(part))
        digest.update(part)
    digest.update(payload)
    return "sha256:" + digest.hexdigest()


def _droppable(q: QueueState) -> Msg | None:
    """The oldest message with nothing in flight."""
    for msg in q.messages.values():
        if all(u.state != IN_FLIGHT for u in units(msg)):
            return msg
    return None
