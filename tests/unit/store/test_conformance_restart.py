"""Conformance for stores that keep state: what a restart must bring back (SPEC §6).

Each test makes state, restarts the store on the same data (``StoreEnv.restart``, for every
store in ``DURABLE_STORES``) and checks it through the verbs. Leases do not survive: a message
in flight at the stop comes back with its attempt counted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from store_harness import Clock, StoreEnv, decode, new

from broker.model import Backoff, Guarantee, QueueConfig, QueueKind
from broker.store.durable import DurableStore, records
from broker.wal import WalReader
from conveyor.wal.v2 import records_pb2


async def test_configuration_survives(durable_env: StoreEnv) -> None:
    await durable_env.queue("dlq")
    jobs = await durable_env.queue(
        "jobs",
        kind=QueueKind.FIFO,
        lease_s=7.0,
        max_deliveries=3,
        dead_letter_queue="dlq",
        backoff=Backoff(delays_s=(1.0, 5.0)),
    )
    await durable_env.queue("gone")
    await durable_env.store.create_binding("jobs.#", "jobs")
    await durable_env.store.create_binding("x.*", "gone")
    await durable_env.sub("workers", queue="jobs", filter_="jobs.eu.*")
    jobs = await durable_env.store.update_queue("jobs", {"lease_s": 9.0})
    await durable_env.store.delete_queue("gone")
    await durable_env.restart()
    assert [q.name for q in await durable_env.store.list_queues()] == ["dlq", "jobs"]
    assert await durable_env.store.get_queue("jobs") == jobs
    assert await durable_env.store.list_bindings() == [("jobs.#", "jobs")]
    (sub,) = await durable_env.store.list_subscriptions("jobs")
    assert (sub.name, sub.filter) == ("workers", "jobs.eu.*")


async def test_messages_survive_and_leases_come_back_expired(durable_env: StoreEnv) -> None:
    await durable_env.queue()
    await durable_env.sub()
    ids = [await durable_env.send(b"%d" % i) for i in range(4)]
    ((_, acked, _), (_, held, _)) = await durable_env.take(n=2)
    await durable_env.store.settle([acked])
    await durable_env.restart()
    stats = await durable_env.store.stats("q")
    assert (stats.depth, stats.in_flight, stats.ready) == (3, 0, 3)
    assert await durable_env.store.settle([held]) == [held]  # leases do not survive
    got = {m: attempt for m, _, attempt in await durable_env.take()}
    assert got == {ids[1]: 2, ids[2]: 1, ids[3]: 1}
    assert (await durable_env.store.status("q", ids[1])).attempts == 2


async def test_attempts_before_a_restart_count_toward_max_deliveries(durable_env: StoreEnv) -> None:
    await durable_env.queue("dlq")
    await durable_env.queue(max_deliveries=2, dead_letter_queue="dlq")
    await durable_env.sub()
    await durable_env.send(b"poison")
    await durable_env.take()
    await durable_env.restart()
    ((_, _, attempt),) = await durable_env.take()
    assert attempt == 2
    await durable_env.restart()  # the second lease cut short uses up the last delivery
    assert await durable_env.take() == []
    (letter,) = [decode(d) for d in await durable_env.store.dead_letters("dlq", 10)]
    assert (letter.payload, letter.dead_letter.attempts) == (b"poison", 2)


async def test_fifo_order_delays_and_nack_delays_survive(durable_env: StoreEnv) -> None:
    await durable_env.queue(kind=QueueKind.FIFO)
    await durable_env.sub()
    a = [await durable_env.send(b"a%d" % i, ordering_key="a") for i in range(3)]
    later = await durable_env.send(b"later", ordering_key="z", delay_s=100.0)
    ((_, ack, _),) = [t for t in await durable_env.take() if t[0] == a[0]]
    await durable_env.store.requeue([ack], 50.0)
    await durable_env.restart()
    assert await durable_env.take() == []
    durable_env.advance(50.0)
    assert [(m, n) for m, _, n in await durable_env.take(lease=1000.0)] == [(a[0], 2)]
    durable_env.advance(50.0)
    assert [m for m, _, _ in await durable_env.take(lease=1000.0)] == [later]


async def test_dedup_ids_survive_even_for_acked_messages(durable_env: StoreEnv) -> None:
    await durable_env.queue(dedup_window_s=60.0)
    await durable_env.sub()
    first = await durable_env.send(dedup_id="order-1")
    ((_, ack, _),) = await durable_env.take()
    await durable_env.store.settle([ack])
    await durable_env.restart()
    (dup,) = await durable_env.send_many("q", [new(dedup_id="order-1")])
    assert not isinstance(dup, str)
    assert (dup.duplicate, dup.message_id) == (True, first)


async def test_broadcast_acks_per_subscription_survive(durable_env: StoreEnv) -> None:
    await durable_env.queue()
    await durable_env.sub("a")
    await durable_env.sub("b")
    mid = await durable_env.send(guarantee=Guarantee.BROADCAST)
    ((_, ack, _),) = await durable_env.take("a")
    await durable_env.store.settle([ack])
    await durable_env.restart()
    assert await durable_env.take("a") == []
    ((got, ack, _),) = await durable_env.take("b")
    assert got == mid
    await durable_env.store.settle([ack])
    assert (await durable_env.store.stats("q")).depth == 0


async def test_ids_are_not_reused_after_a_restart(durable_env: StoreEnv) -> None:
    await durable_env.queue()
    await durable_env.sub()
    before = await durable_env.send()
    ((_, ack, _),) = await durable_env.take()
    await durable_env.store.settle([ack])
    await durable_env.restart()
    assert int(await durable_env.send(), 16) > int(before, 16)


# -- snapshots: the same state whether it comes from the log or from a snapshot and the log


async def _scenario(store: DurableStore, clock: Clock, checkpoint_at: int | None) -> None:
    await store.create_queue(QueueConfig(name="dlq"))
    await store.create_queue(
        QueueConfig(name="q", max_deliveries=3, dead_letter_queue="dlq", dedup_window_s=600.0)
    )
    await store.subscription("q", "s", "")
    await store.subscription("q", "t", "")
    for round_ in range(6):
        await store.publish(
            "q",
            [new(b"r%d-%d" % (round_, i), dedup_id=f"d{round_}-{i}") for i in range(5)]
            + [new(b"b%d" % round_, guarantee=Guarantee.BROADCAST)],
        )
        claim = await store.claim("q", "s", 4, 0, 30.0)
        acks = [d[0] for d in claim.deliveries]
        await store.settle(acks[:2])
        await store.requeue(acks[2:3], 5.0)
        clock.now += 1.0
        if round_ + 1 == checkpoint_at:
            await store.checkpoint()


async def _fingerprint(store: DurableStore) -> list[object]:
    out: list[object] = []
    for queue in ("q", "dlq"):
        peeked = await store.peek(queue, 1000)
        out.append(
            sorted(
                (decode(p.data).payload, p.state.name, p.attempts, round(p.due_in_s, 3))
                for p in peeked
            )
        )
        s = await store.stats(queue)
        out.append((s.depth, s.ready, s.delayed, s.in_flight))
    return out


@pytest.mark.parametrize("checkpoint_at", [1, 3, 6])
async def test_a_snapshot_plus_log_restores_what_the_log_alone_does(
    tmp_path: Path, checkpoint_at: int
) -> None:
    prints = []
    for name, at in (("log", None), ("snap", checkpoint_at)):
        clock = Clock()
        store = DurableStore(tmp_path / name, clock=clock, run_timers=False)
        await store.open()
        await _scenario(store, clock, at)
        await store.close()
        store = DurableStore(tmp_path / name, clock=clock, run_timers=False)
        await store.open()
        try:
            prints.append(await _fingerprint(store))
            (dup,) = await store.publish("q", [new(dedup_id="d0-0")])
            assert not isinstance(dup, str)
            assert dup.duplicate
        finally:
            await store.close()
    assert prints[0] == prints[1]
    assert prints[0][1][0] > 0  # not vacuous: messages were live


async def test_a_checkpoint_deletes_the_log_it_covers(tmp_path: Path) -> None:
    clock = Clock()
    store = DurableStore(tmp_path, clock=clock, run_timers=False, segment_bytes=4096)
    await store.open()
    await store.create_queue(QueueConfig(name="q"))
    await store.subscription("q", "s", "")
    for _ in range(20):
        await store.publish("q", [new(b"x" * 200) for _ in range(10)])
        claim = await store.claim("q", "s", 10, 0, 30.0)
        await store.settle([d[0] for d in claim.deliveries])
    before = len(list((tmp_path / "wal").glob("*.wal")))
    await store.publish("q", [new(b"live")])
    await store.checkpoint()
    await store.publish("q", [new(b"after")])  # cuts to a new segment: old ones can go
    await store.checkpoint()
    after = len(list((tmp_path / "wal").glob("*.wal")))
    await store.close()
    assert before > 5, before
    assert after <= 2, after
    store = DurableStore(tmp_path, clock=clock, run_timers=False)
    await store.open()
    try:
        claim = await store.claim("q", "s", 10, 0, 30.0)
        assert sorted(decode(d).payload for _, d, _, _ in claim.deliveries) == [b"after", b"live"]
    finally:
        await store.close()


async def test_fire_and_forget_changes_write_no_message_records(durable_env: StoreEnv) -> None:
    """Fire-and-forget messages never reach the log: not their publish, their attempt, their
    ack, their nack or their expiry; the at-least-once message beside them does."""
    store = durable_env.store
    assert isinstance(store, DurableStore)
    await durable_env.queue()
    await durable_env.sub()
    fnf = Guarantee.FIRE_AND_FORGET
    kept, *_ = await durable_env.send_many(
        "q", [new(b"kept"), new(b"a", guarantee=fnf), new(b"b", guarantee=fnf)]
    )
    await durable_env.send(b"brief", guarantee=fnf, ttl_s=1.0)
    (_, _, _), (_, acked, _) = await durable_env.take(n=2)  # kept, a
    assert await store.settle([acked]) == []
    ((_, nacked, _),) = await durable_env.take(n=1)  # b
    assert await store.requeue([nacked], 0.0) == []
    durable_env.advance(1.0)  # "brief" expires
    wal_dir = store.wal_dir
    await store.close()
    message_records = [
        (kind, body) for _, kind, body in WalReader(wal_dir) if kind >= records.PUBLISHED
    ]
    assert [kind for kind, _ in message_records] == [records.PUBLISHED, records.CLAIMED]
    published = records_pb2.Published.FromString(message_records[0][1])
    claimed = records_pb2.Claimed.FromString(message_records[1][1])
    assert len(published.seqs) == 1
    assert list(claimed.seqs) == list(published.seqs)
    (data,) = store.at_rest.decode(  # as written: sealed and compressed where configured
        "q", list(published.seqs), published.messages, published.codecs, published.sealed_key
    )
    assert decode(data).id == kept


async def test_fire_and_forget_is_not_kept_by_a_snapshot(durable_env: StoreEnv) -> None:
    store = durable_env.store
    assert isinstance(store, DurableStore)
    await durable_env.queue()
    await durable_env.sub()
    kept = await durable_env.send(b"kept")
    await durable_env.send(b"lost", guarantee=Guarantee.FIRE_AND_FORGET)
    await store.checkpoint()
    await durable_env.restart()
    assert [mid for mid, _, _ in await durable_env.take()] == [kept]
