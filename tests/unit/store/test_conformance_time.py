"""Conformance: delays, TTLs and dedup windows (SPEC §4)."""

from __future__ import annotations

from store_harness import StoreEnv, decode, new

from broker.model import MessageState


async def test_a_delayed_message_is_invisible_until_due(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    mid = await env.send(delay_s=30.0)
    assert await env.take() == []
    stats = await env.store.stats("q")
    assert (stats.delayed, stats.ready) == (1, 0)
    (peeked,) = await env.store.peek("q", 10)
    assert peeked.due_in_s == 30.0
    env.advance(29.0)
    assert await env.take() == []
    env.advance(1.0)
    assert [m for m, _, _ in await env.take()] == [mid]


async def test_delays_are_not_capped(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    await env.send(delay_s=7 * 24 * 3600.0)
    env.advance(7 * 24 * 3600.0 - 1)
    assert await env.take() == []
    env.advance(1)
    assert len(await env.take()) == 1


async def test_the_queue_default_delay_applies_and_shows_in_the_message(env: StoreEnv) -> None:
    await env.queue(default_delay_s=2.0)
    await env.sub()
    await env.send()
    env.advance(2.0)
    ((_, data, _, _),) = (await env.claim()).deliveries
    assert decode(data).delay.seconds == 2


async def test_ttl_expiry_dead_letters_even_in_flight(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq")
    await env.sub()
    mid = await env.send(ttl_s=5.0)
    ((_, ack, _),) = await env.take(lease=60.0)
    env.advance(5.0)
    assert await env.store.settle([ack]) == [ack]
    status = await env.store.status("q", mid)
    assert (status.state, status.reason) == (MessageState.EXPIRED, "expired")
    (letter,) = [decode(d) for d in await env.store.dead_letters("dlq", 10)]
    assert letter.dead_letter.reason == "expired"
    stats = await env.store.stats("q")
    assert (stats.expired, stats.depth, stats.in_flight) == (1, 0, 0)


async def test_ttl_without_a_dead_letter_queue_drops_and_counts(env: StoreEnv) -> None:
    await env.queue(message_ttl_s=1.0)
    await env.sub()
    await env.send()
    env.advance(1.0)
    assert await env.take() == []
    assert (await env.store.stats("q")).expired == 1


async def test_a_duplicate_inside_the_window_returns_the_first_id(env: StoreEnv) -> None:
    await env.queue(dedup_window_s=60.0)
    await env.sub()
    first = await env.send(dedup_id="order-1")
    (dup,) = await env.send_many("q", [new(dedup_id="order-1")])
    assert not isinstance(dup, str)
    assert (dup.duplicate, dup.message_id) == (True, first)
    ((_, ack, _),) = await env.take()
    await env.store.settle([ack])
    (still,) = await env.send_many("q", [new(dedup_id="order-1")])  # acked, still in window
    assert not isinstance(still, str)
    assert still.duplicate
    env.advance(60.0)
    assert isinstance((await env.send_many("q", [new(dedup_id="order-1")]))[0], str)
    assert (await env.store.stats("q")).duplicates == 2


async def test_a_shortened_dedup_window_applies_to_ids_already_seen(env: StoreEnv) -> None:
    await env.queue(dedup_window_s=300.0)
    await env.send(dedup_id="k")  # remembered for 300 s
    await env.store.update_queue("q", {"dedup_window_s": 1.0})
    await env.send(dedup_id="j")  # remembered for 1 s, after "k"
    env.advance(2.0)
    assert isinstance((await env.send_many("q", [new(dedup_id="j")]))[0], str)
    (k,) = await env.send_many("q", [new(dedup_id="k")])
    assert not isinstance(k, str)
    assert k.duplicate
