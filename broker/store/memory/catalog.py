"""Queues, bindings and subscriptions: creating, reconfiguring and deleting them.

Checks and changes happen in one synchronous step, so two concurrent creates of one name
cannot both succeed, and a Send racing a DeleteQueue either lands before the deletion (and is
deleted with the queue) or fails with NOT_FOUND: the journal records them in that same order.
"""

from __future__ import annotations

from broker.errors import AlreadyExists, FailedPrecondition, NotFound, ResourceExhausted
from broker.model import MessageState, QueueConfig, check_name
from broker.routing import validate_pattern
from broker.store.at_rest import check_encryption_kept, check_sealing
from broker.store.base import SubscriptionInfo
from broker.store.memory import lifecycle, retained
from broker.store.memory.machine import Machine
from broker.store.memory.queue import QueueState, SubState
from broker.store.memory.records import DONE, IN_FLIGHT, Unit

MAX_SUBSCRIPTIONS = 0xFFFF
"""Per queue: a copy's index in its message must fit the 16 bits timers key it by."""

REASON_QUEUE_DELETED = "queue deleted"
REASON_SUBSCRIPTION_DELETED = "subscription deleted"


def _check_dead_letter_target(m: Machine, config: QueueConfig) -> None:
    dlq = config.dead_letter_queue
    if dlq and dlq not in m.queues:
        raise FailedPrecondition(
            f"dead-letter queue {dlq!r} of queue {config.name!r} does not exist; create it first"
        )
    check_sealing(config, m.can_seal, m.queues[dlq].config if dlq else None)


def create_queue(m: Machine, config: QueueConfig) -> QueueConfig:
    config = config.replace(create_time=m.clock()).validate(m.max_payload_bytes)
    if config.name in m.queues:
        raise AlreadyExists(f"queue {config.name!r} already exists")
    if m.max_queues and len(m.queues) >= m.max_queues:
        raise ResourceExhausted(
            f"max_queues reached: the server holds {len(m.queues)} queues, its limit; delete "
            "one or raise max_queues"
        )
    _check_dead_letter_target(m, config)
    m.new_queue(QueueState(config))
    m.journal.queue_put(config)
    return config


def update_queue(m: Machine, name: str, changes: dict[str, object]) -> QueueConfig:
    q = m.queue(name)
    if "kind" in changes and changes["kind"] != q.config.kind and q.messages:
        raise FailedPrecondition(
            f"queue {name!r} holds messages; its kind can only change while it is empty"
        )
    check_encryption_kept(q.config, changes)
    config = q.config.replace(**changes).validate(m.max_payload_bytes)
    _check_dead_letter_target(m, config)
    q.reconfigure(config)
    m.journal.queue_put(config)
    retained.reconfigured(m, q)
    return config


def delete_queue(m: Machine, name: str) -> int:
    q = m.queue(name)
    users = sorted(n for n, other in m.queues.items() if other.config.dead_letter_queue == name)
    if users:
        raise FailedPrecondition(
            f"queue {name!r} is the dead-letter queue of {users}; change their "
            "dead_letter_queue first"
        )
    doomed = list(q.messages.values())
    for msg in doomed:
        lifecycle.end(m, q, msg, MessageState.CANCELLED, REASON_QUEUE_DELETED)
    for pattern, queue in list(m.bindings.patterns()):
        if queue == name:
            m.bindings.remove(pattern, queue)
    del m.queues[name]
    m.journal.queue_delete(name)
    m.touched(q, [msg.seq for msg in doomed], REASON_QUEUE_DELETED)
    return len(doomed)


def create_binding(m: Machine, pattern: str, queue: str) -> None:
    validate_pattern(pattern)
    m.queue(queue)
    if (pattern, queue) in set(m.bindings.patterns()):
        raise AlreadyExists(f"binding {pattern!r} -> {queue!r} already exists")
    m.bindings.insert(pattern, queue)
    m.journal.binding_put(pattern, queue)


def delete_binding(m: Machine, pattern: str, queue: str) -> None:
    validate_pattern(pattern)
    if (pattern, queue) not in set(m.bindings.patterns()):
        raise NotFound(f"binding {pattern!r} -> {queue!r} does not exist")
    m.bindings.remove(pattern, queue)
    m.journal.binding_delete(pattern, queue)


def list_bindings(m: Machine, queue: str = "") -> list[tuple[str, str]]:
    return sorted((p, q) for p, q in m.bindings.patterns() if not queue or q == queue)


def info(q: QueueState, sub: SubState) -> SubscriptionInfo:
    return SubscriptionInfo(q.name, sub.name, sub.filter, sub.create_time, sub.in_flight)


def subscription(m: Machine, queue: str, name: str, filter_: str) -> SubscriptionInfo:
    q = m.queue(queue)
    check_name("subscription", name)
    sub = q.subs.get(name)
    if sub is not None:
        if filter_ and filter_ != sub.filter:
            raise FailedPrecondition(
                f"subscription {name!r} exists with filter {sub.filter!r}, not {filter_!r}; "
                "use a new subscription name or delete this one"
            )
        return info(q, sub)
    filter_ = filter_ or "#"
    validate_pattern(filter_)
    if len(q.subs) >= MAX_SUBSCRIPTIONS:
        raise ResourceExhausted(f"queue {queue!r} has {MAX_SUBSCRIPTIONS} subscriptions")
    sub = q.add_subscription(name, filter_, m.clock())
    m.journal.subscription_put(queue, sub)
    m.notify()
    return info(q, sub)


def list_subscriptions(m: Machine, queue: str) -> list[SubscriptionInfo]:
    q = m.queue(queue)
    return [info(q, sub) for _, sub in sorted(q.subs.items())]


def delete_subscription(m: Machine, queue: str, name: str) -> None:
    """Its copies of broadcast and quorum messages are cancelled; messages leased to it go
    straight back to the other subscriptions, their attempt counted but not as a failure."""
    q = m.queue(queue)
    sub = q.subs.get(name)
    if sub is None:
        raise NotFound(f"subscription {name!r} of queue {queue!r} does not exist")
    cancelled: list[Unit] = []
    requeued: list[Unit] = []
    now = m.clock()
    for msg in list(q.messages.values()):
        if msg.copies is not None:
            for copy in msg.copies:
                if copy.sub == name and copy.state != DONE:
                    lifecycle.finish(
                        m, q, copy, MessageState.CANCELLED, REASON_SUBSCRIPTION_DELETED
                    )
                    cancelled.append(copy)
        elif msg.state == IN_FLIGHT and msg.sub == name:
            lifecycle.retry(m, q, msg, 0.0, now, failure=False, requeued=requeued)
    q.remove_subscription(name)
    m.journal.finished(q, cancelled, MessageState.CANCELLED)
    m.journal.requeued(q, requeued)
    m.journal.subscription_delete(queue, name)
    m.touched(q, sorted({u.msg.seq for u in (*cancelled, *requeued)}))
    m.notify()
