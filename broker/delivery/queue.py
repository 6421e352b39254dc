"""One queue's delivery engine: ready order per kind, leases, redelivery, TTL, dead letters.

A message has one *copy* (any subscription whose filter matches may take it: fire-and-forget,
at-least-once) or one copy per subscription matching at send time (broadcast, quorum). A copy
moves DELAYED → READY → IN_FLIGHT → DONE (or back to DELAYED/READY on nack or lease expiry).

Each subscription has a heap of READY copies it may take, ordered per queue kind (publish order;
priority then publish order). A shared copy is pushed onto the heap of every subscription whose
filter matches, and whichever takes it first wins; entries carry the copy's ``gen`` and are
skipped when stale, so nothing is ever removed from the middle of a heap or found by a scan.

FIFO queues keep a group (deque) per (subscription, ordering key): only a group's head is
offered, so the next message of a key waits until the one before it is done; different keys go
in parallel.

The engine is synchronous and runs on the broker's event loop; durability is the broker's job
(it writes to the store before calling in). It imports nothing from gRPC.
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from broker.delivery.backoff import retry_delay
from broker.delivery.consumer import Consumer
from broker.delivery.timers import Timers
from broker.errors import FailedPrecondition, ResourceExhausted
from broker.model import (
    Copy,
    CopyState,
    Guarantee,
    MessageState,
    Overflow,
    QueueConfig,
    QueueKind,
    StoredMessage,
)
from broker.routing import PatternTrie

REASON_MAX_DELIVERIES = "max deliveries exceeded"
REASON_EXPIRED = "expired"
REASON_NACKED = "nacked to dead letters"

_Entry = tuple[int, int, int, int, Copy]
"""(priority key, seq, push counter, gen, copy): the counter keeps copies from being compared."""


class EngineHooks(Protocol):
    """What an engine needs from the broker around it."""

    def new_ack_id(self, copy: Copy) -> str: ...
    def forget_ack_id(self, ack_id: str) -> None: ...
    def dead_letter(self, msg: StoredMessage, copy: Copy | None, reason: str) -> None: ...
    def changed(self, msg: StoredMessage) -> None: ...
    def finished(self, msg: StoredMessage) -> None: ...


@dataclass(eq=False)
class Subscription:
    name: str
    filter: str
    create_time: float
    ready: list[_Entry] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    in_flight: int = 0

    def matches_all(self) -> bool:
        return self.filter == "#"


@dataclass
class Counters:
    sent: int = 0
    delivered: int = 0
    acked: int = 0
    nacked: int = 0
    redelivered: int = 0
    dead_lettered: int = 0
    expired: int = 0
    dropped: int = 0
    duplicates: int = 0


class QueueEngine:
    """Holds one queue's messages and subscriptions and decides who gets what."""

    def __init__(self, config: QueueConfig, timers: Timers, hooks: EngineHooks) -> None:
        self.config = config
        self.timers = timers
        self.hooks = hooks
        self.messages: dict[str, StoredMessage] = {}
        """Live messages in publish order: the first is the oldest (for age and DROP_OLDEST)."""
        self.subs: dict[str, Subscription] = {}
        self._filters: PatternTrie[str] = PatternTrie()
        self._groups: dict[tuple[str | None, str], deque[Copy]] = {}
        self._dedup: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._push = itertools.count()
        self._last_seq = 0
        self.counts = {state: 0 for state in CopyState}
        self.counters = Counters()
        self.reserved = 0
        """Messages accepted but not yet committed (their store write is in progress)."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def clock(self) -> Callable[[], float]:
        return self.timers.clock

    # -- subscriptions -------------------------------------------------------------------

    def add_subscription(self, name: str, filter_: str, create_time: float) -> Subscription:
        sub = Subscription(name, filter_, create_time)
        self.subs[name] = sub
        self._filters.insert(filter_, name)
        # Shared copies that were waiting (perhaps for any subscription at all) become visible
        # to the new one; a one-off pass per subscription created, never per message.
        for msg in self.messages.values():
            for copy in msg.copies:
                if copy.sub is None and self._offerable(copy) and self._matches(sub, msg):
                    self._push_entry(sub, copy)
        return sub

    def remove_subscription(self, name: str) -> None:
        sub = self.subs.pop(name)
        self._filters.remove(sub.filter, name)
        for consumer in sub.consumers:
            consumer.closed = True
            consumer.wake.set()
        for msg in list(self.messages.values()):
            touched = False
            for copy in msg.copies:
                if copy.sub == name and copy.state is not CopyState.DONE:
                    self._finish_copy(copy, MessageState.CANCELLED)
                    touched = True
                elif copy.state is CopyState.IN_FLIGHT and copy.leased_to == name:
                    self._requeue(copy, delay=0.0)
            if touched:
                self._settle(msg, "subscription deleted")

    def matching_subscriptions(self, topic: str) -> list[str]:
        if not topic:
            return sorted(s.name for s in self.subs.values() if s.matches_all())
        return sorted(self._filters.match(topic))

    def _matches(self, sub: Subscription, msg: StoredMessage) -> bool:
        return sub.matches_all() or (bool(msg.topic) and sub.name in self._filters.match(msg.topic))

    # -- accepting messages --------------------------------------------------------------

    def dedup_lookup(self, dedup_id: str, now: float) -> str | None:
        while self._dedup:
            oldest, (_, until) = next(iter(self._dedup.items()))
            if until > now:
                break
            del self._dedup[oldest]
        hit = self._dedup.get(dedup_id)
        # Entries expire in insertion order only while the window is unchanged: check this one.
        return hit[0] if hit is not None and hit[1] > now else None

    def admit(self, msg: StoredMessage) -> None:
        """Checks depth, remembers the dedup id and reserves room, before the store write."""
        cfg = self.config
        if self.full() and (cfg.overflow is Overflow.REJECT_NEW or not self._drop_oldest()):
            raise ResourceExhausted(
                f"queue {self.name!r} is full ({cfg.max_depth} messages); consume or purge "
                "it, raise max_depth, or use overflow policy DROP_OLDEST"
            )
        if msg.dedup_id:
            self._dedup[msg.dedup_id] = (msg.id, self.clock() + cfg.dedup_window_s)
        self.reserved += 1

    def full(self) -> bool:
        """At max_depth, counting messages whose store write is in progress."""
        depth = self.config.max_depth
        return bool(depth) and len(self.messages) + self.reserved >= depth

    def abort(self, msg: StoredMessage) -> None:
        """Undoes ``admit`` when the store write failed."""
        self.reserved -= 1
        if msg.dedup_id and self._dedup.get(msg.dedup_id, ("",))[0] == msg.id:
            del self._dedup[msg.dedup_id]

    def next_seq(self) -> int:
        self._last_seq += 1
        return self._last_seq

    def commit(self, msg: StoredMessage) -> None:
        """Makes an admitted message live: indexes its copies and offers or schedules them."""
        self.reserved -= 1
        self.counters.sent += 1
        self.insert(msg)

    def insert(self, msg: StoredMessage) -> None:
        """Indexes a message (new, or recovered from the store) and schedules its timers.

        A recovered copy that was leased when the server stopped comes in IN_FLIGHT: its lease
        is treated as expired (the attempt stays counted), exactly as if its timer had fired.
        """
        self.messages[msg.id] = msg
        now = self.clock()
        if msg.seq >= self._last_seq:
            self._last_seq = msg.seq
        if msg.dedup_id and msg.publish_time + self.config.dedup_window_s > now:
            self._dedup[msg.dedup_id] = (msg.id, msg.publish_time + self.config.dedup_window_s)
        if msg.expires_at:
            msg.expiry = self.timers.schedule(msg.expires_at, lambda: self._expire(msg))
        expired_leases = []
        for copy in msg.copies:
            self.counts[copy.state] += 1
            if copy.state is CopyState.DONE:
                continue
            if copy.state is CopyState.IN_FLIGHT:
                expired_leases.append(copy)
                copy.state = CopyState.DELAYED
                self.counts[CopyState.IN_FLIGHT] -= 1
                self.counts[CopyState.DELAYED] += 1
            if self.config.kind is QueueKind.FIFO:
                self._groups.setdefault((copy.sub, msg.ordering_key), deque()).append(copy)
            if copy in expired_leases:
                max_deliveries = self.config.max_deliveries
                if max_deliveries and copy.attempts >= max_deliveries:
                    self._dead_letter(copy, REASON_MAX_DELIVERIES)
                    continue
                delay = retry_delay(self.config.backoff, copy.attempts)
                copy.visible_at = max(copy.visible_at, now + delay)
            if copy.visible_at > now:
                self._set(copy, CopyState.DELAYED)
                self._schedule_visible(copy)
            else:
                self._set(copy, CopyState.READY)
                self._offer(copy)
        if all(c.state is CopyState.DONE for c in msg.copies):
            self._settle(msg, msg.reason)

    def _drop_oldest(self) -> bool:
        for msg in self.messages.values():
            if not any(c.state is CopyState.IN_FLIGHT for c in msg.copies):
                self.counters.dropped += 1
                self.end(msg, MessageState.DROPPED, "dropped: queue full (DROP_OLDEST)")
                return True
        return False

    # -- ready order -------------------------------------------------------------------

    def _key(self, copy: Copy) -> int:
        return -copy.msg.priority if self.config.kind is QueueKind.PRIORITY else 0

    def _push_entry(self, sub: Subscription, copy: Copy) -> None:
        entry = (self._key(copy), copy.msg.seq, next(self._push), copy.gen, copy)
        heapq.heappush(sub.ready, entry)
        for consumer in sub.consumers:
            consumer.wake.set()

    def _is_head(self, copy: Copy) -> bool:
        group = self._groups.get((copy.sub, copy.msg.ordering_key))
        return bool(group) and group[0] is copy  # type: ignore[index]

    def _offerable(self, copy: Copy) -> bool:
        """READY, and in a FIFO queue the head of its group."""
        if copy.state is not CopyState.READY:
            return False
        return self.config.kind is not QueueKind.FIFO or self._is_head(copy)

    def _offer(self, copy: Copy) -> None:
        if not self._offerable(copy):
            return
        if copy.sub is not None:
            sub = self.subs.get(copy.sub)
            if sub is not None:
                self._push_entry(sub, copy)
            return
        for name in self.matching_subscriptions(copy.msg.topic):
            self._push_entry(self.subs[name], copy)

    def _valid(self, entry: _Entry) -> bool:
        copy = entry[4]
        return copy.gen == entry[3] and copy.state is CopyState.READY

    def take(self, sub: Subscription, consumer: Consumer, limit: int) -> list[Copy]:
        """Leases up to ``limit`` ready copies to ``consumer`` within its flow-control window."""
        taken: list[Copy] = []
        heap = sub.ready
        while heap and len(taken) < limit:
            entry = heap[0]
            if not self._valid(entry):
                heapq.heappop(heap)
                continue
            copy = entry[4]
            if not consumer.can_take(copy.msg.size):
                break
            heapq.heappop(heap)
            self._lease(copy, sub, consumer)
            taken.append(copy)
        return taken

    # -- leases --------------------------------------------------------------------------

    def _lease(self, copy: Copy, sub: Subscription, consumer: Consumer) -> None:
        now = self.clock()
        self._set(copy, CopyState.IN_FLIGHT)
        copy.attempts += 1
        copy.leased_to = sub.name
        copy.lease_deadline = now + consumer.lease_s
        copy.ack_id = self.hooks.new_ack_id(copy)
        consumer.taken(copy)
        copy.consumer = consumer if consumer.holds_credit else None
        sub.in_flight += 1
        self.counters.delivered += 1
        if copy.attempts > 1:
            self.counters.redelivered += 1
        self._schedule_lease(copy)
        msg = copy.msg
        if msg.guarantee is Guarantee.FIRE_AND_FORGET and not msg.state.final:
            msg.state = MessageState.DELIVERED  # handed out is done: never redelivered
            msg.acked_by.append(sub.name)
        msg.update_time = now
        self.hooks.changed(msg)

    def _schedule_lease(self, copy: Copy) -> None:
        gen = copy.gen
        self._set_timer(copy, copy.lease_deadline, lambda: self._lease_expired(copy, gen))

    def _lease_expired(self, copy: Copy, gen: int) -> None:
        if copy.gen == gen and copy.state is CopyState.IN_FLIGHT:
            self._retry(copy, delay=None)

    def _release(self, copy: Copy) -> None:
        """Ends the current attempt: ack id invalid, consumer credit and in-flight count back.

        Idempotent (an attempt holds a lease exactly while it has an ack id), so the paths that
        end a copy may all call it.
        """
        if not copy.ack_id:
            return
        self.hooks.forget_ack_id(copy.ack_id)
        copy.ack_id = ""
        sub = self.subs.get(copy.leased_to)
        if sub is not None:
            sub.in_flight -= 1
        if copy.consumer is not None:
            copy.consumer.released(copy)
            copy.consumer = None

    def ack(self, copy: Copy) -> None:
        self._release(copy)
        self.counters.acked += 1
        msg = copy.msg
        if copy.msg.guarantee is not Guarantee.FIRE_AND_FORGET:
            msg.acked_by.append(copy.leased_to)
        self._finish_copy(copy, MessageState.DELIVERED)
        self._settle(msg, "")

    def nack(self, copy: Copy, delay: float | None, dead_letter: bool, reason: str) -> None:
        self.counters.nacked += 1
        if dead_letter:
            self._release(copy)
            self._dead_letter(copy, reason or REASON_NACKED)
        else:
            self._retry(copy, delay)

    def modify_lease(self, copy: Copy, lease_s: float) -> None:
        if lease_s == 0:
            self._retry(copy, delay=0.0)
            return
        copy.lease_deadline = self.clock() + lease_s
        self._schedule_lease(copy)  # replaces (cancels) the timer of the old deadline

    def release_consumer(self, consumer: Consumer) -> None:
        """A stream closed: its unacked deliveries go straight back, attempts already counted."""
        consumer.closed = True
        for sub in self.subs.values():
            if consumer in sub.consumers:
                sub.consumers.remove(consumer)
        for copy in list(consumer.leased):
            if copy.state is CopyState.IN_FLIGHT:
                self._retry(copy, delay=0.0, failed=False)

    def _retry(self, copy: Copy, delay: float | None, failed: bool = True) -> None:
        """After a nack, lease expiry or disconnect: redeliver later, or dead-letter."""
        self._release(copy)
        msg = copy.msg
        if msg.guarantee is Guarantee.FIRE_AND_FORGET:
            self._finish_copy(copy, MessageState.DELIVERED)
            self._settle(msg, "")
            return
        max_deliveries = self.config.max_deliveries
        if failed and max_deliveries and copy.attempts >= max_deliveries:
            self._dead_letter(copy, REASON_MAX_DELIVERIES)
            return
        if delay is None:
            delay = retry_delay(self.config.backoff, copy.attempts)
        self._requeue(copy, delay)

    def _requeue(self, copy: Copy, delay: float) -> None:
        self._release(copy)
        copy.visible_at = self.clock() + delay
        if delay > 0:
            self._set(copy, CopyState.DELAYED)
            self._schedule_visible(copy)
        else:
            self._set(copy, CopyState.READY)
            self._offer(copy)
        copy.msg.update_time = self.clock()
        self.hooks.changed(copy.msg)

    def _schedule_visible(self, copy: Copy) -> None:
        gen = copy.gen
        self._set_timer(copy, copy.visible_at, lambda: self._became_visible(copy, gen))

    def _set_timer(self, copy: Copy, when: float, callback: Callable[[], None]) -> None:
        if copy.timer is not None:
            copy.timer.cancel()
        copy.timer = self.timers.schedule(when, callback)

    def _became_visible(self, copy: Copy, gen: int) -> None:
        if copy.gen == gen and copy.state is CopyState.DELAYED:
            self._set(copy, CopyState.READY)
            self._offer(copy)

    # -- endings -------------------------------------------------------------------------

    def _set(self, copy: Copy, state: CopyState) -> None:
        self.counts[copy.state] -= 1
        self.counts[state] += 1
        copy.state = state
        copy.gen += 1
        if copy.timer is not None:  # it was for the state being left
            copy.timer.cancel()
            copy.timer = None

    def _finish_copy(self, copy: Copy, final: MessageState) -> None:
        self._release(copy)
        self._set(copy, CopyState.DONE)
        copy.final = final
        if self.config.kind is QueueKind.FIFO:
            self._advance_group(copy)

    def _advance_group(self, copy: Copy) -> None:
        key = (copy.sub, copy.msg.ordering_key)
        group = self._groups.get(key)
        if not group:
            return
        while group and group[0].state is CopyState.DONE:
            group.popleft()
        if not group:
            del self._groups[key]
        elif group[0].state is CopyState.READY:
            self._offer(group[0])

    def _dead_letter(self, copy: Copy, reason: str) -> None:
        self.counters.dead_lettered += 1
        self._finish_copy(copy, MessageState.DEAD_LETTERED)
        self.hooks.dead_letter(copy.msg, copy, reason)
        self._settle(copy.msg, reason)

    def _expire(self, msg: StoredMessage) -> None:
        if self.messages.get(msg.id) is not msg:
            return
        self.counters.expired += 1
        self.hooks.dead_letter(msg, None, REASON_EXPIRED)
        self.end(msg, MessageState.EXPIRED, REASON_EXPIRED)

    def cancel(self, msg: StoredMessage, reason: str = "cancelled") -> None:
        if any(c.state is CopyState.IN_FLIGHT for c in msg.copies):
            raise FailedPrecondition(
                f"message {msg.id} is in flight; it can be cancelled once its lease ends or it is "
                "nacked"
            )
        self.end(msg, MessageState.CANCELLED, reason)

    def purge(self) -> int:
        purged = 0
        for msg in list(self.messages.values()):
            if not any(c.state is CopyState.IN_FLIGHT for c in msg.copies):
                self.end(msg, MessageState.CANCELLED, "purged")
                purged += 1
        return purged

    def discard_all(self, reason: str) -> int:
        """Ends every message, in flight or not (the queue is being deleted)."""
        messages = list(self.messages.values())
        for msg in messages:
            self.end(msg, MessageState.CANCELLED, reason)
        return len(messages)

    def end(self, msg: StoredMessage, state: MessageState, reason: str) -> None:
        """Ends every open copy of a message with ``state`` (expiry, cancel, purge, drop,
        redrive), releasing any lease."""
        for copy in msg.copies:
            if copy.state is not CopyState.DONE:
                self._finish_copy(copy, state)
        if not msg.state.final:
            msg.state, msg.reason = state, reason
        self._settle(msg, reason)

    def _settle(self, msg: StoredMessage, reason: str) -> None:
        """Decides the message's overall state from its copies; forgets it once all are done."""
        if not msg.state.final:
            copies = msg.copies
            needed = msg.required_acks or len(copies)
            acked = sum(1 for c in copies if c.final is MessageState.DELIVERED)
            still_possible = sum(1 for c in copies if c.state is not CopyState.DONE)
            if acked >= needed:
                msg.state = MessageState.DELIVERED
            elif acked + still_possible < needed:
                failed = next(
                    (c.final for c in copies if c.final not in (None, MessageState.DELIVERED)),
                    MessageState.DEAD_LETTERED,
                )
                msg.state, msg.reason = failed or MessageState.DEAD_LETTERED, reason
        msg.update_time = self.clock()
        done = all(c.state is CopyState.DONE for c in msg.copies)
        if done and self.messages.pop(msg.id, None) is not None:
            if msg.expiry is not None:
                msg.expiry.cancel()
                msg.expiry = None
            self.hooks.finished(msg)
        self.hooks.changed(msg)

    # -- reading -------------------------------------------------------------------------

    def oldest_publish_time(self) -> float | None:
        for msg in self.messages.values():
            return msg.publish_time
        return None

    def in_delivery_order(self) -> Iterator[StoredMessage]:
        if self.config.kind is QueueKind.PRIORITY:
            yield from sorted(self.messages.values(), key=lambda m: (-m.priority, m.seq))
        else:
            yield from self.messages.values()

    def close(self) -> None:
        for sub in self.subs.values():
            for consumer in sub.consumers:
                consumer.closed = True
                consumer.wake.set()
