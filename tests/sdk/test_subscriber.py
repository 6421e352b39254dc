"""The subscriber against a real server: handlers, acks, nacks, dead letters, limits, leases,
flow control, hooks, batched stream acks and graceful stop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator

import pytest
from google.protobuf.duration_pb2 import Duration
from sdk_helpers import eventually, wait_event
from server_helpers import ServerProcess

from conveyor.v1 import types_pb2
from conveyor_client import (
    AsyncClient,
    AsyncSubscriber,
    NotFound,
    ReceivedMessage,
    Subscriber,
)

DELIVERED = types_pb2.MESSAGE_STATE_DELIVERED


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.address, timeout=10) as c:
        yield c


async def publish(client: AsyncClient, queue: str, n: int, prefix: str = "m") -> list[str]:
    from conveyor_client import make_message

    results = await client.send([make_message(f"{prefix}{i}".encode()) for i in range(n)], queue)
    assert not any(r.HasField("error") for r in results)
    return [r.message_id for r in results]


async def all_delivered(client: AsyncClient, queue: str, ids: list[str]) -> bool:
    states = [(await client.message_status(queue, i)).state for i in ids]
    return all(s == DELIVERED for s in states)


async def test_handler_success_acks_every_message(client, qname):
    await client.create_queue(qname)
    ids = await publish(client, qname, 20)
    seen: list[str] = []
    done = asyncio.Event()

    async def handle(m: ReceivedMessage) -> None:
        seen.append(m.id)
        if len(seen) == 20:
            done.set()

    sub = AsyncSubscriber(client, qname, "s", handle)
    sub.start()
    await wait_event(done, what="20 messages handled")
    await sub.stop()
    assert sorted(seen) == sorted(ids)
    assert sub.stats.acked == 20
    assert await all_delivered(client, qname, ids)
    stats = await client.stats(qname)
    assert (stats.acked, stats.in_flight, stats.ready) == (20, 0, 0)


async def test_acks_are_batched_on_the_stream(client, qname):
    await client.create_queue(qname)
    ids = await publish(client, qname, 300)
    frames: list[int] = []
    real_open = client.streaming_receive_call

    def spying_open():  # type: ignore[no-untyped-def]
        call = real_open()
        real_write = call.write

        async def write(request):  # type: ignore[no-untyped-def]
            frames.append(len(request.ack_ids))
            await real_write(request)

        call.write = write
        return call

    client.streaming_receive_call = spying_open
    done = asyncio.Event()
    count = 0

    async def handle(m: ReceivedMessage) -> None:
        nonlocal count
        count += 1
        if count == 300:
            done.set()

    sub = AsyncSubscriber(client, qname, "s", handle, max_outstanding_messages=300)
    sub.start()
    await wait_event(done, what="300 handled")
    await sub.stop()
    assert sum(frames) == 300
    assert len([f for f in frames if f]) <= 30, f"acks were not batched: {frames}"
    assert await all_delivered(client, qname, ids)


async def test_exception_nacks_and_the_message_comes_back(client, qname):
    await client.create_queue(qname)
    ids = await publish(client, qname, 5)
    attempts: dict[str, list[int]] = defaultdict(list)
    done = asyncio.Event()

    async def handle(m: ReceivedMessage) -> None:
        attempts[m.id].append(m.attempt)
        if m.attempt == 1:
            raise RuntimeError("transient")
        if sum(len(a) for a in attempts.values()) == 10:
            done.set()

    sub = AsyncSubscriber(client, qname, "s", handle)
    sub.start()
    await wait_event(done, what="second attempts")
    await sub.stop()
    assert dict(attempts) == {i: [1, 2] for i in ids}
    assert (sub.stats.nacked, sub.stats.acked) == (5, 5)
    assert await all_delivered(client, qname, ids)


async def test_non_retryable_failure_dead_letters_with_the_exception(client, qname):
    dlq = f"{qname}-dlq"
    await client.create_queue(dlq)
    await client.create_queue(qname, dead_letter_queue=dlq)
    (mid,) = await publish(client, qname, 1)
    failures: list[tuple[str, BaseException]] = []

    def handle(m: ReceivedMessage) -> None:  # sync: runs in the thread pool
        raise ValueError(f"cannot parse {m.payload!r}")

    sub = AsyncSubscriber(
        client,
        qname,
        "s",
        handle,
        retryable=lambda exc: not isinstance(exc, ValueError),
        on_failure=lambda m, exc: failures.append((m.id, exc)),
    )
    sub.start()
    dead = await eventually(lambda: client.list_dead_letters(dlq), what="a dead letter")
    await sub.stop()
    assert dead[0].dead_letter.source_message_id == mid
    assert dead[0].dead_letter.reason == "ValueError: cannot parse b'm0'"
    assert dead[0].dead_letter.attempts == 1
    assert [(i, type(e)) for i, e in failures] == [(mid, ValueError)]
    assert sub.stats.dead_lettered == 1


async def test_batch_handler_acks_or_nacks_whole_batches(client, qname):
    await client.create_queue(qname)
    ids = await publish(client, qname, 40)
    sizes: list[int] = []
    got: set[str] = set()
    done = asyncio.Event()
    failed_once = False

    async def handle_batch(batch: list[ReceivedMessage]) -> None:
        nonlocal failed_once
        sizes.append(len(batch))
        if not failed_once:
            failed_once = True
            raise RuntimeError("the whole first batch comes back")
        got.update(m.id for m in batch)
        if len(got) == 40:
            done.set()

    sub = AsyncSubscriber(client, qname, "s", batch_handler=handle_batch)
    sub.start()
    await wait_event(done, what="all batches")
    await sub.stop()
    assert got == set(ids)
    assert max(sizes) > 1
    assert sub.stats.nacked == sizes[0]
    assert await all_delivered(client, qname, ids)


async def test_concurrency_limit_and_flow_control_window(client, qname):
    await client.create_queue(qname)
    ids = await publish(client, qname, 12)
    running = 0
    peak = 0
    three_running = asyncio.Event()
    release = asyncio.Event()

    async def handle(m: ReceivedMessage) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            three_running.set()
        await release.wait()
        running -= 1

    sub = AsyncSubscriber(client, qname, "s", handle, concurrency=3, max_outstanding_messages=5)
    sub.start()
    await wait_event(three_running, what="three handlers")
    # The server's window: 5 delivered (3 running, 2 waiting for a slot), none beyond.
    stats = await eventually(lambda: _in_flight_is(client, qname, 5), what="window of 5 in flight")
    assert stats.ready == 7
    assert sub.stats.received == 5
    assert running == 3
    release.set()
    await eventually(lambda: all_delivered(client, qname, ids), what="all acked")
    await sub.stop()
    assert peak == 3


async def _in_flight_is(client: AsyncClient, queue: str, n: int):  # type: ignore[no-untyped-def]
    stats = await client.stats(queue)
    return stats if stats.in_flight == n else None


async def test_rate_limit_paces_handler_starts(client, qname):
    await client.create_queue(qname)
    await publish(client, qname, 12)
    starts: list[float] = []
    done = asyncio.Event()

    async def handle(m: ReceivedMessage) -> None:
        starts.append(time.monotonic())
        if len(starts) == 12:
            done.set()

    sub = AsyncSubscriber(client, qname, "s", handle, rate_limit=20.0)
    sub.start()
    await wait_event(done, what="12 handled")
    await sub.stop()
    # A burst of 20 tokens would let all 12 go at once; the bucket starts full at rate 20 so
    # this checks the pacing with a smaller burst instead.
    assert len(starts) == 12


async def test_rate_limit_with_small_burst_spreads_starts(client, qname):
    from conveyor_client._internal.ratelimit import TokenBucket

    bucket = TokenBucket(50.0, burst=1)
    t0 = time.monotonic()
    for _ in range(11):
        await bucket.acquire()
    # 1 token up front, then 10 more at 50/s: at least 0.2 s, whatever the machine's speed.
    assert time.monotonic() - t0 >= 0.19


async def test_handler_timeout_nacks_and_redelivers(client, qname):
    await client.create_queue(qname)
    (mid,) = await publish(client, qname, 1)
    attempts: list[int] = []
    done = asyncio.Event()

    async def handle(m: ReceivedMessage) -> None:
        attempts.append(m.attempt)
        if m.attempt == 1:
            await asyncio.Event().wait()  # hangs: only the timeout ends it
        done.set()

    sub = AsyncSubscriber(client, qname, "s", handle, handler_timeout=0.2)
    sub.start()
    await wait_event(done, what="second attempt")
    await sub.stop()
    assert attempts == [1, 2]
    assert sub.stats.timeouts == 1
    assert await all_delivered(client, qname, [mid])


async def test_slow_handler_keeps_its_lease(client, qname):
    await client.create_queue(qname, lease=1.0)
    (mid,) = await publish(client, qname, 1)
    attempts: list[int] = []

    def slow(m: ReceivedMessage) -> None:
        attempts.append(m.attempt)
        time.sleep(2.5)  # the work itself: longer than two leases

    sub = AsyncSubscriber(client, qname, "s", slow, min_lease_extension=1.0)
    sub.start()
    await eventually(lambda: all_delivered(client, qname, [mid]), what="acked", timeout=15)
    await sub.stop()
    assert attempts == [1]
    assert sub.stats.lease_extensions >= 2
    assert sub.stats.failed_acks == 0
    status = await client.message_status(qname, mid)
    assert status.attempts == 1


async def test_without_extension_a_slow_handler_loses_its_lease(client, qname):
    # The control for the test above: the same handler, extensions capped off.
    await client.create_queue(qname, lease=1.0)
    await publish(client, qname, 1)
    attempts: list[int] = []
    second = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow(m: ReceivedMessage) -> None:
        attempts.append(m.attempt)
        if m.attempt == 1:
            time.sleep(2.0)
        else:
            loop.call_soon_threadsafe(second.set)

    sub = AsyncSubscriber(client, qname, "s", slow, min_lease_extension=1.0, max_lease_duration=0.5)
    sub.start()
    await wait_event(second, what="redelivery after the lease ended")
    await sub.stop()
    assert attempts[:2] == [1, 2]
    assert sub.stats.failed_acks >= 1  # the first attempt's late ack did not count


async def test_hooks_see_successes_and_failures(client, qname):
    await client.create_queue(qname)
    await publish(client, qname, 4)
    ok: list[str] = []
    bad: list[str] = []
    done = asyncio.Event()

    async def handle(m: ReceivedMessage) -> None:
        if m.payload in (b"m1", b"m3") and m.attempt == 1:
            raise KeyError(m.payload)

    def on_success(m: ReceivedMessage) -> None:
        ok.append(m.payload.decode())
        if len(ok) == 4:
            done.set()

    sub = AsyncSubscriber(
        client,
        qname,
        "s",
        handle,
        on_success=on_success,
        on_failure=lambda m, exc: bad.append(f"{m.payload.decode()}:{type(exc).__name__}"),
    )
    sub.start()
    await wait_event(done, what="four successes")
    await sub.stop()
    assert sorted(ok) == ["m0", "m1", "m2", "m3"]
    assert sorted(bad) == ["m1:KeyError", "m3:KeyError"]


async def test_stop_lets_running_handlers_finish(client, qname):
    await client.create_queue(qname)
    (mid,) = await publish(client, qname, 1)
    started = asyncio.Event()
    finished: list[str] = []

    async def handle(m: ReceivedMessage) -> None:
        started.set()
        await asyncio.sleep(0.3)  # work in progress when stop() is called
        finished.append(m.id)

    sub = AsyncSubscriber(client, qname, "s", handle)
    sub.start()
    await wait_event(started, what="handler started")
    await sub.stop(timeout=10)
    assert finished == [mid]
    assert await all_delivered(client, qname, [mid])


async def test_stop_nacks_what_did_not_finish_in_time(client, qname):
    await client.create_queue(qname)
    ids = await publish(client, qname, 3)
    started = asyncio.Event()

    async def handle(m: ReceivedMessage) -> None:
        started.set()
        await asyncio.Event().wait()  # never finishes

    sub = AsyncSubscriber(client, qname, "s", handle, concurrency=1)
    sub.start()
    await wait_event(started, what="handler started")
    await sub.stop(timeout=0.2)
    assert sub.stats.nacked == 3  # one cancelled, two never started
    assert sub.stats.acked == 0
    # Back in the queue at once, not after their lease.
    got = await client.pull(qname, "s", max_messages=10, wait=5)
    assert sorted(d.message.id for d in got) == sorted(ids)
    assert all(d.attempt == 2 for d in got)


async def test_an_unknown_queue_ends_run_with_not_found(client, qname):
    async def handle(m: ReceivedMessage) -> None:
        pytest.fail("nothing to handle")

    sub = AsyncSubscriber(client, f"{qname}-absent", "s", handle)
    with pytest.raises(NotFound):
        await asyncio.wait_for(sub.run(), 10)
    await sub.stop()
    assert sub.stats.reconnects == 0


def test_blocking_subscriber_runs_sync_handlers_in_threads(server: ServerProcess, qname):
    from conveyor_client import Client

    with Client(server.address, timeout=10) as c:
        c.create_queue(qname)
        ids = [c.publish(qname, b"t%d" % i).message_id for i in range(10)]
    threads: Counter[str] = Counter()
    done = threading.Event()
    lock = threading.Lock()

    def handle(m: ReceivedMessage) -> None:
        with lock:
            threads[threading.current_thread().name.rsplit("_", 1)[0]] += 1
            if sum(threads.values()) == 10:
                done.set()

    with Subscriber(server.address, qname, "s", handle, concurrency=4) as sub:
        assert done.wait(10), "the handlers did not all run"
    assert threads == {"conveyor-handler": 10}
    assert sub.stats.acked == 10
    with Client(server.address, timeout=10) as c:
        assert {c.message_status(qname, i).state for i in ids} == {DELIVERED}


async def test_retryable_failures_nack_with_the_exception_as_the_last_reason(client, qname):
    dlq = f"{qname}-dlq"
    await client.create_queue(dlq)
    retry_fast = types_pb2.RetryBackoff(initial=Duration(nanos=10_000_000))
    await client.create_queue(
        qname, dead_letter_queue=dlq, max_deliveries=2, retry_backoff=retry_fast
    )
    (mid,) = await publish(client, qname, 1)
    tried: list[int] = []

    async def handle(m: ReceivedMessage) -> None:
        tried.append(m.attempt)
        raise ConnectionError(f"upstream refused attempt {m.attempt}")

    sub = AsyncSubscriber(client, qname, "s", handle)  # every exception is retryable
    sub.start()
    dead = await eventually(lambda: client.list_dead_letters(dlq), what="a dead letter")
    await sub.stop()
    info = dead[0].dead_letter
    assert (info.source_message_id, info.attempts, tried) == (mid, 2, [1, 2])
    assert info.reason_code == types_pb2.DEAD_LETTER_REASON_MAX_DELIVERIES
    assert info.last_nack_reason == "ConnectionError: upstream refused attempt 2"
    assert (sub.stats.nacked, sub.stats.dead_lettered) == (2, 0)
