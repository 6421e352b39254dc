"""The broker: queues, bindings, subscriptions, the ack table, message status — no gRPC here.

The service layer calls in with plain Python values and gets plain values or ``BrokerError``s
back. State changes are made in memory, then written through the ``Store`` before the caller is
answered: new messages before they become visible, everything else (acks, attempts, endings,
dead-letter moves) as a batch of dirty messages flushed once per call (see ``flush``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from broker.delivery.consumer import Consumer
from broker.delivery.queue import QueueEngine, Subscription
from broker.delivery.timers import Clock, Timers
from broker.errors import (
    AlreadyExists,
    BrokerError,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
)
from broker.model import (
    Copy,
    CopyState,
    DeadLetterInfo,
    Guarantee,
    MessageState,
    QueueConfig,
    StoredMessage,
    check_duration,
    check_name,
)
from broker.routing import PatternTrie, validate_pattern, validate_topic
from broker.status import MessageStatus, StatusBoard, live_state, status_of
from broker.store import Store
from broker.store.base import SubscriptionRecord

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 1000
"""Default max outstanding messages per stream, as Pub/Sub's StreamingPull."""
MAX_PULL = 1000


@dataclass
class MessageInput:
    """One message of a Send, as the caller gave it (``None`` means use the queue default)."""

    topic: str = ""
    payload: bytes = b""
    attributes: dict[str, str] = field(default_factory=dict)
    guarantee: Guarantee = Guarantee.AT_LEAST_ONCE
    required_acks: int = 0
    priority: int = 0
    ordering_key: str = ""
    dedup_id: str = ""
    delay_s: float | None = None
    ttl_s: float | None = None


@dataclass
class SendOutcome:
    message_id: str = ""
    duplicate: bool = False
    queues: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    error: BrokerError | None = None


@dataclass
class QueueStats:
    ready: int
    delayed: int
    in_flight: int
    depth: int
    oldest_age_s: float
    subscriptions: int
    sent: int
    delivered: int
    acked: int
    nacked: int
    redelivered: int
    dead_lettered: int
    expired: int
    dropped: int
    duplicates: int


