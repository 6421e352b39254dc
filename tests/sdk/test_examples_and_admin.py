"""The runnable examples in clients/python/examples, and the admin helpers, against a real
server."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
from server_helpers import ServerProcess

from conveyor.v1 import types_pb2
from conveyor_client import AlreadyExists, AsyncClient, InvalidArgument, NotFound

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "clients" / "python" / "examples"


def run_example(name: str, server: ServerProcess, queue: str, count: int) -> list[str]:
    out = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / name),
            "--target",
            server.address,
            "--queue",
            queue,
            "--count",
            str(count),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return out.splitlines()


def test_publish_then_subscribe_examples(server: ServerProcess, qname: str) -> None:
    published = run_example("publish.py", server, qname, 5)
    assert len(published) == 5
    assert all(line.startswith("published ") for line in published)
    handled = run_example("subscribe.py", server, qname, 5)
    ids = {line.split()[1] for line in handled}
    assert ids == {line.split()[1] for line in published}


def test_sync_worker_example(server: ServerProcess, qname: str) -> None:
    from conveyor_client import Client

    with Client(server.address, timeout=10) as c:
        c.create_queue(qname)
    lines = run_example("sync_worker.py", server, qname, 4)
    assert sorted(lines) == [f"worked on {{'n': {n}}}" for n in range(4)]


async def test_admin_helpers_round_trip(server: ServerProcess, qname: str) -> None:
    dlq = f"{qname}-dlq"
    async with AsyncClient(server.address, timeout=10) as c:
        await c.create_queue(dlq)
        queue = await c.create_queue(
            qname, kind=types_pb2.QUEUE_KIND_FIFO, max_deliveries=1, dead_letter_queue=dlq
        )
        assert queue.kind == types_pb2.QUEUE_KIND_FIFO
        with pytest.raises(AlreadyExists):
            await c.create_queue(qname)
        with pytest.raises(InvalidArgument):
            await c.create_queue(f"{qname}-x", dead_letter_queue=f"{qname}-x")
        updated = await c.update_queue(qname, max_deliveries=2)
        assert updated.max_deliveries == 2
        assert qname in {q.name for q in await c.list_queues(prefix=qname)}

        await c.bind(f"{qname}.#", qname)
        assert [(b.pattern, b.queue) for b in await c.list_bindings(qname)] == [
            (f"{qname}.#", qname)
        ]
        await c.publish(f"{qname}.eu", b"routed", by_topic=True)
        (d,) = await c.pull(qname, "ops", wait=5)
        assert [s.name for s in await c.list_subscriptions(qname)] == ["ops"]
        assert await c.nack([d.ack_id], dead_letter=True, reason="inspected by hand") == []
        (dead,) = await c.list_dead_letters(dlq)
        assert dead.dead_letter.reason == "inspected by hand"
        stats = await c.stats(dlq)
        assert stats.ready == 1
        moved = await c.redrive(dlq)
        assert moved.redriven == 1
        assert (await c.stats(qname)).ready == 1
        await c.unbind(f"{qname}.#", qname)
        assert await c.list_bindings(qname) == []
        assert await c.purge_queue(qname) == 1
        await c.delete_queue(qname)
        with pytest.raises(NotFound):
            await c.get_queue(qname)
