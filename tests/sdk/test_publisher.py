"""The batching publisher against a real server: batches, futures, order, backpressure, close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sdk_helpers import SendSpy
from server_helpers import ServerProcess

from conveyor.v1 import types_pb2
from conveyor_client import (
    AsyncClient,
    AsyncPublisher,
    BatchSettings,
    NotFound,
    OrderingKeyPaused,
    Publisher,
    PublisherClosed,
    ResourceExhausted,
)

LONG = 60.0
"""A linger no test waits for: batches in these tests leave by size, flush or close."""


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.address, timeout=10) as c:
        yield c


async def test_batches_leave_when_full_and_flush_sends_the_rest(client, qname):
    await client.create_queue(qname)
    spy = SendSpy(client)
    pub = AsyncPublisher(client, qname, batch=BatchSettings(max_messages=10, linger=LONG))
    futures = [await pub.publish(b"m%d" % i) for i in range(25)]
    ids = await asyncio.gather(*futures[:20])  # two full batches go without waiting
    assert not any(f.done() for f in futures[20:])
    await pub.flush()
    ids += [f.result() for f in futures[20:]]
    assert spy.batches == [10, 10, 5]
    assert len(set(ids)) == 25
    assert (await client.stats(qname)).sent == 25
    peeked = await client.peek(qname, 100)
    assert [p.message.payload for p in peeked] == [b"m%d" % i for i in range(25)]
    await pub.close()


async def test_batches_respect_max_bytes(client, qname):
    await client.create_queue(qname)
    spy = SendSpy(client)
    pub = AsyncPublisher(client, qname, batch=BatchSettings(max_bytes=350, linger=LONG))
    futures = [await pub.publish(b"x" * 100) for _ in range(9)]
    await pub.flush()
    assert all(f.result() for f in futures)
    assert sum(spy.batches) == 9
    assert max(spy.batches) == 3  # 3 x ~104 bytes fit in 350, a fourth does not
    await pub.close()


async def test_linger_sends_a_lone_message(client, qname):
    await client.create_queue(qname)
    pub = AsyncPublisher(client, qname, batch=BatchSettings(linger=0.005))
    future = await pub.publish(b"alone")
    message_id = await asyncio.wait_for(future, 10)  # no flush: the linger timer sends it
    status = await client.message_status(qname, message_id)
    assert status.state == types_pb2.MESSAGE_STATE_PENDING
    await pub.close()


async def test_each_future_gets_its_own_typed_error(client, qname):
    await client.create_queue(qname, max_payload_bytes=10)
    pub = AsyncPublisher(client, qname, batch=BatchSettings(linger=LONG))
    ok, too_big, ok2 = [await pub.publish(p) for p in (b"small", b"x" * 11, b"fine")]
    missing = await pub.publish(b"nowhere", queue=f"{qname}-missing")
    await pub.flush()
    assert ok.result()
    assert ok2.result()
    with pytest.raises(ResourceExhausted) as info:
        too_big.result()
    assert info.value.code.name == "RESOURCE_EXHAUSTED"
    with pytest.raises(NotFound):
        missing.result()
    assert (await client.stats(qname)).sent == 2
    await pub.close()


async def test_by_topic_routing(client, qname):
    await client.create_queue(qname)
    await client.bind(f"{qname}.*", qname)
    pub = AsyncPublisher(client)  # no queue: routed by each message's topic
    routed = await pub.publish(b"r", topic=f"{qname}.created")
    unrouted = await pub.publish(b"u", topic=f"{qname}.a.b")
    await pub.flush()
    assert routed.result()
    assert unrouted.exception() is not None
    await pub.close()


async def test_ordering_keys_keep_their_order_across_concurrent_batches(client, qname):
    await client.create_queue(qname, kind=types_pb2.QUEUE_KIND_FIFO)
    pub = AsyncPublisher(
        client, qname, batch=BatchSettings(max_messages=3, linger=0.001, max_in_flight=8)
    )
    keys = [f"k{i}" for i in range(4)]
    futures = []
    for n in range(60):
        key = keys[n % 4]
        futures.append(await pub.publish(f"{key}:{n}".encode(), ordering_key=key))
    await pub.flush()
    assert all(f.result() for f in futures)
    peeked = await client.peek(qname, 100)
    seen: dict[str, list[int]] = {}
    for p in peeked:
        key, n = p.message.payload.decode().split(":")
        seen.setdefault(key, []).append(int(n))
    assert seen == {k: list(range(i, 60, 4)) for i, k in enumerate(keys)}
    await pub.close()


async def test_a_failed_ordered_message_pauses_its_key_until_resume(client, qname):
    await client.create_queue(qname, kind=types_pb2.QUEUE_KIND_FIFO, max_payload_bytes=10)
    pub = AsyncPublisher(client, qname, batch=BatchSettings(max_messages=1, linger=LONG))
    first = await pub.publish(b"1", ordering_key="k")  # sent at once: its batch is full
    bad = await pub.publish(b"x" * 11, ordering_key="k")  # waits for `first`
    after = await pub.publish(b"3", ordering_key="k")
    other = await pub.publish(b"o", ordering_key="other")
    await pub.flush()
    assert first.result()
    assert other.result()
    with pytest.raises(ResourceExhausted):
        bad.result()
    with pytest.raises(OrderingKeyPaused):
        after.result()
    refused = await pub.publish(b"4", ordering_key="k")
    with pytest.raises(OrderingKeyPaused):
        await refused
    pub.resume("k")
    resumed = await pub.publish(b"5", ordering_key="k")
    await pub.flush()
    assert resumed.result()
    payloads = [p.message.payload for p in await client.peek(qname, 10)]
    assert sorted(payloads) == [b"1", b"5", b"o"]
    await pub.close()


async def test_backpressure_holds_publish_until_answers_make_room(client, qname):
    await client.create_queue(qname)
    pub = AsyncPublisher(client, qname, batch=BatchSettings(linger=LONG), max_buffered_messages=5)
    futures = [await pub.publish(b"%d" % i) for i in range(5)]
    assert pub.buffered[0] == 5
    sixth = asyncio.create_task(pub.publish(b"6"))
    for _ in range(5):
        await asyncio.sleep(0)  # let the task run as far as it can without answers
    assert not sixth.done(), "publish did not wait for room"
    await pub.flush()  # answers free the buffer
    sixth_future = await asyncio.wait_for(sixth, 10)
    await pub.flush()
    assert all(f.result() for f in [*futures, sixth_future])
    assert pub.buffered == (0, 0)
    await pub.close()


async def test_close_drains_then_refuses(client, qname):
    await client.create_queue(qname)
    pub = AsyncPublisher(client, qname, batch=BatchSettings(linger=LONG))
    futures = [await pub.publish(b"%d" % i) for i in range(10)]
    await pub.close()
    assert all(f.result() for f in futures)
    assert (await client.stats(qname)).sent == 10
    with pytest.raises(PublisherClosed):
        await pub.publish(b"late")


async def test_wait_for_delivered_resolves_after_the_ack(client, qname):
    await client.create_queue(qname)
    pub = AsyncPublisher(
        client, qname, wait_for=types_pb2.WAIT_FOR_DELIVERED, timeout=10, batch=BatchSettings()
    )
    future = await pub.publish(b"tracked")
    (delivery,) = await client.pull(qname, "s", wait=5)
    assert not future.done()
    assert await client.ack([delivery.ack_id]) == []
    message_id = await asyncio.wait_for(future, 10)
    assert message_id == delivery.message.id
    await pub.close()


def test_blocking_publisher(server: ServerProcess, qname: str) -> None:
    from conveyor_client import Client

    with Client(server.address, timeout=10) as c:
        c.create_queue(qname)
    with Publisher(server.address, qname, batch=BatchSettings(linger=0.002)) as pub:
        futures = [pub.publish(b"s%d" % i, attributes={"n": str(i)}) for i in range(50)]
        pub.flush(timeout=10)
        ids = [f.result(timeout=1) for f in futures]
    assert len(set(ids)) == 50
    with Client(server.address, timeout=10) as c:
        assert c.stats(qname).sent == 50
    with pytest.raises(PublisherClosed):
        pub.publish(b"after close")
