"""Conformance: depth limits, cancel, purge, redrive, deletions, stats, peek (SPEC §2, §5)."""

from __future__ import annotations

import asyncio

import pytest
from store_harness import StoreEnv, decode, new

from broker.errors import (
    AlreadyExists,
    FailedPrecondition,
    NotFound,
    ResourceExhausted,
)
from broker.model import Guarantee, MessageState, Overflow, QueueKind


async def test_reject_new_refuses_a_full_queue_per_message(env: StoreEnv) -> None:
    await env.queue(max_depth=2)
    results = await env.send_many("q", [new(b"1"), new(b"2"), new(b"3")])
    assert [isinstance(r, str) for r in results] == [True, True, False]
    assert isinstance(results[2].error, ResourceExhausted)  # type: ignore[union-attr]
    assert "is full" in str(results[2].error)  # type: ignore[union-attr]


async def test_drop_oldest_makes_room_within_one_batch_too(env: StoreEnv) -> None:
    await env.queue(max_depth=2, overflow=Overflow.DROP_OLDEST)
    await env.sub()
    results = await env.send_many("q", [new(b"1"), new(b"2"), new(b"3")])
    assert all(isinstance(r, str) for r in results)
    assert (await env.store.status("q", results[0])).state is MessageState.DROPPED  # type: ignore[arg-type]
    got = [decode(d).payload for _, d, _, _ in (await env.claim()).deliveries]
    assert got == [b"2", b"3"]
    stats = await env.store.stats("q")
    assert (stats.dropped, stats.depth) == (1, 2)


async def test_drop_oldest_never_drops_what_is_in_flight(env: StoreEnv) -> None:
    await env.queue(max_depth=1, overflow=Overflow.DROP_OLDEST)
    await env.sub()
    await env.send()
    await env.take()
    (result,) = await env.send_many("q", [new()])
    assert not isinstance(result, str)
    assert isinstance(result.error, ResourceExhausted)


