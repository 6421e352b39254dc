"""Two PostgresStore instances on one database, in process: what one changes reaches the
other's listener by LISTEN/NOTIFY (polling is set to a minute here, so nothing else could
deliver it in time); one leader runs the sweeps and another takes over when it goes; payload
partitions are made ahead and dropped once nothing refers to them."""

from __future__ import annotations

import asyncio

import asyncpg
from pg_cluster import Cluster

from broker.model import MessageState, QueueConfig
from broker.store.base import MessageStatus, NewMessage
from broker.store.postgres import PostgresStore, schema
from broker.store.postgres.sweep import rotate


class Heard:
    def __init__(self) -> None:
        self.ready: list[tuple[str, str]] = []
        self.statuses: list[MessageStatus] = []

    def ready_signal(self, queue: str, subscription: str) -> None:
        self.ready.append((queue, subscription))

    def changed(self, status: MessageStatus) -> None:
        self.statuses.append(status)


class _Listener:
    def __init__(self, heard: Heard) -> None:
        self.heard = heard

    def ready(self, queue: str, subscription: str) -> None:
        self.heard.ready_signal(queue, subscription)

    def changed(self, status: MessageStatus) -> None:
        self.heard.changed(status)


async def opened(dsn: str) -> tuple[PostgresStore, Heard]:
    store = PostgresStore(dsn, poll_s=60.0, sweep_s=0.05)
    heard = Heard()
    store.listen(_Listener(heard))
    await store.open()
    return store, heard


async def eventually(check: object, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():  # type: ignore[operator]
        assert loop.time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.01)


def msg(payload: bytes = b"x") -> NewMessage:
    from conveyor.v1 import types_pb2

    return NewMessage(types_pb2.Message(payload=payload).SerializeToString(), "", len(payload))


async def test_changes_on_one_server_reach_the_others_listener(postgres_cluster: Cluster) -> None:
    dsn = postgres_cluster.database()
    a, heard_a = await opened(dsn)
    b, heard_b = await opened(dsn)
    try:
        await a.create_queue(QueueConfig(name="q"))
        await a.subscription("q", "s", "")
        await eventually(lambda: ("q", "s") in heard_b.ready)  # a new subscription
        heard_b.ready.clear()
        (mid,) = await a.publish("q", [msg()])
        await eventually(lambda: ("q", "s") in heard_b.ready)
        assert isinstance(mid, str)
        first = await b.watch("q", mid)
        assert first.state is MessageState.PENDING
        claim = await a.claim("q", "s", 10, 0, 30.0)
        await eventually(lambda: [s.state for s in heard_b.statuses] == [MessageState.IN_FLIGHT])
        assert await a.settle([claim.deliveries[0][0]]) == []
        await eventually(lambda: heard_b.statuses[-1].state is MessageState.DELIVERED)
        assert heard_b.statuses[-1].acked_by == ("s",)
        assert not heard_a.statuses  # a watches nothing
        b.unwatch("q", mid)
    finally:
        await a.close()
        await b.close()


async def test_one_leader_sweeps_and_another_takes_over(postgres_cluster: Cluster) -> None:
    dsn = postgres_cluster.database()
    a, _ = await opened(dsn)
    b, heard_b = await opened(dsn)
    try:
        await eventually(lambda: a._background.leader or b._background.leader)
        await asyncio.sleep(0.2)
        assert [a._background.leader, b._background.leader].count(True) == 1
        leader, other, heard = (a, b, heard_b) if a._background.leader else (b, a, None)
        await leader.close()
        await eventually(lambda: other._background.leader)
        await other.create_queue(QueueConfig(name="q"))
        await other.subscription("q", "s", "")
        await other.claim("q", "s", 10, 0, 30.0)
        (mid,) = await other.publish("q", [msg()])
        assert isinstance(mid, str)
        claim = await other.claim("q", "s", 10, 0, 0.2)
        again: list[int] = []

        async def reclaimed() -> bool:  # once the new leader has expired the lease
            again.extend(d[2] for d in (await other.claim("q", "s", 10, 0, 30.0)).deliveries)
            return bool(again)

        for _ in range(100):
            if await reclaimed():
                break
            await asyncio.sleep(0.05)
        assert again == [2]
        assert await other.settle([claim.deliveries[0][0]]) == [claim.deliveries[0][0]]
        del heard
    finally:
        await a.close()
        await b.close()


async def test_payload_partitions_rotate(postgres_cluster: Cluster) -> None:
    dsn = postgres_cluster.database()
    store = PostgresStore(dsn, run_timers=False)
    await store.open()
    conn = await asyncpg.connect(dsn)
    try:
        await store.create_queue(QueueConfig(name="q"))
        await store.subscription("q", "s", "")
        (kept,) = await store.publish("q", [msg(b"old")])
        assert isinstance(kept, str)
        size = schema.PARTITION_SEQS
        first = int(kept, 16) // size * size
        await conn.execute("SELECT setval('conveyor_seq', $1)", first + 3 * size)
        await rotate(conn)
        names = {
            r["relname"]
            for r in await conn.fetch(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'conveyor_messages'::regclass"
            )
        }
        made = {f"conveyor_messages_{first + k * size:x}" for k in (4, 5)}
        assert made <= names  # two ahead of the newest id
        assert f"conveyor_messages_{first:x}" in names  # a live message still refers to it
        assert f"conveyor_messages_{first + size:x}" not in names  # empty and old: dropped
        (new,) = await store.publish("q", [msg(b"new")])
        assert isinstance(new, str)
        assert int(new, 16) >= first + 3 * size
        got = await store.claim("q", "s", 10, 0, 30.0)
        assert len(got.deliveries) == 2
        assert await store.settle([d[0] for d in got.deliveries]) == []
        # Finished units go once past status retention; then the old partition can go too.
        await conn.execute("UPDATE conveyor_units SET changed = changed - 7200")
        await store.sweep()
        await rotate(conn)
        left = await conn.fetchval(
            "SELECT count(*) FROM pg_class WHERE relname = $1", f"conveyor_messages_{first:x}"
        )
        assert left == 0
    finally:
        await conn.close()
        await store.close()
