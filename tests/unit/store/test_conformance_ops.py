"""Conformance for operating queues: pause and resume, rates, per-subscription lag and the
overview of every queue (``list_stats``), on every store; what a restart keeps of them."""

from __future__ import annotations

import pytest
from store_harness import StoreEnv, new

from broker.errors import NotFound
from broker.model import Guarantee, QueueKind

# -- pause and resume -----------------------------------------------------------------------


async def test_a_paused_queue_stores_sends_and_delivers_nothing(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    assert await env.store.pause("q") is True
    assert await env.store.pause("q") is False  # already paused: nothing changes
    ids = [await env.send(b"%d" % i) for i in range(3)]
    assert await env.take() == []
    stats = await env.store.stats("q")
    assert (stats.paused, stats.ready, stats.sent) == (True, 3, 3)
    env.signals.ready.clear()
    assert await env.store.resume("q") is True
    assert ("q", "s") in env.signals.ready  # waiting consumers are told at once
    assert [m for m, _, _ in await env.take()] == ids
    assert (await env.store.stats("q")).paused is False
    assert await env.store.resume("q") is False


async def test_leases_in_flight_run_on_while_paused(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    await env.send(b"a")
    await env.send(b"b")
    ((_, acked, _), (held_id, held, _)) = await env.take()
    await env.store.pause("q")
    assert await env.store.settle([acked]) == []  # an ack of a lease in flight counts
    env.advance(11.0)  # the other lease (10 s) ends: ready again, but not handed out
    assert await env.store.settle([held]) == [held]
    stats = await env.store.stats("q")
    assert (stats.ready, stats.in_flight, stats.acked) == (1, 0, 1)
    assert await env.take() == []
    await env.store.resume("q")
    assert [(m, attempt) for m, _, attempt in await env.take()] == [(held_id, 2)]


async def test_pause_names_an_existing_queue(env: StoreEnv) -> None:
    with pytest.raises(NotFound):
        await env.store.pause("nope")
    with pytest.raises(NotFound):
        await env.store.resume("nope")


async def test_a_pause_survives_a_restart(durable_env: StoreEnv) -> None:
    await durable_env.queue("held")
    await durable_env.queue("resumed")
    for name in ("held", "resumed"):
        await durable_env.sub(queue=name)
        await durable_env.store.pause(name)
        await durable_env.send(queue=name)
    await durable_env.store.resume("resumed")
    await durable_env.restart()
    assert (await durable_env.store.stats("held")).paused is True
    assert await durable_env.take(queue="held") == []
    assert len(await durable_env.take(queue="resumed")) == 1
    await durable_env.store.resume("held")
    await durable_env.restart()
    assert len(await durable_env.take(queue="held")) == 1


async def test_a_pause_survives_a_checkpoint(durable_env: StoreEnv) -> None:
    await durable_env.queue()
    await durable_env.sub()
    await durable_env.store.pause("q")
    await durable_env.send()
    await durable_env.store.checkpoint()  # type: ignore[attr-defined]
    await durable_env.restart()
    assert (await durable_env.store.stats("q")).paused is True
    assert await durable_env.take() == []


# -- rates and lag --------------------------------------------------------------------------


async def _workload(env: StoreEnv, seconds: int, per_second: int) -> None:
    """Each second: ``per_second`` sends, all delivered, half of them acked, the rest nacked
    to dead letters."""
    for _ in range(seconds):
        await env.send_many("q", [new(b"m") for _ in range(per_second)])
        got = await env.take(n=per_second)
        acks = [a for _, a, _ in got]
        await env.store.settle(acks[: per_second // 2])
        await env.store.dead_letter(acks[per_second // 2 :], "bad")
        env.advance(1.0)


async def test_rates_after_a_known_workload(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq")
    await env.sub()
    await _workload(env, 30, 10)
    stats = await env.store.stats("q")
    short, long = stats.rates_1m, stats.rates_5m
    # 30 s of history: both windows cover it, at 10 sends/s, 5 acks/s, 5 dead letters/s.
    assert short.window_s == pytest.approx(30.0)
    assert long.window_s == pytest.approx(30.0)
    assert (short.sent, short.delivered, short.acked, short.dead_lettered) == pytest.approx(
        (10.0, 10.0, 5.0, 5.0)
    )
    await _workload(env, 60, 4)
    stats = await env.store.stats("q")
    # The last minute saw only the slower load; the five minutes both.
    assert stats.rates_1m.window_s == pytest.approx(60.0)
    assert stats.rates_1m.sent == pytest.approx(4.0)
    assert stats.rates_1m.acked == pytest.approx(2.0)
    assert stats.rates_5m.window_s == pytest.approx(90.0)
    assert stats.rates_5m.sent == pytest.approx((300 + 240) / 90)
    # The dead-letter queue received (sent) what the source dead-lettered.
    assert (await env.store.stats("dlq")).rates_1m.sent == pytest.approx(2.0)


async def test_rates_fall_to_zero_when_traffic_stops(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    await _workload(env, 5, 10)
    for _ in range(61):
        env.advance(1.0)
    stats = await env.store.stats("q")
    assert stats.rates_1m.sent == 0.0
    assert stats.rates_5m.sent == pytest.approx(50 / 66)


async def test_lag_per_subscription(env: StoreEnv) -> None:
    await env.queue()
    await env.sub("eu", filter_="orders.eu.#")
    await env.sub("all", filter_="#")
    await env.send(b"1", topic="orders.eu.created")
    env.advance(2.0)
    await env.send(b"2", topic="orders.us.created")
    await env.send(b"3", topic="orders.eu.paid", delay_s=60.0)
    await env.send(b"4", topic="orders.eu.x", guarantee=Guarantee.BROADCAST)
    env.advance(1.0)
    (_, _, _) = (await env.take("eu", n=1))[0]  # the first eu message, now in flight
    lag = {lag.subscription: lag for lag in (await env.store.stats("q")).lag}
    eu, everything = lag["eu"], lag["all"]
    # eu: message 1 in flight, its broadcast copy of 4 ready, 3 delayed; 2 is not its.
    assert (eu.ready, eu.delayed, eu.in_flight) == (1, 1, 1)
    assert eu.oldest_age_s == pytest.approx(3.0)
    # all: 2 and its copy of 4 ready, 3 delayed; 1 is leased to eu, not waiting for it.
    assert (everything.ready, everything.delayed, everything.in_flight) == (2, 1, 0)
    assert everything.oldest_age_s == pytest.approx(1.0)
    assert not eu.partial


async def test_lag_of_the_one_subscription_of_a_queue(env: StoreEnv) -> None:
    await env.queue()
    assert (await env.store.stats("q")).lag == ()
    await env.sub()
    await env.send(b"a")
    env.advance(4.0)
    await env.send(b"b")
    await env.send(b"c", delay_s=30.0)
    await env.take(n=1)
    (lag,) = (await env.store.stats("q")).lag
    assert (lag.subscription, lag.ready, lag.delayed, lag.in_flight) == ("s", 1, 1, 1)
    assert lag.oldest_age_s == pytest.approx(4.0)


async def test_list_stats_covers_every_queue(env: StoreEnv) -> None:
    await env.queue("b-jobs", kind=QueueKind.FIFO)
    await env.queue("a-jobs")
    await env.queue("other")
    await env.sub(queue="a-jobs")
    await env.store.pause("b-jobs")
    await env.send(queue="a-jobs")
    await env.send(queue="a-jobs")
    await env.send(queue="b-jobs")
    listed = await env.store.list_stats("")
    assert [s.queue for s in listed] == ["a-jobs", "b-jobs", "other"]
    a, b, _ = listed
    assert (a.ready, a.paused, a.kind, a.lag) == (2, False, QueueKind.STANDARD, ())
    assert (b.ready, b.paused, b.kind) == (1, True, QueueKind.FIFO)
    only = await env.store.list_stats("a-", lag=True)
    assert [s.queue for s in only] == ["a-jobs"]
    assert [(lag.subscription, lag.ready) for lag in only[0].lag] == [("s", 2)]


async def test_lag_of_a_large_queue_is_counted_over_its_oldest_messages(
    env: StoreEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broker.store.memory import MemoryStore, admin

    if not isinstance(env.store, MemoryStore):
        pytest.skip("the scan limit is the memory store's")
    monkeypatch.setattr(admin, "LAG_SCAN_LIMIT", 3)  # stands for 100,000 stored messages
    await env.queue()
    await env.sub("a")
    await env.sub("b", filter_="t")
    await env.send_many("q", [new(b"%d" % i) for i in range(5)])
    lags = (await env.store.stats("q")).lag
    assert [(lag.subscription, lag.ready, lag.partial) for lag in lags] == [
        ("a", 3, True),
        ("b", 3, True),
    ]
    await env.take("a", n=3)
    lags = (await env.store.stats("q")).lag
    assert [(lag.subscription, lag.ready, lag.in_flight) for lag in lags] == [
        ("a", 0, 3),
        ("b", 0, 0),
    ]
