"""The queue engine on a fake clock: ready order per kind, FIFO groups, leases, endings."""

from __future__ import annotations

import itertools

import pytest

from broker.delivery.consumer import Consumer
from broker.delivery.queue import REASON_EXPIRED, REASON_MAX_DELIVERIES, QueueEngine
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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Hooks:
    def __init__(self) -> None:
        self.ids = itertools.count()
        self.live: dict[str, Copy] = {}
        self.dead: list[tuple[str, str]] = []
        self.done: list[str] = []

    def new_ack_id(self, copy: Copy) -> str:
        ack_id = f"ack{next(self.ids)}"
        self.live[ack_id] = copy
        return ack_id

    def forget_ack_id(self, ack_id: str) -> None:
        self.live.pop(ack_id, None)

    def dead_letter(self, msg: StoredMessage, copy: Copy | None, reason: str) -> None:
        self.dead.append((msg.id, reason))

    def changed(self, msg: StoredMessage) -> None:
        pass

    def finished(self, msg: StoredMessage) -> None:
        self.done.append(msg.id)


class Env:
    def __init__(self, **config: object) -> None:
        self.clock = Clock()
        self.timers = Timers(self.clock)
        self.hooks = Hooks()
        self.engine = QueueEngine(QueueConfig(name="q").replace(**config), self.timers, self.hooks)
        self.ids = itertools.count(1)

    def send(
        self,
        topic: str = "t",
        *,
        key: str = "",
        priority: int = 0,
        delay: float = 0.0,
        ttl: float = 0.0,
        guarantee: Guarantee = Guarantee.AT_LEAST_ONCE,
        subs: list[str] | None = None,
        payload: bytes = b"x",
        dedup_id: str = "",
    ) -> StoredMessage:
        now = self.clock.now
        msg = StoredMessage(
            id=f"m{next(self.ids)}",
            queue="q",
            topic=topic,
            payload=payload,
            attributes={},
            guarantee=guarantee,
            required_acks=1,
            priority=priority,
            ordering_key=key,
            dedup_id=dedup_id,
            publish_time=now,
            seq=self.engine.next_seq(),
            deliver_at=now + delay,
            expires_at=now + ttl if ttl else 0.0,
        )
        msg.copies = [Copy(msg, s, visible_at=msg.deliver_at) for s in (subs or [None])]
        if subs:
            msg.required_acks = len(subs)
        self.engine.admit(msg)
        self.engine.commit(msg)
        return msg

    def consumer(
        self, sub: str = "s", window: int = 100, max_bytes: int = 0, filter_: str = "#"
    ) -> tuple[object, Consumer]:
        s = self.engine.subs.get(sub) or self.engine.add_subscription(sub, filter_, 0.0)
        c = Consumer(sub, window, max_bytes, lease_s=10.0)
        s.consumers.append(c)
        return s, c

    def take(self, sub: object, consumer: Consumer, n: int = 100) -> list[Copy]:
        return self.engine.take(sub, consumer, n)  # type: ignore[arg-type]

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        self.timers.run_due()


def ids(copies: list[Copy]) -> list[str]:
    return [c.msg.id for c in copies]


def test_standard_hands_out_in_publish_order() -> None:
    env = Env()
    for _ in range(3):
        env.send()
    sub, c = env.consumer()
    assert ids(env.take(sub, c)) == ["m1", "m2", "m3"]


def test_priority_orders_by_priority_then_publish_order() -> None:
    env = Env(kind=QueueKind.PRIORITY)
    for p in (1, 5, 1, 9, 5):
        env.send(priority=p)
    sub, c = env.consumer()
    assert ids(env.take(sub, c)) == ["m4", "m2", "m5", "m1", "m3"]