async def test_cancel_refuses_in_flight_and_removes_pending(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    a = await env.send()
    b = await env.send()
    await env.take(n=1)
    with pytest.raises(FailedPrecondition, match="in flight"):
        await env.store.cancel("q", a)
    status = await env.store.cancel("q", b)
    assert status.state is MessageState.CANCELLED
    assert (await env.store.stats("q")).depth == 1
    with pytest.raises(NotFound):
        await env.store.cancel("q", b)


async def test_purge_keeps_what_is_in_flight(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    for _ in range(3):
        await env.send()
    ((_, ack, _),) = await env.take(n=1)
    assert await env.store.purge("q") == 2
    assert (await env.store.stats("q")).depth == 1
    assert await env.store.settle([ack]) == []


async def test_redrive_moves_dead_letters_back_to_their_source(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq", max_deliveries=1)
    await env.sub()
    await env.send(b"again")
    ((_, ack, _),) = await env.take()
    await env.store.requeue([ack], 0.0)
    assert await env.take() == []
    assert await env.store.redrive("dlq", "", 0) == (1, 0)
    assert await env.store.dead_letters("dlq", 10) == []
    (m,) = [decode(d) for _, d, _, _ in (await env.claim()).deliveries]
    assert m.payload == b"again"
    assert not m.HasField("dead_letter")
    assert m.queue == "q"


async def test_redrive_of_a_broadcast_copy_goes_back_to_its_subscription(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq")
    await env.sub("a")
    await env.sub("b")
    await env.send(guarantee=Guarantee.BROADCAST)
    ((_, ack, _),) = await env.take("a")
    await env.store.dead_letter([ack], "a failed")
    (letter,) = [decode(d) for d in await env.store.dead_letters("dlq", 10)]
    assert letter.dead_letter.subscription == "a"
    assert await env.store.redrive("dlq", "", 0) == (1, 0)
    assert len(await env.take("a")) == 1
    assert len(await env.take("b")) == 1  # b's own copy; the redriven one is a's only


async def test_deleting_a_subscription_cancels_its_copies_and_frees_its_leases(
    env: StoreEnv,
) -> None:
    await env.queue()
    await env.sub("a")
    await env.sub("b")
    bcast = await env.send(guarantee=Guarantee.BROADCAST)
    shared = await env.send()
    taken = await env.take("a")
    assert {m for m, _, _ in taken} == {bcast, shared}
    await env.store.delete_subscription("q", "a")
    ((_m, _, attempt),) = [t for t in await env.take("b") if t[0] == shared]
    assert attempt == 2
    status = await env.store.status("q", bcast)
    assert {c.subscription: c.state for c in status.copies}["a"] is MessageState.CANCELLED
    with pytest.raises(NotFound):
        await env.store.delete_subscription("q", "a")


async def test_deleting_a_queue_takes_its_messages_bindings_and_subscriptions(
    env: StoreEnv,
) -> None:
    await env.queue()
    await env.sub()
    await env.store.create_binding("orders.#", "q")
    await env.send()
    await env.take()
    await env.send()
    assert await env.store.delete_queue("q") == 2
    assert await env.store.list_bindings() == []
    await env.queue()
    assert await env.store.list_subscriptions("q") == []
    assert (await env.store.stats("q")).depth == 0


async def test_a_dead_letter_queue_in_use_cannot_be_deleted(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq")
    with pytest.raises(FailedPrecondition, match="dead-letter queue of"):
        await env.store.delete_queue("dlq")


async def test_concurrent_creates_of_one_name_let_exactly_one_win(env: StoreEnv) -> None:
    from broker.model import QueueConfig

    results = await asyncio.gather(
        *(env.store.create_queue(QueueConfig(name="dup")) for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, AlreadyExists)) == 4
    assert [c.name for c in await env.store.list_queues()] == ["dup"]


async def test_a_send_racing_a_delete_never_outlives_the_queue(env: StoreEnv) -> None:
    await env.queue()
    sends = env.send_many("q", [new() for _ in range(50)])
    delete = env.store.delete_queue("q")
    await asyncio.gather(sends, delete, return_exceptions=True)
    await env.queue()
    assert (await env.store.stats("q")).depth == 0
    if env.durable:  # and nothing brings them back
        await env.restart()
        assert (await env.store.stats("q")).depth == 0


async def test_the_kind_changes_only_while_empty(env: StoreEnv) -> None:
    await env.queue()
    await env.send()
    with pytest.raises(FailedPrecondition, match="empty"):
        await env.store.update_queue("q", {"kind": QueueKind.FIFO})
    await env.store.purge("q")
    config = await env.store.update_queue("q", {"kind": QueueKind.FIFO})
    assert config.kind is QueueKind.FIFO


async def test_peek_changes_nothing_and_follows_delivery_order(env: StoreEnv) -> None:
    await env.queue(kind=QueueKind.PRIORITY)
    await env.sub()
    low = await env.send(priority=1)
    high = await env.send(priority=9)
    peeked = await env.store.peek("q", 10)
    assert [decode(p.data).id for p in peeked] == [high, low]
    assert all(p.state is MessageState.PENDING and p.attempts == 0 for p in peeked)
    assert (await env.store.stats("q")).ready == 2


async def test_stats_count_states_and_events(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    for _ in range(3):
        await env.send()
    await env.send(delay_s=10.0)
    ((_, ack, _), (_, nack, _)) = await env.take(n=2)
    await env.store.settle([ack])
    await env.store.requeue([nack], None)
    env.advance(1.0)
    stats = await env.store.stats("q")
    assert (stats.ready, stats.delayed, stats.in_flight, stats.depth) == (2, 1, 0, 3)
    assert (stats.sent, stats.delivered, stats.acked, stats.nacked) == (4, 2, 1, 1)
    assert stats.oldest_age_s == 1.0
    assert stats.subscriptions == 1
