"""Conformance: ready order per queue kind, subscriptions and filters (SPEC §2, §4)."""

from __future__ import annotations

from store_harness import StoreEnv, new

from broker.model import QueueKind


def ids(taken: list[tuple[str, str, int]]) -> list[str]:
    return [mid for mid, _, _ in taken]


async def test_standard_hands_out_in_publish_order(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    sent = [await env.send() for _ in range(3)]
    assert ids(await env.take()) == sent


async def test_priority_orders_by_priority_then_publish_order(env: StoreEnv) -> None:
    await env.queue(kind=QueueKind.PRIORITY)
    await env.sub()
    sent = [await env.send(priority=p) for p in (1, 5, 1, 9, 5)]
    assert ids(await env.take()) == [sent[3], sent[1], sent[4], sent[0], sent[2]]


async def test_fifo_blocks_a_key_while_its_head_is_in_flight_but_not_other_keys(
    env: StoreEnv,
) -> None:
    await env.queue(kind=QueueKind.FIFO)
    await env.sub()
    a1 = await env.send(ordering_key="a")
    a2 = await env.send(ordering_key="a")
    b1 = await env.send(ordering_key="b")
    first = await env.take()
    assert ids(first) == [a1, b1]  # one per key
    assert await env.take() == []
    assert await env.store.settle([first[0][1]]) == []
    assert ids(await env.take()) == [a2]


async def test_fifo_nacked_head_comes_back_before_the_next_of_its_key(env: StoreEnv) -> None:
    await env.queue(kind=QueueKind.FIFO)
    await env.sub()
    a1 = await env.send(ordering_key="a")
    await env.send(ordering_key="a")
    ((_, ack, _),) = await env.take()
    assert await env.store.requeue([ack], None) == []
    assert [(m, n) for m, _, n in await env.take()] == [(a1, 2)]


async def test_fifo_delayed_head_blocks_its_lane_until_due(env: StoreEnv) -> None:
    await env.queue(kind=QueueKind.FIFO)
    await env.sub()
    a1 = await env.send(ordering_key="a", delay_s=5.0)
    await env.send(ordering_key="a")
    assert await env.take() == []
    env.advance(5.0)
    assert ids(await env.take()) == [a1]


async def test_a_shared_message_goes_to_exactly_one_of_two_matching_subscriptions(
    env: StoreEnv,
) -> None:
    await env.queue()
    await env.sub("s1")
    await env.sub("s2")
    await env.send()
    assert len(await env.take("s1")) == 1
    assert await env.take("s2") == []


async def test_filters_decide_which_subscription_sees_a_shared_message(env: StoreEnv) -> None:
    await env.queue()
    await env.sub("eu", filter_="orders.eu.*")
    await env.sub("us", filter_="orders.us.*")
    mid = await env.send(topic="orders.us.created")
    assert await env.take("eu") == []
    assert ids(await env.take("us")) == [mid]


async def test_a_new_subscription_sees_messages_that_waited_for_a_match(env: StoreEnv) -> None:
    await env.queue()
    mid = await env.send(topic="a.b")
    await env.sub("late", filter_="a.*")
    assert ids(await env.take("late")) == [mid]


async def test_ready_signals_name_the_subscriptions_that_may_claim(env: StoreEnv) -> None:
    await env.queue()
    await env.sub("eu", filter_="eu.#")
    await env.sub("us", filter_="us.#")
    env.signals.ready.clear()
    await env.store.publish("q", [new(topic="eu.a"), new(topic="eu.b")])
    assert env.signals.ready == [("q", "eu")]  # once per batch, only the one that matches
    env.signals.ready.clear()
    await env.send(topic="us.x", delay_s=3.0)
    assert env.signals.ready == []
    env.advance(3.0)
    assert env.signals.ready == [("q", "us")]