def test_fifo_blocks_a_key_while_its_head_is_in_flight_but_not_other_keys() -> None:
    env = Env(kind=QueueKind.FIFO)
    env.send(key="a")
    env.send(key="a")
    env.send(key="b")
    sub, c = env.consumer()
    first = env.take(sub, c)
    assert ids(first) == ["m1", "m3"]  # one per key
    assert env.take(sub, c) == []
    env.engine.ack(first[0])
    assert ids(env.take(sub, c)) == ["m2"]


def test_fifo_nacked_head_comes_back_before_the_next_of_its_key() -> None:
    env = Env(kind=QueueKind.FIFO)
    env.send(key="a")
    env.send(key="a")
    sub, c = env.consumer()
    (head,) = env.take(sub, c)
    env.engine.nack(head, delay=None, dead_letter=False, reason="")
    again = env.take(sub, c)
    assert ids(again) == ["m1"]
    assert again[0].attempts == 2


def test_fifo_delayed_head_blocks_its_group_until_due() -> None:
    env = Env(kind=QueueKind.FIFO)
    env.send(key="a", delay=5.0)
    env.send(key="a")
    sub, c = env.consumer()
    assert env.take(sub, c) == []
    env.advance(5.0)
    assert ids(env.take(sub, c)) == ["m1"]


def test_shared_copy_goes_to_exactly_one_of_two_matching_subscriptions() -> None:
    env = Env()
    env.send()
    s1, c1 = env.consumer("s1")
    s2, c2 = env.consumer("s2")
    assert len(env.take(s1, c1)) == 1
    assert env.take(s2, c2) == []


def test_filters_decide_which_subscription_sees_a_shared_copy() -> None:
    env = Env()
    eu, c_eu = env.consumer("eu", filter_="orders.eu.*")
    us, c_us = env.consumer("us", filter_="orders.us.*")
    env.send("orders.us.created")
    assert env.take(eu, c_eu) == []
    assert ids(env.take(us, c_us)) == ["m1"]


def test_a_new_subscription_sees_copies_that_waited_for_a_match() -> None:
    env = Env()
    env.send("a.b")
    sub, c = env.consumer("late", filter_="a.*")
    assert ids(env.take(sub, c)) == ["m1"]


def test_lease_expiry_redelivers_with_backoff_and_invalidates_the_ack_id() -> None:
    env2 = Env()
    env2.send()
    sub, c = env2.consumer()
    (copy,) = env2.take(sub, c)
    old_ack = copy.ack_id
    env2.advance(10.0)  # the consumer's lease
    assert old_ack not in env2.hooks.live
    assert c.outstanding == 0
    (again,) = env2.take(sub, c)
    assert again.attempts == 2
    assert again.ack_id != old_ack


def test_max_deliveries_dead_letters_with_a_reason() -> None:
    env = Env(max_deliveries=2)
    msg = env.send()
    sub, c = env.consumer()
    for _ in range(2):
        (copy,) = env.take(sub, c)
        env.engine.nack(copy, delay=None, dead_letter=False, reason="")
    assert env.hooks.dead == [("m1", REASON_MAX_DELIVERIES)]
    assert msg.state is MessageState.DEAD_LETTERED
    assert not env.engine.messages
    assert env.hooks.done == ["m1"]


def test_nack_delay_frees_the_window_at_once() -> None:
    env = Env()
    env.send()
    sub, c = env.consumer(window=1)
    (copy,) = env.take(sub, c)
    env.engine.nack(copy, delay=60.0, dead_letter=False, reason="")
    assert c.outstanding == 0
    assert env.engine.counts[CopyState.DELAYED] == 1
    assert env.take(sub, c) == []


def test_byte_window_binds_but_a_lone_large_message_still_flows() -> None:
    env = Env()
    env.send(payload=b"x" * 60)
    env.send(payload=b"x" * 60)
    env.send(payload=b"x" * 500)
    sub, c = env.consumer(max_bytes=100)
    first = env.take(sub, c)
    assert ids(first) == ["m1"]
    env.engine.ack(first[0])
    second = env.take(sub, c)
    assert ids(second) == ["m2"]
    env.engine.ack(second[0])
    assert ids(env.take(sub, c)) == ["m3"]  # larger than the window, alone


