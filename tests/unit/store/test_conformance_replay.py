"""Conformance: retention of acked messages, start positions, seek, and finished statuses.

Every store: acked messages kept per ``retain_acked_s`` / ``retain_acked_bytes``, replayed to a
new subscription (ALL, FROM_TIME; NEW replays nothing) or by ``seek``; retention expiry and
the byte budget. Durable stores: all of it, and a finished message's status, across a restart
(from the log, and from a snapshot).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

import pytest
from store_harness import START, StoreEnv, decode

from broker.errors import InvalidArgument, NotFound, Unimplemented
from broker.model import Guarantee, MessageState, QueueKind, StartPosition
from broker.store.durable import checkpoint, records
from broker.wal import SnapshotWriter
from conveyor.wal.v2 import records_pb2


async def _require_replay(env: StoreEnv) -> None:
    """Stores that do not offer retention yet (their verbs raise Unimplemented) skip."""
    try:
        await env.store.seek("no-such-queue", "s", START)
    except Unimplemented:
        pytest.skip(f"{type(env.store).__name__} has no retention and replay yet")
    except NotFound:
        pass


async def _acked_three(env: StoreEnv, **config: object) -> list[str]:
    """Queue q retaining acked messages, subscription s; three messages 10 s apart, acked."""
    await _require_replay(env)
    await env.queue(**({"retain_acked_s": 600.0} | config))
    await env.sub()
    ids = []
    for i in range(3):
        ids.append(await env.send(b"m%d" % i))
        env.advance(10)
    taken = await env.take()
    assert [t[0] for t in taken] == ids
    assert await env.store.settle([a for _, a, _ in taken]) == []
    return ids


async def test_acked_messages_are_retained_and_counted(env: StoreEnv) -> None:
    await _acked_three(env)
    stats = await env.store.stats("q")
    assert (stats.retained, stats.retained_bytes, stats.depth) == (3, 6, 0)


async def test_queues_without_retention_keep_nothing(env: StoreEnv) -> None:
    await _acked_three(env, retain_acked_s=0.0)
    assert (await env.store.stats("q")).retained == 0
    await env.store.start_subscription("q", "late", "", StartPosition.ALL)
    assert await env.take("late") == []


async def test_start_positions(env: StoreEnv) -> None:
    ids = await _acked_three(env)
    pending = await env.send(b"pending")
    await env.store.start_subscription("q", "all", "", StartPosition.ALL)
    await env.store.start_subscription("q", "new", "", StartPosition.NEW)
    await env.store.start_subscription("q", "from", "", StartPosition.FROM_TIME, START + 10)
    got_all = [t for t in await env.take("all")]
    assert sorted(m for m, _, _ in got_all) == sorted([*ids, pending])
    assert all(attempt == 1 for _, _, attempt in got_all)
    assert await env.take("new") == []  # the pending one went to "all" (shared)
    assert [m for m, _, _ in await env.take("from")] == ids[1:]
    # An existing subscription is not moved by a start position.
    await env.store.start_subscription("q", "from", "", StartPosition.ALL)
    assert await env.take("from") == []


async def test_replayed_messages_keep_id_and_bytes(env: StoreEnv) -> None:
    ids = await _acked_three(env)
    await env.store.start_subscription("q", "late", "", StartPosition.ALL)
    claim = await env.claim("late")
    got = [decode(d) for _, d, _, _ in claim.deliveries]
    assert [(m.id, m.payload) for m in got] == [(ids[i], b"m%d" % i) for i in range(3)]
    assert [m.publish_time.seconds for m in got] == [int(START) + 10 * i for i in range(3)]
    await env.store.settle([a for a, _, _, _ in claim.deliveries])
    assert (await env.store.stats("q")).retained == 3  # retained once, not twice
    status = await env.store.status("q", ids[0])
    assert status.state is MessageState.DELIVERED


async def test_start_from_time_needs_a_time(env: StoreEnv) -> None:
    await _require_replay(env)
    await env.queue(retain_acked_s=60.0)
    with pytest.raises(InvalidArgument):
        await env.store.start_subscription("q", "x", "", StartPosition.FROM_TIME, 0.0)


async def test_filters_limit_what_is_replayed(env: StoreEnv) -> None:
    await _require_replay(env)
    await env.queue(retain_acked_s=60.0)
    await env.sub()
    a = await env.send(b"a", topic="eu.a")
    await env.send(b"b", topic="us.b")
    await env.store.settle([x for _, x, _ in await env.take()])
    await env.store.start_subscription("q", "eu", "eu.*", StartPosition.ALL)
    assert [m for m, _, _ in await env.take("eu")] == [a]


async def test_seek_backwards_replays_and_forwards_acks(env: StoreEnv) -> None:
    ids = await _acked_three(env)
    assert await env.store.seek("q", "s", START + 10) == (2, 0)
    assert [m for m, _, _ in await env.take()] == ids[1:]
    # Forwards: what is not acked yet before the time becomes acked.
    later = [await env.send(b"n%d" % i) for i in range(2)]
    env.advance(5)
    replayed, acked = await env.store.seek("q", "s", env.clock.now)
    assert (replayed, acked) == (0, 4)  # the two replays in flight and the two new ones
    assert await env.take() == []
    assert (await env.store.status("q", later[0])).state is MessageState.DELIVERED
    assert (await env.store.stats("q")).retained == 5


async def test_seek_on_a_fanout_copy_acks_only_that_subscription(env: StoreEnv) -> None:
    await _require_replay(env)
    await env.queue()
    await env.sub("a")
    await env.sub("b")
    mid = await env.send(b"x", guarantee=Guarantee.BROADCAST)
    env.advance(1)
    assert await env.store.seek("q", "a", env.clock.now) == (0, 1)
    assert await env.take("a") == []
    assert [m for m, _, _ in await env.take("b")] == [mid]


async def test_seek_names_an_existing_subscription(env: StoreEnv) -> None:
    await _require_replay(env)
    await env.queue(retain_acked_s=60.0)
    with pytest.raises(NotFound):
        await env.store.seek("q", "nobody", START)
    with pytest.raises(NotFound):
        await env.store.seek("nope", "s", START)


async def test_retention_expires(env: StoreEnv) -> None:
    await _acked_three(env, retain_acked_s=100.0)
    env.advance(99)
    assert (await env.store.stats("q")).retained == 3
    env.advance(2)
    assert (await env.store.stats("q")).retained == 0
    await env.store.start_subscription("q", "late", "", StartPosition.ALL)
    assert await env.take("late") == []


async def test_byte_budget_keeps_the_newest(env: StoreEnv) -> None:
    ids = await _acked_three(env, retain_acked_s=0.0, retain_acked_bytes=4)
    env.advance(10)  # time for housekeeping (the PostgreSQL leader's trim) to run
    stats = await env.store.stats("q")
    assert (stats.retained, stats.retained_bytes) == (2, 4)
    await env.store.start_subscription("q", "late", "", StartPosition.ALL)
    assert [m for m, _, _ in await env.take("late")] == ids[1:]


async def test_turning_retention_off_drops_what_was_kept(env: StoreEnv) -> None:
    await _acked_three(env)
    await env.store.update_queue("q", {"retain_acked_s": 0.0})
    assert (await env.store.stats("q")).retained == 0


async def test_fire_and_forget_is_never_retained(env: StoreEnv) -> None:
    await _require_replay(env)
    await env.queue(retain_acked_s=60.0)
    await env.sub()
    await env.send(b"f", guarantee=Guarantee.FIRE_AND_FORGET)
    await env.take()
    assert (await env.store.stats("q")).retained == 0


async def test_a_broadcast_is_retained_once_every_copy_is_acked(env: StoreEnv) -> None:
    await _require_replay(env)
    await env.queue(retain_acked_s=600.0)
    await env.sub("a")
    await env.sub("b")
    mid = await env.send(b"all", guarantee=Guarantee.BROADCAST)
    await env.store.settle([a for _, a, _ in await env.take("a")])
    assert (await env.store.stats("q")).retained == 0  # b has not acked yet
    await env.store.settle([a for _, a, _ in await env.take("b")])
    assert (await env.store.stats("q")).retained == 1
    await env.store.start_subscription("q", "late", "", StartPosition.ALL)
    assert [m for m, _, _ in await env.take("late")] == [mid]
    assert await env.take("a") == []  # a replay goes to the new subscription only


async def test_replays_to_two_subscriptions_reach_each_once(env: StoreEnv) -> None:
    ids = await _acked_three(env)
    await env.store.start_subscription("q", "x", "", StartPosition.ALL)
    await env.store.start_subscription("q", "y", "", StartPosition.ALL)
    assert await env.store.seek("q", "y", START) == (0, 0)  # already on its way to y
    taken_x = await env.take("x")
    taken_y = await env.take("y")
    assert [m for m, _, _ in taken_x] == [m for m, _, _ in taken_y] == ids
    assert await env.store.settle([a for _, a, _ in taken_x]) == []
    status = await env.store.status("q", ids[0])
    assert (status.state, status.required_acks) == (MessageState.IN_FLIGHT, 2)
    assert await env.store.settle([a for _, a, _ in taken_y]) == []
    assert (await env.store.status("q", ids[0])).state is MessageState.DELIVERED
    assert (await env.store.stats("q")).retained == 3


async def test_a_fifo_replay_keeps_each_keys_order(env: StoreEnv) -> None:
    await _require_replay(env)
    await env.queue(kind=QueueKind.FIFO, retain_acked_s=600.0)
    await env.sub()
    sent = [await env.send(b"%d" % i, ordering_key="k" if i % 2 else "j") for i in range(4)]
    while taken := await env.take(n=1):
        await env.store.settle([a for _, a, _ in taken])
    await env.store.start_subscription("q", "late", "", StartPosition.ALL)
    first = await env.take("late")
    assert [m for m, _, _ in first] == [sent[0], sent[1]]  # one head per key
    await env.store.settle([a for _, a, _ in first])
    assert [m for m, _, _ in await env.take("late")] == [sent[2], sent[3]]


# -- across restarts ------------------------------------------------------------------------


@pytest.mark.parametrize("snapshot", [False, True])
async def test_retention_and_replays_survive_a_restart(
    durable_env: StoreEnv, snapshot: bool
) -> None:
    ids = await _acked_three(durable_env)
    await durable_env.store.start_subscription("q", "late", "", StartPosition.ALL)
    ((first, ack, _), *_rest) = await durable_env.take("late", n=1)
    await durable_env.store.settle([ack])
    if snapshot:
        await durable_env.store.checkpoint()  # type: ignore[attr-defined]
    await durable_env.restart()
    stats = await durable_env.store.stats("q")
    assert (stats.retained, stats.depth) == (3, 2)
    assert first == ids[0]
    assert [m for m, _, _ in await durable_env.take("late")] == ids[1:]
    assert await durable_env.store.seek("q", "s", START) == (3, 0)
    await durable_env.restart()
    assert [m for m, _, _ in await durable_env.take("s")] == ids


@pytest.mark.parametrize("snapshot", [False, True])
async def test_retention_expiry_and_budget_hold_after_a_restart(
    durable_env: StoreEnv, snapshot: bool
) -> None:
    await _acked_three(durable_env, retain_acked_s=100.0, retain_acked_bytes=4)
    if snapshot:
        await durable_env.store.checkpoint()  # type: ignore[attr-defined]
    await durable_env.restart()
    assert (await durable_env.store.stats("q")).retained == 2
    durable_env.advance(101)
    assert (await durable_env.store.stats("q")).retained == 0
    await durable_env.restart()
    assert (await durable_env.store.stats("q")).retained == 0


@pytest.mark.parametrize("snapshot", [False, True])
async def test_finished_statuses_survive_a_restart(durable_env: StoreEnv, snapshot: bool) -> None:
    await durable_env.queue()
    await durable_env.sub()
    acked, nacked = await durable_env.send(b"a"), await durable_env.send(b"b")
    taken = {m: a for m, a, _ in await durable_env.take()}
    await durable_env.store.settle([taken[acked]])
    await durable_env.store.dead_letter([taken[nacked]], "bad")
    if snapshot:
        await durable_env.store.checkpoint()  # type: ignore[attr-defined]
    await durable_env.restart()
    done = await durable_env.store.status("q", acked)
    assert (done.state, done.attempts) == (MessageState.DELIVERED, 1)
    dead = await durable_env.store.status("q", nacked)
    assert dead.state is MessageState.DEAD_LETTERED
    with pytest.raises(NotFound):
        await durable_env.store.status("q", "ffffffffffffffff")  # never stored


async def test_finished_statuses_last_the_window(env: StoreEnv) -> None:
    await env.queue()
    await env.sub()
    mid = await env.send()
    await env.store.settle([a for _, a, _ in await env.take()])
    env.advance(3500)
    assert (await env.store.status("q", mid)).state is MessageState.DELIVERED
    env.advance(200)  # past the default window of an hour
    with pytest.raises(NotFound):
        await env.store.status("q", mid)


class _PausingSnapshot(SnapshotWriter):
    """A snapshot that stops after its ``pause_at``-th record of messages until released, so
    a test can settle messages while a checkpoint is half written (as a loaded server does
    between chunks)."""

    pause_at = 0
    reached: asyncio.Event
    release: threading.Event
    loop: asyncio.AbstractEventLoop

    def write(self, entries: Iterable[tuple[int, bytes]]) -> None:
        entries = list(entries)
        super().write(entries)
        for record_type, body in entries:
            if record_type == records.PUBLISHED and records_pb2.Published.FromString(body).seqs:
                type(self).pause_at -= 1
                if type(self).pause_at == 0:
                    self.loop.call_soon_threadsafe(self.reached.set)
                    assert self.release.wait(10)


@pytest.mark.parametrize("pause_at", [1, 2, 3])
async def test_messages_acked_during_a_checkpoint_stay_retained(
    durable_env: StoreEnv, monkeypatch: pytest.MonkeyPatch, pause_at: int
) -> None:
    """Two retained and two live messages, one per snapshot record; every live one is acked
    while the snapshot stops after its first, second or third record of messages. After a
    restart all four are retained (the log after the snapshot's cut point holds those acks)."""
    env = durable_env
    await _require_replay(env)
    await env.queue(retain_acked_s=3600.0)
    await env.sub()
    ids = [await env.send(b"m%d" % i) for i in range(4)]
    early = await env.take(n=2)
    assert await env.store.settle([a for _, a, _ in early]) == []
    late = await env.take(n=2)
    assert [m for m, _, _ in early + late] == ids
    monkeypatch.setattr(checkpoint, "CHUNK_MESSAGES", 1)
    monkeypatch.setattr(checkpoint, "SnapshotWriter", _PausingSnapshot)
    _PausingSnapshot.pause_at = pause_at
    _PausingSnapshot.reached = asyncio.Event()
    _PausingSnapshot.release = threading.Event()
    _PausingSnapshot.loop = asyncio.get_running_loop()
    task = asyncio.create_task(env.store.checkpoint())  # type: ignore[attr-defined]
    try:
        await asyncio.wait_for(_PausingSnapshot.reached.wait(), 10)
        assert await env.store.settle([a for _, a, _ in late]) == []
    finally:
        _PausingSnapshot.release.set()
        await task
    assert (await env.store.stats("q")).retained == 4
    await env.restart()
    stats = await env.store.stats("q")
    assert (stats.retained, stats.depth) == (4, 0)
    for mid in ids:
        assert (await env.store.status("q", mid)).state is MessageState.DELIVERED
    await env.store.start_subscription("q", "again", "", StartPosition.ALL)
    assert sorted(m for m, _, _ in await env.take("again")) == sorted(ids)
