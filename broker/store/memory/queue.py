"""One queue's indexes: its live messages, subscriptions, ready order and FIFO lanes.

Each subscription has its own ready structure of units it may claim, ordered per queue kind:
a deque in publish order for STANDARD (a unit that comes back goes to the front: it is the
oldest), a heap by (-priority, seq) for PRIORITY, a heap of lane heads by seq for FIFO. A
shared unit (one copy, any matching subscription may take it) is offered to every matching
subscription; whichever claims it first wins, and the other entries are skipped later because
the unit is no longer READY (lazy deletion: nothing is removed from the middle, nothing is
scanned).

FIFO queues keep a lane (deque) per (subscription, ordering key) - the subscription is None
for shared units: only a lane's head is ever offered, so the next message of a key waits until
the one before it is done; different keys proceed in parallel.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass

from broker.model import QueueConfig, QueueKind
from broker.routing import PatternTrie
from broker.store.memory.dedup import DedupWindow
from broker.store.memory.rates import RateRing
from broker.store.memory.records import DELAYED, DONE, IN_FLIGHT, READY, Msg, Unit
from broker.wire import queue_field

_MATCHING_CACHE = 4096
"""Topics whose matching subscriptions a queue remembers."""
_COMPACT_SLACK = 1024
"""Stale ready entries tolerated beyond twice the live messages before a rebuild."""


class _PublishOrder:
    """STANDARD queues: publish order; a unit that comes back goes to the front."""

    __slots__ = ("_q",)

    def __init__(self) -> None:
        self._q: deque[Unit] = deque()

    def push(self, unit: Unit) -> None:
        self._q.append(unit)

    def push_back(self, unit: Unit) -> None:
        self._q.appendleft(unit)

    def extend(self, units: list[Msg]) -> None:
        self._q.extend(units)

    def push_retry(self, unit: Unit) -> None:
        self._q.appendleft(unit)

    def pop(self) -> Unit | None:
        q = self._q
        while q:
            unit = q.popleft()
            if unit.state == READY:
                return unit
        return None

    def __len__(self) -> int:
        return len(self._q)

    def compact(self) -> None:
        seen: set[int] = set()
        live = []
        for unit in self._q:
            if unit.state == READY and id(unit) not in seen:
                seen.add(id(unit))
                live.append(unit)
        self._q = deque(live)


class _SortedOrder:
    """PRIORITY queues by (-priority, seq); FIFO queues, whose lane heads it holds, by seq.
    Entries ``(key, seq, counter, unit)``: the counter keeps units from being compared."""

    __slots__ = ("_by_priority", "_counter", "_h")

    def __init__(self, by_priority: bool) -> None:
        self._h: list[tuple[int, int, int, Unit]] = []
        self._counter = itertools.count()
        self._by_priority = by_priority

    def push(self, unit: Unit) -> None:
        msg = unit.msg
        key = -msg.priority if self._by_priority else 0
        heapq.heappush(self._h, (key, msg.seq, next(self._counter), unit))

    push_back = push
    push_retry = push
    """Position comes from (priority, seq), wherever the unit has been."""

    def pop(self) -> Unit | None:
        h = self._h
        while h:
            unit = heapq.heappop(h)[3]
            if unit.state == READY:
                return unit
        return None

    def __len__(self) -> int:
        return len(self._h)

    def compact(self) -> None:
        seen: set[int] = set()
        live = []
        for entry in self._h:
            unit = entry[3]
            if unit.state == READY and id(unit) not in seen:
                seen.add(id(unit))
                live.append(entry)
        heapq.heapify(live)
        self._h = live


def _lane_key(unit: Unit) -> tuple[str | None, str]:
    """FIFO lanes are per (subscription, ordering key); shared units have no subscription
    (``sub`` on a shared unit is only whom it was last leased to)."""
    msg = unit.msg
    return (unit.sub if msg.copies is not None else None, msg.key)


Ready = _PublishOrder | _SortedOrder
"""A subscription's ready units. ``pop`` returns the next READY unit (skipping stale entries);
``push_back`` returns one the caller took but could not use."""


def _ready_for(kind: QueueKind) -> Ready:
    if kind is QueueKind.STANDARD:
        return _PublishOrder()
    return _SortedOrder(by_priority=kind is QueueKind.PRIORITY)


class SubState:
    """A subscription: its filter, ready units and how many units it holds leased."""

    __slots__ = ("create_time", "filter", "in_flight", "matches_all", "name", "ready")

    def __init__(self, name: str, filter_: str, create_time: float, kind: QueueKind) -> None:
        self.name = name
        self.filter = filter_
        self.create_time = create_time
        self.matches_all = filter_ == "#"
        self.ready = _ready_for(kind)
        self.in_flight = 0


@dataclass
class Counters:
    """Since the server started (not durable)."""

    sent: int = 0
    delivered: int = 0
    acked: int = 0
    nacked: int = 0
    redelivered: int = 0
    dead_lettered: int = 0
    expired: int = 0
    dropped: int = 0
    duplicates: int = 0


class QueueState:
    """One queue. ``messages`` holds live messages in publish order: the first is the oldest
    (for its age and DROP_OLDEST). ``counts`` counts units per state (index = state)."""

    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self.name = config.name
        self.ack_prefix = config.name + ":"
        self.queue_field = queue_field(config.name)
        self.messages: dict[int, Msg] = {}
        self.subs: dict[str, SubState] = {}
        self.filters: PatternTrie[str] = PatternTrie()
        self.lanes: dict[tuple[str | None, str], deque[Unit]] = {}
        self.dedup = DedupWindow()
        self.counts = [0, 0, 0, 0, 0]
        self.counters = Counters()
        self.fifo = config.kind is QueueKind.FIFO
        self.signals: set[str] = set()
        """Subscriptions given new ready units since the store last told its listener."""
        self._matching: dict[str, list[str]] = {}
        self.signalled: set[QueueState] = set()
        """The machine's set of queues with signals (shared by every queue)."""
        self.paused = False
        """While True, claims hand out nothing (``leases.claim``); durable (its own record)."""
        self.nack_reasons: dict[int, str] = {}
        """Last nack reason per unit (``unit_key``), for the units nacked with one: shown on
        their dead letter. Empty for almost every queue, so checking it costs nothing."""
        self.rates = RateRing()

    def reconfigure(self, config: QueueConfig) -> None:
        kind_changed = config.kind is not self.config.kind
        self.config = config
        if kind_changed:  # only allowed while empty: fresh ready structures of the new kind
            self.fifo = config.kind is QueueKind.FIFO
            for sub in self.subs.values():
                sub.ready = _ready_for(config.kind)

    # -- subscriptions -------------------------------------------------------------------

    def add_subscription(self, name: str, filter_: str, create_time: float) -> SubState:
        sub = SubState(name, filter_, create_time, self.config.kind)
        self.subs[name] = sub
        self.filters.insert(filter_, name)
        self._matching.clear()
        # Shared units that were waiting (perhaps for any subscription at all) become visible
        # to the new one: a one-off pass per subscription created, never per message.
        for msg in self.messages.values():
            if msg.copies is None and self.offerable(msg) and self.sub_matches(sub, msg.topic):
                self._push(sub, msg)
        return sub

    def remove_subscription(self, name: str) -> SubState:
        sub = self.subs.pop(name)
        self.filters.remove(sub.filter, name)
        self._matching.clear()
        return sub

    def matching(self, topic: str) -> list[str]:
        """Subscriptions whose filter matches ``topic``, sorted (an empty topic matches
        only ``#``). Remembered per topic until the subscriptions change (do not mutate)."""
        found = self._matching.get(topic)
        if found is None:
            if not topic:
                found = sorted(s.name for s in self.subs.values() if s.matches_all)
            else:
                found = sorted(self.filters.match(topic))
            if len(self._matching) >= _MATCHING_CACHE:
                self._matching.clear()
            self._matching[topic] = found
        return found

    def sub_matches(self, sub: SubState, topic: str) -> bool:
        return sub.matches_all or (bool(topic) and sub.name in self.filters.match(topic))

    # -- states and ready order ----------------------------------------------------------

    def set_state(self, unit: Unit, state: int) -> None:
        counts = self.counts
        counts[unit.state] -= 1
        counts[state] += 1
        unit.state = state

    def add_unit(self, unit: Unit) -> None:
        """Counts a new (or recovered) unit and, in a FIFO queue, puts it in its lane."""
        self.counts[unit.state] += 1
        if self.fifo and unit.state != DONE:
            key = _lane_key(unit)
            lane = self.lanes.get(key)
            if lane is None:
                lane = self.lanes[key] = deque()
            lane.append(unit)

    def offerable(self, unit: Unit) -> bool:
        """READY, and in a FIFO queue the head of its lane."""
        if unit.state != READY:
            return False
        if not self.fifo:
            return True
        lane = self.lanes.get(_lane_key(unit))
        return bool(lane) and lane[0] is unit  # type: ignore[index]

    def offer(self, unit: Unit, retry: bool = False) -> None:
        """Puts a READY unit where the subscriptions that may take it will find it."""
        if self.fifo and not self.offerable(unit):
            return
        msg = unit.msg
        if msg.copies is not None:
            sub = self.subs.get(unit.sub)  # type: ignore[arg-type]
            if sub is not None:
                self._push(sub, unit, retry)
            return
        subs = self.subs
        if not subs:
            return
        if len(subs) == 1:
            (sub,) = subs.values()
            if sub.matches_all or self.sub_matches(sub, msg.topic):
                self._push(sub, unit, retry)
            return
        for name in self.matching(msg.topic):
            self._push(subs[name], unit, retry)

    def add_ready(self, units: list[Msg]) -> None:
        """Counts and offers new READY messages in bulk (publish order)."""
        if self.fifo:
            for unit in units:
                self.add_unit(unit)
                self.offer(unit)
            return
        self.counts[READY] += len(units)
        subs = self.subs
        if not subs:
            return
        if len(subs) == 1:
            (sub,) = subs.values()
            ready = sub.ready
            if sub.matches_all and isinstance(ready, _PublishOrder):
                ready.extend(units)
                self.signals.add(sub.name)
                self.signalled.add(self)
                return
        for unit in units:
            self.offer(unit)

    def _push(self, sub: SubState, unit: Unit, retry: bool = False) -> None:
        ready = sub.ready
        if retry:
            ready.push_retry(unit)
        else:
            ready.push(unit)
        if len(ready) > 2 * len(self.messages) + _COMPACT_SLACK:
            ready.compact()
        self.signals.add(sub.name)
        self.signalled.add(self)

    def make_ready(self, unit: Unit, retry: bool = False) -> None:
        self.set_state(unit, READY)
        self.offer(unit, retry)

    def lane_done(self, unit: Unit) -> None:
        """A FIFO unit finished: the next unit of its lane may be offered."""
        key = _lane_key(unit)
        lane = self.lanes.get(key)
        if not lane:
            return
        while lane and lane[0].state == DONE:
            lane.popleft()
        if not lane:
            del self.lanes[key]
        elif lane[0].state == READY:
            self.offer(lane[0])

    # -- reading -------------------------------------------------------------------------

    def full(self, extra: int = 0) -> bool:
        depth = self.config.max_depth
        return bool(depth) and len(self.messages) + extra >= depth

    def oldest_publish_time(self) -> float | None:
        for msg in self.messages.values():
            return msg.publish_time
        return None

    @property
    def ready_count(self) -> int:
        return self.counts[READY]

    @property
    def delayed_count(self) -> int:
        return self.counts[DELAYED]

    @property
    def in_flight_count(self) -> int:
        return self.counts[IN_FLIGHT]