class Broker:
    """Owns every queue engine and the state that spans queues."""

    def __init__(
        self, store: Store, *, clock: Clock = time.time, max_payload_bytes: int = 1024 * 1024
    ) -> None:
        self.store = store
        self.timers = Timers(clock)
        self.max_payload_bytes = max_payload_bytes
        self.queues: dict[str, QueueEngine] = {}
        self.bindings: PatternTrie[str] = PatternTrie()
        self._acks: dict[str, tuple[QueueEngine, Copy]] = {}
        self._boot = secrets.token_hex(3)
        self._ids = itertools.count(1)
        self.statuses = StatusBoard()
        self._dirty: dict[int, tuple[QueueEngine, StoredMessage]] = {}
        self._new: list[StoredMessage] = []
        self._flusher: asyncio.Task[None] | None = None
        self._flush_wake = asyncio.Event()

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        recovered = await self.store.recover()
        for config in recovered.queues:
            self.queues[config.name] = QueueEngine(config, self.timers, _Hooks(self, config.name))
        for pattern, queue in recovered.bindings:
            self.bindings.insert(pattern, queue)
        for rec in recovered.subscriptions:
            self.queues[rec.queue].add_subscription(rec.name, rec.filter, rec.create_time)
        for msg in recovered.messages:
            self.queues[msg.queue].insert(msg)
        self.timers.start()
        self._flusher = asyncio.get_running_loop().create_task(
            self._flush_loop(), name="conveyor-flusher"
        )

    async def stop(self) -> None:
        for engine in self.queues.values():
            engine.close()
        await self.timers.stop()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()
        await self.store.close()

    def _now(self) -> float:
        return self.timers.clock()

    # -- durability ----------------------------------------------------------------------

    def _mark(self, engine: QueueEngine, msg: StoredMessage) -> None:
        if msg.guarantee.stored:
            self._dirty[id(msg)] = (engine, msg)
            if not self._flush_wake.is_set():
                self._flush_wake.set()

    async def flush(self) -> None:
        """Writes every change made since the last flush as one batch."""
        if not (self._new or self._dirty):
            return
        new, self._new = self._new, []
        dirty, self._dirty = self._dirty, {}
        updated: list[StoredMessage] = []
        removed: list[tuple[str, str]] = []
        for engine, msg in dirty.values():
            if msg.id in engine.messages:
                updated.append(msg)
            else:
                removed.append((msg.queue, msg.id))
        await self.store.write_messages(new, updated, removed)

    async def _flush_loop(self) -> None:
        """Writes changes made by timers (lease expiry, TTL) that no caller is waiting on."""
        while True:
            await self._flush_wake.wait()
            self._flush_wake.clear()
            try:
                await self.flush()
            except BrokerError:
                log.exception("background flush failed")

    # -- ids and the ack table -----------------------------------------------------------

    def _new_id(self) -> str:
        return f"{int(self._now() * 1000):011x}-{self._boot}-{next(self._ids):x}"

    def new_ack_id(self, engine: QueueEngine, copy: Copy) -> str:
        ack_id = f"{self._boot}{next(self._ids):x}"
        self._acks[ack_id] = (engine, copy)
        return ack_id

    def forget_ack_id(self, ack_id: str) -> None:
        self._acks.pop(ack_id, None)

    def _leased(self, ack_ids: Sequence[str]) -> tuple[list[tuple[QueueEngine, Copy]], list[str]]:
        found, failed = [], []
        for ack_id in ack_ids:
            hit = self._acks.get(ack_id)
            if hit is None or hit[1].state is not CopyState.IN_FLIGHT or hit[1].ack_id != ack_id:
                failed.append(ack_id)
            else:
                found.append(hit)
        return found, failed

    # -- queues --------------------------------------------------------------------------

    def engine(self, name: str) -> QueueEngine:
        engine = self.queues.get(name)
        if engine is None:
            check_name("queue", name)
            raise NotFound(f"queue {name[:255]!r} does not exist; create it first")
        return engine

    def _check_dead_letter_target(self, config: QueueConfig) -> None:
        dlq = config.dead_letter_queue
        if dlq and dlq not in self.queues:
            raise FailedPrecondition(
                f"dead-letter queue {dlq!r} of queue {config.name!r} does not exist; "
                "create it first"
            )

    async def create_queue(self, config: QueueConfig) -> QueueConfig:
        config = config.replace(create_time=self._now()).validate(self.max_payload_bytes)
        if config.name in self.queues:
            raise AlreadyExists(f"queue {config.name!r} already exists")
        self._check_dead_letter_target(config)
        await self.store.save_queue(config)
        self.queues[config.name] = QueueEngine(config, self.timers, _Hooks(self, config.name))
        return config

    async def update_queue(self, name: str, changes: dict[str, object]) -> QueueConfig:
        engine = self.engine(name)
        if "kind" in changes and changes["kind"] != engine.config.kind and engine.messages:
            raise FailedPrecondition(
                f"queue {name!r} holds messages; its kind can only change while it is empty"
            )
        config = engine.config.replace(**changes).validate(self.max_payload_bytes)
        self._check_dead_letter_target(config)
        await self.store.save_queue(config)
        engine.config = config
        return config

    async def delete_queue(self, name: str) -> int:
        engine = self.engine(name)
        users = sorted(q for q, e in self.queues.items() if e.config.dead_letter_queue == name)
        if users:
            raise FailedPrecondition(
                f"queue {name!r} is the dead-letter queue of {users}; change their "
                "dead_letter_queue first"
            )
        await self.store.delete_queue(name)
        count = engine.discard_all("queue deleted")
        engine.close()
        for pattern, queue in list(self.bindings.patterns()):
            if queue == name:
                self.bindings.remove(pattern, queue)
        del self.queues[name]
        return count

    async def purge_queue(self, name: str) -> int:
        purged = self.engine(name).purge()
        await self.flush()
        return purged

    # -- bindings and subscriptions ----------------------------------------------------------

    async def create_binding(self, pattern: str, queue: str) -> None:
        validate_pattern(pattern)
        self.engine(queue)
        if (pattern, queue) in set(self.bindings.patterns()):
            raise AlreadyExists(f"binding {pattern!r} -> {queue!r} already exists")
        await self.store.save_binding(pattern, queue)
        self.bindings.insert(pattern, queue)

    async def delete_binding(self, pattern: str, queue: str) -> None:
        validate_pattern(pattern)
        if (pattern, queue) not in set(self.bindings.patterns()):
            raise NotFound(f"binding {pattern!r} -> {queue!r} does not exist")
        await self.store.delete_binding(pattern, queue)
        self.bindings.remove(pattern, queue)

    def list_bindings(self, queue: str = "") -> list[tuple[str, str]]:
        return sorted((p, q) for p, q in self.bindings.patterns() if not queue or q == queue)

    async def subscription(self, queue: str, name: str, filter_: str) -> Subscription:
        """Returns a subscription, creating (and storing) it on first use."""
        engine = self.engine(queue)
        check_name("subscription", name)
        sub = engine.subs.get(name)
        if sub is not None:
            if filter_ and filter_ != sub.filter:
                raise FailedPrecondition(
                    f"subscription {name!r} exists with filter {sub.filter!r}, not {filter_!r}; "
                    "use a new subscription name or delete this one"
                )
            return sub
        filter_ = filter_ or "#"
        validate_pattern(filter_)
        now = self._now()
        await self.store.save_subscription(SubscriptionRecord(queue, name, filter_, now))
        if name in engine.subs:  # created by a concurrent call while we awaited the store
            return engine.subs[name]
        return engine.add_subscription(name, filter_, now)

    async def delete_subscription(self, queue: str, name: str) -> None:
        engine = self.engine(queue)
        if name not in engine.subs:
            raise NotFound(f"subscription {name!r} of queue {queue!r} does not exist")
        await self.store.delete_subscription(queue, name)
        engine.remove_subscription(name)
        await self.flush()

    # -- sending -------------------------------------------------------------------------

    async def send(
        self,
        queue: str,
        inputs: Sequence[MessageInput],
        *,
        wait_delivered: bool = False,
        timeout_s: float = 30.0,
    ) -> list[SendOutcome]:
        """Stores a batch; each message succeeds or fails alone."""
        outcomes = [SendOutcome() for _ in inputs]
        admitted: list[tuple[int, QueueEngine, StoredMessage]] = []
        waits: dict[int, asyncio.Future[MessageStatus]] = {}
        for i, item in enumerate(inputs):
            try:
                targets = [self.engine(queue)] if queue else self._route(item.topic)
                for engine in targets:
                    msg, dup_of = self._prepare(engine, item)
                    outcome = outcomes[i]
                    outcome.queues.append(engine.name)
                    if dup_of is not None:
                        engine.counters.duplicates += 1
                        outcome.duplicate = True
                        outcome.message_ids.append(dup_of)
                        continue
                    assert msg is not None
                    engine.admit(msg)
                    admitted.append((i, engine, msg))
                    outcome.message_ids.append(msg.id)
            except BrokerError as exc:
                outcomes[i] = SendOutcome(error=exc)
        stored = [m for i, _, m in admitted if m.guarantee.stored and outcomes[i].error is None]
        try:
            if stored:
                await self.store.write_messages(stored, (), ())
        except BrokerError:
            for _, engine, msg in admitted:
                engine.abort(msg)
            raise
        for i, engine, msg in admitted:
            if outcomes[i].error is not None:
                engine.abort(msg)
                continue
            if wait_delivered:
                waits[i] = self.statuses.expect((engine.name, msg.id))
            engine.commit(msg)
        for outcome in outcomes:
            if outcome.error is None:
                outcome.message_id = outcome.message_ids[0] if outcome.message_ids else ""
        if waits:
            await self._wait_delivered(outcomes, admitted, waits, timeout_s)
        return outcomes

    def _route(self, topic: str) -> list[QueueEngine]:
        if not topic:
            raise InvalidArgument("message has no topic and the request names no queue")
        names = self.bindings.match(topic)
        if not names:
            raise FailedPrecondition(
                f"no binding matches topic {topic!r}; bind a pattern to a queue or send to a "
                "queue by name"
            )
        return [self.queues[n] for n in sorted(names) if n in self.queues]

    def _prepare(
        self, engine: QueueEngine, item: MessageInput
    ) -> tuple[StoredMessage | None, str | None]:
        cfg = engine.config
        if item.topic:
            validate_topic(item.topic)
        limit = cfg.max_payload_bytes or self.max_payload_bytes
        if len(item.payload) > limit:
            raise ResourceExhausted(
                f"payload of {len(item.payload)} bytes exceeds the limit of {limit} bytes for "
                f"queue {engine.name!r}"
            )
        now = self._now()
        if item.dedup_id:
            first = engine.dedup_lookup(item.dedup_id, now)
            if first is not None:
                return None, first
        delay = cfg.default_delay_s if item.delay_s is None else item.delay_s
        ttl = cfg.message_ttl_s if item.ttl_s is None else item.ttl_s
        check_duration("delay", delay)
        check_duration("ttl", ttl)
        guarantee = item.guarantee
        msg = StoredMessage(
            id=self._new_id(),
            queue=engine.name,
            topic=item.topic,
            payload=item.payload,
            attributes=dict(item.attributes),
            guarantee=guarantee,
            required_acks=0,
            priority=item.priority,
            ordering_key=item.ordering_key,
            dedup_id=item.dedup_id,
            publish_time=now,
            seq=engine.next_seq(),
            deliver_at=now + delay,
            expires_at=now + ttl if ttl else 0.0,
            update_time=now,
        )
        if guarantee.fans_out:
            subs = engine.matching_subscriptions(item.topic)
            if guarantee is Guarantee.QUORUM:
                if item.required_acks < 1:
                    raise InvalidArgument("a QUORUM message needs required_acks of 1 or more")
                if len(subs) < item.required_acks:
                    raise FailedPrecondition(
                        f"quorum of {item.required_acks} needs that many subscriptions matching "
                        f"topic {item.topic!r} on queue {engine.name!r}; {len(subs)} match"
                    )
                msg.required_acks = item.required_acks
            elif not subs:
                raise FailedPrecondition(
                    f"no subscription of queue {engine.name!r} matches topic {item.topic!r}; a "
                    "broadcast needs at least one"
                )
            else:
                msg.required_acks = len(subs)
            msg.copies = [Copy(msg, s, visible_at=msg.deliver_at) for s in subs]
        else:
            msg.required_acks = 1
            msg.copies = [Copy(msg, None, visible_at=msg.deliver_at)]
        return msg, None

    async def _wait_delivered(
        self,
        outcomes: list[SendOutcome],
        admitted: list[tuple[int, QueueEngine, StoredMessage]],
        waits: dict[int, asyncio.Future[MessageStatus]],
        timeout_s: float,
    ) -> None:
        await asyncio.wait(list(waits.values()), timeout=timeout_s)
        messages = {i: m for i, _, m in admitted}
        for i, fut in waits.items():
            msg = messages[i]
            self.statuses.stop_expecting((msg.queue, msg.id))
            if not fut.done():
                fut.cancel()
                outcomes[i].error = DeadlineExceeded(
                    f"message {msg.id} was stored but not delivered within {timeout_s}s"
                )
            elif fut.result().state is not MessageState.DELIVERED:
                status = fut.result()
                outcomes[i].error = FailedPrecondition(
                    f"message {msg.id} was stored but ended {status.state.name}: {status.reason}"
                )

    # -- dead letters --------------------------------------------------------------------

    def dead_letter(
        self, source: QueueEngine, msg: StoredMessage, copy: Copy | None, reason: str
    ) -> None:
        dlq = self.queues.get(source.config.dead_letter_queue)
        if dlq is None:
            return  # no dead-letter queue: dropped, counted in the source's stats
        attempts = copy.attempts if copy else sum(c.attempts for c in msg.copies)
        now = self._now()
        info = DeadLetterInfo(
            source_queue=msg.queue,
            reason=reason,
            attempts=attempts,
            time=now,
            subscription=copy.sub or "" if copy else "",
            source_message_id=msg.id,
            guarantee=msg.guarantee,
        )
        self._copy_into(dlq, msg, info, None)

    def _copy_into(
        self, target: QueueEngine, msg: StoredMessage, info: DeadLetterInfo | None, sub: str | None
    ) -> StoredMessage:
        now = self._now()
        new = StoredMessage(
            id=self._new_id(),
            queue=target.name,
            topic=msg.topic,
            payload=msg.payload,
            attributes=dict(msg.attributes),
            guarantee=Guarantee.AT_LEAST_ONCE if msg.guarantee.stored else msg.guarantee,
            required_acks=1,
            priority=msg.priority,
            ordering_key=msg.ordering_key,
            dedup_id="",
            publish_time=now,
            seq=target.next_seq(),
            deliver_at=now,
            expires_at=0.0,
            dead_letter=info,
            update_time=now,
        )
        new.copies = [Copy(new, sub, visible_at=now)]
        target.counters.sent += 1
        self._new.append(new)
        target.insert(new)
        self._flush_wake.set()
        return new

    def list_dead_letters(self, queue: str, limit: int) -> list[StoredMessage]:
        engine = self.engine(queue)
        return list(itertools.islice((m for m in engine.messages.values() if m.dead_letter), limit))

    async def redrive(self, queue: str, destination: str, limit: int) -> tuple[int, int]:
        engine = self.engine(queue)
        if destination:
            self.engine(destination)
        moved = skipped = 0
        for msg in list(engine.messages.values()):
            if limit and moved >= limit:
                break
            info = msg.dead_letter
            target_name = destination or (info.source_queue if info else "")
            target = self.queues.get(target_name)
            if (
                info is None
                or target is None
                or target is engine
                or target.full()
                or any(c.state is CopyState.IN_FLIGHT for c in msg.copies)
            ):
                skipped += 1
                continue
            sub = (
                info.subscription if not destination and info.subscription in target.subs else None
            )
            self._copy_into(target, msg, None, sub)
            engine.end(msg, MessageState.DELIVERED, "redriven")
            moved += 1
        await self.flush()
        return moved, skipped

    # -- consuming -----------------------------------------------------------------------

    async def open_consumer(
        self,
        queue: str,
        subscription: str,
        filter_: str,
        max_messages: int,
        max_bytes: int,
        lease_s: float | None,
    ) -> tuple[QueueEngine, Subscription, Consumer]:
        engine = self.engine(queue)
        sub = await self.subscription(queue, subscription, filter_)
        lease = engine.config.lease_s if not lease_s else check_duration("lease", lease_s)
        consumer = Consumer(sub.name, max_messages or DEFAULT_WINDOW, max_bytes, lease)
        sub.consumers.append(consumer)
        consumer.wake.set()
        return engine, sub, consumer

    def close_consumer(self, engine: QueueEngine, consumer: Consumer) -> None:
        engine.release_consumer(consumer)

    async def pull(
        self,
        queue: str,
        subscription: str,
        filter_: str,
        max_messages: int,
        wait_s: float,
        lease_s: float | None,
    ) -> list[Copy]:
        if max_messages > MAX_PULL:
            raise InvalidArgument(f"max_messages {max_messages} is above the limit of {MAX_PULL}")
        engine = self.engine(queue)
        sub = await self.subscription(queue, subscription, filter_)
        lease = engine.config.lease_s if not lease_s else check_duration("lease", lease_s)
        consumer = Consumer(sub.name, max_messages or 1, 0, lease, holds_credit=False)
        deadline = self._now() + check_duration("wait", wait_s)
        sub.consumers.append(consumer)
        try:
            while True:
                consumer.wake.clear()
                taken = engine.take(sub, consumer, consumer.max_messages)
                remaining = deadline - self._now()
                if taken or remaining <= 0 or consumer.closed:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(consumer.wake.wait(), remaining)
        finally:
            if consumer in sub.consumers:
                sub.consumers.remove(consumer)
        await self.flush()
        return taken

    async def ack(self, ack_ids: Sequence[str]) -> list[str]:
        found, failed = self._leased(ack_ids)
        for engine, copy in found:
            engine.ack(copy)
        await self.flush()
        return failed

    async def nack(
        self, ack_ids: Sequence[str], delay_s: float | None, dead_letter: bool, reason: str
    ) -> list[str]:
        if delay_s is not None:
            check_duration("delay", delay_s)
        found, failed = self._leased(ack_ids)
        for engine, copy in found:
            engine.nack(copy, delay_s, dead_letter, reason)
        await self.flush()
        return failed

    async def modify_lease(self, ack_ids: Sequence[str], lease_s: float) -> list[str]:
        check_duration("lease", lease_s)
        found, failed = self._leased(ack_ids)
        for engine, copy in found:
            engine.modify_lease(copy, lease_s)
        await self.flush()
        return failed

    # -- message status ------------------------------------------------------------------

    def status(self, queue: str, message_id: str) -> MessageStatus:
        engine = self.engine(queue)
        msg = engine.messages.get(message_id)
        if msg is not None:
            return status_of(msg)
        done = self.statuses.finished_status((queue, message_id))
        if done is None:
            raise NotFound(f"message {message_id!r} is not in queue {queue!r} (or is long gone)")
        return done

    def watch(self, queue: str, message_id: str) -> AsyncGenerator[MessageStatus, None]:
        return self.statuses.watch(self.status(queue, message_id))

    async def cancel(self, queue: str, message_id: str) -> MessageStatus:
        engine = self.engine(queue)
        msg = engine.messages.get(message_id)
        if msg is None:
            raise NotFound(f"message {message_id!r} is not pending in queue {queue!r}")
        engine.cancel(msg)
        await self.flush()
        return self.status(queue, message_id)

    def changed(self, engine: QueueEngine, msg: StoredMessage) -> None:
        self._mark(engine, msg)
        self.statuses.changed(msg)

    def finished(self, engine: QueueEngine, msg: StoredMessage) -> None:
        self.statuses.finished(msg)

    # -- reading -------------------------------------------------------------------------

    def stats(self, queue: str) -> QueueStats:
        engine = self.engine(queue)
        c = engine.counters
        oldest = engine.oldest_publish_time()
        return QueueStats(
            ready=engine.counts[CopyState.READY],
            delayed=engine.counts[CopyState.DELAYED],
            in_flight=engine.counts[CopyState.IN_FLIGHT],
            depth=len(engine.messages),
            oldest_age_s=max(0.0, self._now() - oldest) if oldest is not None else 0.0,
            subscriptions=len(engine.subs),
            sent=c.sent,
            delivered=c.delivered,
            acked=c.acked,
            nacked=c.nacked,
            redelivered=c.redelivered,
            dead_lettered=c.dead_lettered,
            expired=c.expired,
            dropped=c.dropped,
            duplicates=c.duplicates,
        )

    def peek(self, queue: str, limit: int) -> list[tuple[StoredMessage, MessageState, int, float]]:
        engine = self.engine(queue)
        now = self._now()
        out = []
        for msg in itertools.islice(engine.in_delivery_order(), limit):
            due = max(
                (c.visible_at for c in msg.copies if c.state is CopyState.DELAYED), default=now
            )
            out.append(
                (
                    msg,
                    live_state(msg),
                    sum(c.attempts for c in msg.copies),
                    max(0.0, due - now),
                )
            )
        return out


class _Hooks:
    """Connects one queue engine to its broker (see ``EngineHooks``)."""

    def __init__(self, broker: Broker, queue: str) -> None:
        self.broker = broker
        self.queue = queue

    def _engine(self) -> QueueEngine:
        return self.broker.queues[self.queue]

    def new_ack_id(self, copy: Copy) -> str:
        return self.broker.new_ack_id(self._engine(), copy)

    def forget_ack_id(self, ack_id: str) -> None:
        self.broker.forget_ack_id(ack_id)

    def dead_letter(self, msg: StoredMessage, copy: Copy | None, reason: str) -> None:
        self.broker.dead_letter(self._engine(), msg, copy, reason)

    def changed(self, msg: StoredMessage) -> None:
        self.broker.changed(self._engine(), msg)

    def finished(self, msg: StoredMessage) -> None:
        self.broker.finished(self._engine(), msg)
