"""The memory store's state: every queue, the bindings, the clock, timers, journal, listener.

The verbs (``admission``, ``leases``, ``settlement``, ``admin``, ``catalog``) are functions
over this state, each synchronous: a verb checks, mutates and journals with no await, so
no other verb can interleave with it (that is the lock the gaps between awaits would need
otherwise). ``notify`` runs at the end of every verb and timer callback: it tells the listener
which subscriptions got something to claim, once per subscription per verb.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from broker.errors import NotFound
from broker.model import check_name
from broker.routing import PatternTrie
from broker.store.base import Listener
from broker.store.ids import first_seq, parse_ack_id
from broker.store.memory.journal import Journal
from broker.store.memory.queue import QueueState
from broker.store.memory.rates import SAMPLE_EVERY_S
from broker.store.memory.records import IN_FLIGHT, Unit
from broker.store.memory.status import StatusBoard, status_of
from broker.store.memory.timers import Timers

Clock = Callable[[], float]


class Machine:
    """All state of a memory store. Owned by one event loop; not thread-safe."""

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        max_payload_bytes: int = 1024 * 1024,
        journal: Journal | None = None,
    ) -> None:
        self.clock = clock
        self.timers = Timers(clock)
        self.max_payload_bytes = max_payload_bytes
        self.journal = journal or Journal()
        self.listener: Listener | None = None
        self.queues: dict[str, QueueState] = {}
        self.bindings: PatternTrie[str] = PatternTrie()
        self.board = StatusBoard()
        self.next_seq = first_seq()
        self.signalled: set[QueueState] = set()
        """Queues with subscriptions to tell the listener about (see ``QueueState.signals``)."""

    def queue(self, name: str) -> QueueState:
        q = self.queues.get(name)
        if q is None:
            check_name("queue", name)
            raise NotFound(f"queue {name[:255]!r} does not exist; create it first")
        return q

    def new_queue(self, q: QueueState) -> QueueState:
        q.signalled = self.signalled
        self.queues[q.name] = q
        q.rates.sample(self.clock(), q.counters)
        return q

    def start_sampling(self) -> None:
        """Samples every queue's counters for its rates once a second from now on."""
        self.timers.schedule(self.clock() + SAMPLE_EVERY_S, self._sample)

    def _sample(self) -> None:
        now = self.clock()
        for q in self.queues.values():
            q.rates.sample(now, q.counters)
        self.timers.schedule(now + SAMPLE_EVERY_S, self._sample)

    def take_seqs(self, count: int) -> int:
        """Reserves ``count`` sequence numbers; returns the first."""
        first = self.next_seq
        self.next_seq = first + count
        return first

    def leased(self, ack_id: str) -> tuple[QueueState, Unit] | None:
        """The queue and unit an ack id names, if that attempt still holds its lease."""
        parsed = parse_ack_id(ack_id)
        if parsed is None:
            return None
        name, seq, index, token = parsed
        q = self.queues.get(name)
        if q is None:
            return None
        msg = q.messages.get(seq)
        if msg is None:
            return None
        copies = msg.copies
        unit: Unit
        if copies is None:
            if index:
                return None
            unit = msg
        elif 0 <= index < len(copies):
            unit = copies[index]
        else:
            return None
        lease = unit.lease
        if unit.state != IN_FLIGHT or lease is None or lease.token_hex != token:
            return None
        return q, unit

    def notify(self) -> None:
        """Tells the listener which subscriptions got units to claim."""
        if not self.signalled:
            return
        queues = list(self.signalled)
        self.signalled.clear()
        listener = self.listener
        for q in queues:
            subs, q.signals = q.signals, set()
            if listener is not None and self.queues.get(q.name) is q:
                for sub in subs:
                    listener.ready(q.name, sub)

    def touched(self, q: QueueState, seqs: list[int], reason: str = "") -> None:
        """Reports a change of these messages to the listener, for those watched."""
        watched = self.board.watched
        listener = self.listener
        if not watched or listener is None:
            return
        for seq in seqs:
            if seq in watched:
                msg = q.messages.get(seq)
                status = (
                    status_of(q.name, msg, reason)
                    if msg is not None
                    else self.board.get(q.name, seq)
                )
                if status is not None:
                    listener.changed(status)
