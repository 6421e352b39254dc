"""Conformance: the four guarantees, message status and watches (SPEC §3)."""

from __future__ import annotations

import pytest
from store_harness import StoreEnv, decode, new

from broker.errors import FailedPrecondition, InvalidArgument, NotFound
from broker.model import Guarantee, MessageState

FNF = Guarantee.FIRE_AND_FORGET
BROADCAST = Guarantee.BROADCAST
QUORUM = Guarantee.QUORUM


async def test_fire_and_forget_is_delivered_once_and_never_again(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    mid = await env.send(guarantee=FNF)
    ((_, ack, _),) = await env.take(lease=5.0)
    assert (await env.store.status("q", mid)).state is MessageState.DELIVERED
    env.advance(5.0)  # the lease ends without an ack: done, not redelivered
    assert await env.take() == []
    assert (await env.store.stats("q")).depth == 0
    assert await env.store.settle([ack]) == [ack]


async def test_fire_and_forget_can_be_acked_while_leased(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    await env.send(guarantee=FNF)
    ((_, ack, _),) = await env.take()
    assert await env.store.settle([ack]) == []


async def test_fire_and_forget_is_not_kept_across_a_restart(durable_env: StoreEnv) -> None:
    await durable_env.queue()
    await durable_env.sub()
    kept = await durable_env.send(b"kept")
    await durable_env.send(b"lost", guarantee=FNF)
    await durable_env.restart()
    got = [decode(d) for _, d, _, _ in (await durable_env.claim()).deliveries]
    assert [(m.id, m.payload) for m in got] == [(kept, b"kept")]


async def test_broadcast_copies_are_tracked_per_subscription(env: StoreEnv) -> None:
    await env.queue()
    await env.sub("s1")
    await env.sub("s2")
    mid = await env.send(guarantee=BROADCAST)
    ((_, a, _),) = await env.take("s1")
    ((_, b, _),) = await env.take("s2")
    assert await env.store.settle([a]) == []
    status = await env.store.status("q", mid)
    assert (status.state, status.acked_by, status.required_acks) == (
        MessageState.IN_FLIGHT,
        ("s1",),
        2,
    )
    assert await env.store.settle([b]) == []
    status = await env.store.status("q", mid)
    assert status.state is MessageState.DELIVERED
    assert sorted(status.acked_by) == ["s1", "s2"]


async def test_broadcast_goes_to_the_subscriptions_matching_at_send_time(env: StoreEnv) -> None:
    await env.queue()
    await env.sub("eu", filter_="eu.#")
    await env.sub("all")
    mid = await env.send(topic="us.x", guarantee=BROADCAST)
    assert await env.take("eu") == []
    await env.sub("late")
    assert await env.take("late") == []
    ((got, _, _),) = await env.take("all")
    assert got == mid


async def test_a_broadcast_nobody_matches_is_refused(env: StoreEnv) -> None:
    await env.queue()
    await env.sub("eu", filter_="eu.#")
    (result,) = await env.send_many("q", [new(topic="us.x", guarantee=BROADCAST)])
    assert not isinstance(result, str)
    assert isinstance(result.error, FailedPrecondition)
    assert "broadcast needs at least one" in str(result.error)


async def test_quorum_is_delivered_after_n_distinct_acks(env: StoreEnv) -> None:
    await env.queue()
    for s in ("a", "b", "c"):
        await env.sub(s)
    mid = await env.send(guarantee=QUORUM, required_acks=2)
    acks = {s: (await env.take(s))[0][1] for s in ("a", "b", "c")}
    await env.store.settle([acks["a"]])
    assert (await env.store.status("q", mid)).state is MessageState.IN_FLIGHT
    await env.store.settle([acks["c"]])
    status = await env.store.status("q", mid)
    assert status.state is MessageState.DELIVERED
    assert sorted(status.acked_by) == ["a", "c"]
    assert status.required_acks == 2


async def test_quorum_needs_enough_matching_subscriptions(env: StoreEnv) -> None:
    await env.queue()
    await env.sub("a")
    (result,) = await env.send_many("q", [new(guarantee=QUORUM, required_acks=2)])
    assert not isinstance(result, str)
    assert isinstance(result.error, FailedPrecondition)
    assert "quorum of 2" in str(result.error)
    (result,) = await env.send_many("q", [new(guarantee=QUORUM, required_acks=0)])
    assert not isinstance(result, str)
    assert isinstance(result.error, InvalidArgument)
    assert (await env.store.stats("q")).depth == 0


async def test_quorum_fails_once_too_few_copies_can_still_ack(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq")
    for s in ("a", "b"):
        await env.sub(s)
    mid = await env.send(guarantee=QUORUM, required_acks=2)
    ((_, a, _),) = await env.take("a")
    await env.store.dead_letter([a], "cannot")
    status = await env.store.status("q", mid)
    assert status.state is MessageState.DEAD_LETTERED


async def test_watched_messages_report_each_change(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    mid = await env.send()
    first = await env.store.watch("q", mid)
    assert first.state is MessageState.PENDING
    ((_, ack, _),) = await env.take()
    await env.store.settle([ack])
    assert [s.state for s in env.signals.statuses] == [
        MessageState.IN_FLIGHT,
        MessageState.DELIVERED,
    ]
    assert env.signals.statuses[-1].acked_by == ("s",)
    env.store.unwatch("q", mid)
    other = await env.send()
    await env.take()
    assert all(s.message_id != other for s in env.signals.statuses)


async def test_status_of_a_finished_message_and_of_unknown_ones(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    mid = await env.send()
    ((_, ack, _),) = await env.take()
    await env.store.settle([ack])
    status = await env.store.status("q", mid)
    assert (status.state, status.attempts, status.acked_by) == (MessageState.DELIVERED, 1, ("s",))
    for bad in ("nope", "ffffffffffff", ""):
        with pytest.raises(NotFound):
            await env.store.status("q", bad)
    await env.queue("other")
    with pytest.raises(NotFound):
        await env.store.status("other", mid)  # ids are per queue
