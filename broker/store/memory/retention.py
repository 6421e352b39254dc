"""Retention and replay: acked messages kept for a while, start positions, seek.

A queue with ``retain_acked_s`` or ``retain_acked_bytes`` keeps each message whose guarantee
was met (decided DELIVERED, every copy done) in its ``RetainedLog``, in ack order, until
``retain_acked_s`` after its ack or until the byte budget pushes it out (oldest first).
Fire-and-forget messages are never retained (they are never stored).

Replaying a retained message to a subscription makes it live again under its own sequence
number (so its id, bytes and publish time are the ones first delivered), as a fan-out message
with one copy per subscription it was replayed to. While it is live its retained entry stays;
once it is acked again the entry is replaced (a new ack time). Every change is journaled as
absolute state: the replayed message as a snapshot-style record (``Journal.replayed``), acks
as ``finished``; expiry and the byte budget follow from ack times and configuration, which the
log holds too, so recovery recomputes them rather than reading them.

Seek(subscription, t): retained messages published at or after ``t`` that the
subscription's filter matches are replayed to it; its live units published before ``t``
(its copies, and shared units it could take that no other subscription holds leased) are
acked. A start position at creation is the replay half of a seek (ALL: from the beginning).
"""

from __future__ import annotations

from broker.errors import InvalidArgument, NotFound
from broker.model import MessageState, StartPosition
from broker.store.base import SubscriptionInfo
from broker.store.memory import catalog, lifecycle
from broker.store.memory.machine import Machine
from broker.store.memory.queue import QueueState, SubState
from broker.store.memory.records import DONE, IN_FLIGHT, READY, Copy, FanoutMsg, Msg, Unit

_DELIVERED = MessageState.DELIVERED


# -- replay ------------------------------------------------------------------------------


def _replay(m: Machine, q: QueueState, sub: SubState, since: float | None) -> int:
    """Makes the retained messages published at or after ``since`` (None: all) that ``sub``
    matches deliverable to it again; returns how many."""
    now = m.clock()
    changed: list[Msg] = []
    for seq, old in list(q.retained.msgs.items()):
        if (since is not None and old.publish_time < since) or not q.sub_matches(sub, old.topic):
            continue
        live = q.messages.get(seq)
        if live is None:
            fan = FanoutMsg(
                seq,
                old.data,
                old.size,
                old.topic,
                old.publish_time,
                READY,
                now,
                old.guarantee,
                old.priority,
                old.key,
                0.0,
            )
            fan.copies = []
            q.messages[seq] = fan
        elif isinstance(live, FanoutMsg) and not live.final:
            if any(c.sub == sub.name and c.state != DONE for c in live.copies):
                continue  # already on its way to this subscription
            fan = live
        else:
            continue
        copy = Copy(fan, len(fan.copies), sub.name, READY, now)
        fan.copies.append(copy)
        fan.open += 1
        fan.required_acks = len(fan.copies)
        fan.changed = now
        q.add_unit(copy)
        q.offer(copy)
        changed.append(fan)
    if changed:
        m.journal.replayed(q, changed)
    m.notify()
    return len(changed)


def _ack_before(m: Machine, q: QueueState, sub: SubState, before: float) -> int:
    """Acks the subscription's live units published before ``before``; returns how many."""
    now = m.clock()
    doomed: list[Unit] = []
    name = sub.name
    for msg in q.messages.values():
        if msg.publish_time >= before:
            continue
        copies = msg.copies
        if copies is not None:
            doomed += [c for c in copies if c.sub == name and c.state != DONE]
        elif (
            msg.state != DONE
            and (msg.state != IN_FLIGHT or msg.sub == name)
            and q.sub_matches(sub, msg.topic)
        ):
            msg.sub = name  # acked by this subscription
            doomed.append(msg)
    for unit in doomed:
        lifecycle.finish(m, q, unit, _DELIVERED, "", now)
    if doomed:
        m.journal.finished(q, doomed, _DELIVERED)
        m.touched(q, sorted({u.msg.seq for u in doomed}))
    m.notify()
    return len(doomed)


def _sub(m: Machine, queue: str, name: str) -> tuple[QueueState, SubState]:
    q = m.queue(queue)
    sub = q.subs.get(name)
    if sub is None:
        raise NotFound(f"subscription {name[:255]!r} of queue {queue!r} does not exist")
    return q, sub


def seek(m: Machine, queue: str, name: str, time: float) -> tuple[int, int]:
    """Returns (replayed, acked)."""
    q, sub = _sub(m, queue, name)
    acked = _ack_before(m, q, sub, time)
    return _replay(m, q, sub, time), acked


def start(
    m: Machine,
    queue: str,
    name: str,
    filter_: str,
    position: StartPosition,
    since: float,
) -> SubscriptionInfo:
    """``catalog.subscription`` with a start position, applied when this creates it."""
    q = m.queue(queue)
    if position is StartPosition.FROM_TIME and since <= 0:
        raise InvalidArgument("start position FROM_TIME needs a start_time")
    created = name not in q.subs
    info = catalog.subscription(m, queue, name, filter_)
    if created and position is not StartPosition.NEW:
        _replay(m, q, q.subs[name], since if position is StartPosition.FROM_TIME else None)
        info = catalog.info(q, q.subs[name])
    return info
