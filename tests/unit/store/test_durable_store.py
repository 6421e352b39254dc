"""The durable store through the core: state written by one broker is what the next one sees.

In-process restarts on the same data directory (clean stops, so every entry is flushed); the
kill -9 cases run against the real server process in tests/faults.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from broker.core import Broker, MessageInput
from broker.errors import FailedPrecondition
from broker.model import Backoff, Guarantee, MessageState, QueueConfig, QueueKind
from broker.store.durable import DurableStore


@asynccontextmanager
async def running(data: Path, **store_args: object) -> AsyncIterator[Broker]:
    broker = Broker(DurableStore(data, **store_args))  # type: ignore[arg-type]
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def wait_for(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not predicate():  # noqa: ASYNC110 - polls a background task, test-only
            await asyncio.sleep(0.01)


async def test_configuration_survives_a_restart(tmp_path: Path) -> None:
    async with running(tmp_path) as b:
        await b.create_queue(QueueConfig(name="dlq"))
        await b.create_queue(
            QueueConfig(
                name="jobs",
                kind=QueueKind.FIFO,
                lease_s=7.0,
                max_deliveries=3,
                dead_letter_queue="dlq",
                backoff=Backoff(delays_s=(1.0, 5.0)),
            )
        )
        await b.create_queue(QueueConfig(name="gone"))
        await b.create_binding("jobs.#", "jobs")
        await b.create_binding("x.*", "gone")
        await b.subscription("jobs", "workers", "jobs.eu.*")
        await b.update_queue("jobs", {"lease_s": 9.0})
        await b.delete_queue("gone")
        before = b.engine("jobs").config
    async with running(tmp_path) as b:
        assert sorted(b.queues) == ["dlq", "jobs"]
        assert b.engine("jobs").config == before
        assert b.engine("jobs").config.lease_s == 9.0
        assert b.list_bindings() == [("jobs.#", "jobs")]
        assert b.engine("jobs").subs["workers"].filter == "jobs.eu.*"
        with pytest.raises(FailedPrecondition):
            await b.subscription("jobs", "workers", "other.*")


async def test_messages_and_their_progress_survive_a_restart(tmp_path: Path) -> None:
    async with running(tmp_path) as b:
        await b.create_queue(QueueConfig(name="dlq"))
        await b.create_queue(QueueConfig(name="q", max_deliveries=5, dead_letter_queue="dlq"))
        sent = await b.send(
            "q", [MessageInput(topic=f"t.{i}", payload=b"p%d" % i) for i in range(4)]
        )
        delayed = await b.send("q", [MessageInput(payload=b"later", delay_s=3600)])
        ids = [o.message_id for o in sent]
        first = await b.pull("q", "s", "", 3, 0, 30)
        assert [c.msg.id for c in first] == ids[:3]
        assert await b.ack([first[0].ack_id]) == []
        assert await b.nack([first[1].ack_id], None, True, "poison") == []
        # first[2] stays leased: a restart treats its lease as expired, attempt counted.
    async with running(tmp_path) as b:
        q = b.engine("q")
        assert set(q.messages) == {ids[2], ids[3], delayed[0].message_id}
        assert q.messages[ids[2]].copies[0].attempts == 1
        assert b.stats("q").delayed == 1
        again = await b.pull("q", "s", "", 10, 0, 30)
        assert [(c.msg.id, c.attempts) for c in again] == [(ids[2], 2), (ids[3], 1)]
        assert b.status("q", delayed[0].message_id).state is MessageState.PENDING
        [dead] = b.list_dead_letters("dlq", 10)
        assert dead.dead_letter is not None
        assert (dead.dead_letter.reason, dead.dead_letter.source_message_id) == ("poison", ids[1])
        assert dead.payload == b"p1"


async def test_max_deliveries_counts_attempts_across_restarts(tmp_path: Path) -> None:
    async with running(tmp_path) as b:
        await b.create_queue(QueueConfig(name="dlq"))
        await b.create_queue(QueueConfig(name="q", max_deliveries=2, dead_letter_queue="dlq"))
        await b.send("q", [MessageInput(payload=b"x")])
        await b.pull("q", "s", "", 1, 0, 30)
    async with running(tmp_path) as b:
        [again] = await b.pull("q", "s", "", 1, 0, 30)
        assert again.attempts == 2
    async with running(tmp_path) as b:  # second lease expired by a restart: the limit
        assert not b.engine("q").messages
        [dead] = b.list_dead_letters("dlq", 10)
        assert dead.dead_letter is not None
        assert dead.dead_letter.reason == "max deliveries exceeded"


async def test_broadcast_copies_keep_their_own_progress(tmp_path: Path) -> None:
    async with running(tmp_path) as b:
        await b.create_queue(QueueConfig(name="q"))
        for sub in ("a", "b"):
            await b.subscription("q", sub, "")
        [out] = await b.send("q", [MessageInput(topic="t", guarantee=Guarantee.BROADCAST)])
        [got] = await b.pull("q", "a", "", 1, 0, 30)
        await b.ack([got.ack_id])
    async with running(tmp_path) as b:
        status = b.status("q", out.message_id)
        assert status.acked_by == ["a"]
        assert await b.pull("q", "a", "", 1, 0, 30) == []
        [for_b] = await b.pull("q", "b", "", 1, 0, 30)
        await b.ack([for_b.ack_id])
        assert b.status("q", out.message_id).state is MessageState.DELIVERED


async def test_fifo_order_survives_a_restart(tmp_path: Path) -> None:
    async with running(tmp_path) as b:
        await b.create_queue(QueueConfig(name="q", kind=QueueKind.FIFO))
        sent = await b.send(
            "q", [MessageInput(payload=b"%d" % i, ordering_key="k") for i in range(3)]
        )
    async with running(tmp_path) as b:
        order = []
        for _ in range(3):
            [c] = await b.pull("q", "s", "", 10, 0, 30)
            order.append(c.msg.id)
            await b.ack([c.ack_id])
        assert order == [o.message_id for o in sent]


async def test_checkpoints_bound_the_log_and_recovery_matches(tmp_path: Path) -> None:
    args = {"segment_bytes": 8 * 1024, "checkpoint_bytes": 32 * 1024}
    async with running(tmp_path, **args) as b:
        await b.create_queue(QueueConfig(name="q"))
        kept: list[str] = []
        for round_ in range(40):
            out = await b.send("q", [MessageInput(payload=b"x" * 200) for _ in range(20)])
            kept += [o.message_id for o in out]
            taken = await b.pull("q", "s", "", 15, 0, 30)
            await b.ack([c.ack_id for c in taken])
            acked = {c.msg.id for c in taken}
            kept = [i for i in kept if i not in acked]
            if round_ % 10 == 0:
                await asyncio.sleep(0)
        store = b.store
        assert isinstance(store, DurableStore)
        await wait_for(lambda: store.checkpoints > 0)
    wal = tmp_path / "wal"
    assert list(wal.glob("*.snap"))
    assert len(list(wal.glob("*.wal"))) < 10
    async with running(tmp_path, **args) as b:
        assert sorted(b.engine("q").messages) == sorted(kept)


async def test_a_second_server_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    async with running(tmp_path):
        other = DurableStore(tmp_path)
        with pytest.raises(FailedPrecondition, match="in use"):
            await other.recover()