def test_ttl_expiry_ends_an_in_flight_copy() -> None:
    env = Env()
    msg = env.send(ttl=5.0)
    sub, c = env.consumer()
    (copy,) = env.take(sub, c)
    env.advance(5.0)
    assert msg.state is MessageState.EXPIRED
    assert copy.ack_id == ""
    assert c.outstanding == 0
    assert env.hooks.dead == [("m1", REASON_EXPIRED)]
    assert env.engine.counters.expired == 1


def test_fire_and_forget_is_never_redelivered() -> None:
    env = Env()
    msg = env.send(guarantee=Guarantee.FIRE_AND_FORGET)
    sub, c = env.consumer()
    env.take(sub, c)
    assert msg.state is MessageState.DELIVERED
    env.advance(10.0)
    assert env.take(sub, c) == []
    assert not env.engine.messages


def test_closing_a_consumer_returns_its_deliveries_without_counting_a_failure() -> None:
    env = Env(max_deliveries=1)
    env.send()
    sub, c = env.consumer()
    env.take(sub, c)
    env.engine.release_consumer(c)
    _, c2 = env.consumer()
    (again,) = env.take(sub, c2)
    assert again.attempts == 2
    assert env.hooks.dead == []


def test_drop_oldest_makes_room_and_reject_new_refuses() -> None:
    env = Env(max_depth=2, overflow=Overflow.DROP_OLDEST)
    first = env.send()
    env.send()
    env.send()
    assert first.state is MessageState.DROPPED
    assert list(env.engine.messages) == ["m2", "m3"]
    reject = Env(max_depth=1)
    reject.send()
    with pytest.raises(ResourceExhausted, match="full"):
        reject.send()


def test_cancel_refuses_in_flight_and_removes_pending() -> None:
    env = Env()
    a = env.send()
    b = env.send()
    sub, c = env.consumer()
    env.take(sub, c, 1)
    with pytest.raises(FailedPrecondition, match="in flight"):
        env.engine.cancel(a)
    env.engine.cancel(b)
    assert b.state is MessageState.CANCELLED
    assert list(env.engine.messages) == ["m1"]


def test_broadcast_copies_are_tracked_per_subscription() -> None:
    env = Env()
    s1, c1 = env.consumer("s1")
    s2, c2 = env.consumer("s2")
    msg = env.send(guarantee=Guarantee.BROADCAST, subs=["s1", "s2"])
    (a,) = env.take(s1, c1)
    (b,) = env.take(s2, c2)
    env.engine.ack(a)
    assert msg.state is MessageState.PENDING
    env.engine.ack(b)
    assert msg.state is MessageState.DELIVERED
    assert sorted(msg.acked_by) == ["s1", "s2"]


def test_an_acked_message_is_not_kept_alive_by_its_lease_timer() -> None:
    import gc
    import weakref

    env = Env(message_ttl_s=3600.0)
    msg = env.send()
    sub, c = env.consumer()
    (copy,) = env.take(sub, c)
    env.engine.ack(copy)
    ref = weakref.ref(msg)
    del msg, copy
    gc.collect()
    assert ref() is None, "a cancelled timer still holds the message (and its payload)"


def test_a_shortened_dedup_window_applies_to_ids_already_seen() -> None:
    env = Env(dedup_window_s=300.0)
    first = env.send(dedup_id="k")  # remembered for 300 s
    env.engine.config = env.engine.config.replace(dedup_window_s=1.0)
    env.send(dedup_id="j")  # remembered for 1 s, after "k" in insertion order
    env.advance(2.0)
    assert env.engine.dedup_lookup("j", env.clock.now) is None
    assert env.engine.dedup_lookup("k", env.clock.now) == first.id
