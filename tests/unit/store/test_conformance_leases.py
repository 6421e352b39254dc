"""Conformance: leases, acks by ack id, retries, backoff, max deliveries, windows (SPEC §2-§3)."""

from __future__ import annotations

import pytest
from store_harness import StoreEnv, decode

from broker.errors import NotFound
from broker.model import Backoff


async def test_an_ack_ends_the_message_and_a_second_ack_is_reported(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    await env.send()
    ((_, ack, _),) = await env.take()
    assert await env.store.settle([ack]) == []
    assert await env.store.settle([ack, "not-an-ack-id", "q:1:0:1"]) == [
        ack,
        "not-an-ack-id",
        "q:1:0:1",
    ]
    stats = await env.store.stats("q")
    assert (stats.depth, stats.acked) == (0, 1)


async def test_lease_expiry_redelivers_and_refuses_the_old_ack_id(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    mid = await env.send()
    ((_, old, attempt),) = await env.take(lease=10.0)
    assert attempt == 1
    env.advance(10.0)
    ((again, new_ack, attempt),) = await env.take(lease=10.0)
    assert (again, attempt) == (mid, 2)
    assert new_ack != old
    assert await env.store.settle([old]) == [old]
    assert await env.store.settle([new_ack]) == []


async def test_retry_backoff_delays_redelivery(env: StoreEnv) -> None:
    await env.queue(backoff=Backoff(delays_s=(5.0, 30.0)))
    await env.sub()
    await env.send()
    ((_, ack, _),) = await env.take()
    assert await env.store.requeue([ack], None) == []
    assert await env.take() == []
    assert (await env.store.stats("q")).delayed == 1
    env.advance(5.0)
    ((_, ack, attempt),) = await env.take()
    assert attempt == 2
    await env.store.requeue([ack], None)
    env.advance(29.0)
    assert await env.take() == []
    env.advance(1.0)
    assert len(await env.take()) == 1


async def test_max_deliveries_dead_letters_with_a_reason(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(max_deliveries=2, dead_letter_queue="dlq")
    await env.sub()
    mid = await env.send(b"poison")
    for _ in range(2):
        ((_, ack, _),) = await env.take()
        await env.store.requeue([ack], 0.0)
    assert await env.take() == []
    status = await env.store.status("q", mid)
    assert status.state.name == "DEAD_LETTERED"
    (letter,) = [decode(d) for d in await env.store.dead_letters("dlq", 10)]
    assert letter.payload == b"poison"
    assert letter.dead_letter.source_queue == "q"
    assert letter.dead_letter.source_message_id == mid
    assert letter.dead_letter.attempts == 2
    assert letter.dead_letter.reason == "max deliveries exceeded"
    assert letter.id != mid
    assert letter.queue == "dlq"


async def test_a_lease_that_expires_counts_toward_max_deliveries(env: StoreEnv) -> None:
    await env.queue(max_deliveries=1)
    await env.sub()
    await env.send()
    await env.take(lease=1.0)
    env.advance(1.0)
    assert await env.take() == []
    stats = await env.store.stats("q")
    assert (stats.depth, stats.dead_lettered) == (0, 1)


async def test_a_consumer_that_went_away_is_not_a_failure(env: StoreEnv) -> None:
    await env.queue(max_deliveries=1)
    await env.sub()
    await env.send()
    ((_, ack, _),) = await env.take()
    assert await env.store.requeue([ack], 0.0, failure=False) == []
    ((_, _, attempt),) = await env.take()
    assert attempt == 2  # the attempt is counted, but was not a failure


async def test_nack_straight_to_dead_letters(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq")
    await env.sub()
    await env.send()
    ((_, ack, _),) = await env.take()
    assert await env.store.dead_letter([ack], "bad json") == []
    (letter,) = [decode(d) for d in await env.store.dead_letters("dlq", 10)]
    assert letter.dead_letter.reason == "bad json"
    assert (await env.store.stats("q")).dead_lettered == 1


async def test_extend_keeps_the_lease_and_zero_ends_it(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    await env.send()
    await env.send()
    ((_, a, _), (_, b, _)) = await env.take(lease=5.0)
    env.advance(4.0)
    assert await env.store.extend([a, "bogus"], 30.0) == ["bogus"]
    env.advance(2.0)  # b's lease ran out; a's was extended
    assert await env.store.settle([b]) == [b]
    ((_, b2, attempt),) = await env.take()
    assert attempt == 2
    assert await env.store.extend([b2], 0.0) == []
    ((_, _, attempt),) = await env.take()
    assert attempt == 3
    assert await env.store.settle([a]) == []


async def test_a_byte_window_binds_but_an_oversized_first_message_still_flows(
    env: StoreEnv,
) -> None:
    await env.queue()
    await env.sub()
    for size in (60, 60, 500):
        await env.send(b"x" * size)
    first = await env.claim(max_bytes=100)
    assert [d[3] for d in first.deliveries] == [60]
    # A consumer that still holds something is held to its window.
    assert (await env.claim(max_bytes=10, oversized_first=False)).deliveries == []
    second = await env.claim(max_bytes=100)
    assert [d[3] for d in second.deliveries] == [60]
    third = await env.claim(max_bytes=100)
    assert [d[3] for d in third.deliveries] == [500]  # larger than the window, alone


async def test_claims_respect_the_message_budget_and_share_one_deadline(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    for _ in range(5):
        await env.send()
    claim = await env.claim(n=3, lease=7.0)
    assert len(claim.deliveries) == 3
    assert claim.deadline == env.clock.now + 7.0
    assert len((await env.claim(n=10)).deliveries) == 2


async def test_a_claim_of_an_unknown_subscription_is_not_found(env: StoreEnv) -> None:
    await env.queue()
    with pytest.raises(NotFound, match="subscription"):
        await env.claim("nobody")
    with pytest.raises(NotFound, match="queue"):
        await env.claim(queue="nowhere")
