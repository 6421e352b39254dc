"""The SDK's retention and replay surface against a real server: queue settings, ``start=``
on pull and on the subscriber, ``seek_subscription``, and the stats they show."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from server_helpers import ServerProcess

from conveyor_client import AsyncClient, AsyncSubscriber, Client, NotFound, ReceivedMessage


async def test_retention_start_positions_and_seek(server: ServerProcess, qname: str) -> None:
    async with AsyncClient(server.address, timeout=10) as c:
        queue = await c.create_queue(qname, retain_acked=3600, retain_acked_bytes=1 << 20)
        assert (queue.retain_acked.seconds, queue.retain_acked_bytes) == (3600, 1 << 20)
        await c.pull(qname, "s")
        first = [
            (await c.publish(qname, b"one")).message_id,
            (await c.publish(qname, b"two")).message_id,
        ]
        await asyncio.sleep(0.05)
        middle = datetime.now(UTC)
        await asyncio.sleep(0.05)
        later = (await c.publish(qname, b"three")).message_id
        got = await c.pull(qname, "s", max_messages=10)
        assert await c.ack([d.ack_id for d in got]) == []
        stats = await c.stats(qname)
        assert (stats.retained, stats.retained_bytes) == (3, 11)

        replayed = await c.pull(qname, "all", max_messages=10, start="all")
        assert sorted(d.message.id for d in replayed) == sorted([*first, later])
        recent = await c.pull(qname, "recent", max_messages=10, start=middle)
        assert [d.message.id for d in recent] == [later]
        assert await c.pull(qname, "fresh", max_messages=10, start="new") == []
        with pytest.raises(ValueError, match="start"):
            await c.pull(qname, "bad", start="everything")  # type: ignore[arg-type]

        moved = await c.seek_subscription(qname, "s", middle.timestamp())
        assert (moved.replayed, moved.acked) == (1, 0)
        assert [d.message.id for d in await c.pull(qname, "s", max_messages=10)] == [later]
        with pytest.raises(NotFound):
            await c.seek_subscription(qname, "nobody", time.time())


async def test_subscriber_starts_from_all(server: ServerProcess, qname: str) -> None:
    async with AsyncClient(server.address, timeout=10) as c:
        await c.create_queue(qname, retain_acked=600)
        await c.pull(qname, "s")
        sent = {(await c.publish(qname, b"m%d" % i)).message_id for i in range(3)}
        await c.ack([d.ack_id for d in await c.pull(qname, "s", max_messages=10)])
        seen: list[str] = []
        done = asyncio.Event()

        async def handle(message: ReceivedMessage) -> None:
            seen.append(message.id)
            if len(seen) == 3:
                done.set()

        async with AsyncSubscriber(c, qname, "late", handle, start="all"):
            await asyncio.wait_for(done.wait(), 10)
        assert set(seen) == sent


def test_sync_client_queue_settings_and_seek(server: ServerProcess, qname: str) -> None:
    with Client(server.address, timeout=10) as c:
        c.create_queue(qname, retain_acked=60, compress_above_bytes=0)
        got = c.get_queue(qname)
        assert got.HasField("compress_above_bytes")
        assert got.compress_above_bytes == 0
        assert not got.encrypted
        c.update_queue(qname, retain_acked=None)
        assert not c.get_queue(qname).HasField("retain_acked")
        c.pull(qname, "s")
        assert c.seek_subscription(qname, "s", time.time()).acked == 0
