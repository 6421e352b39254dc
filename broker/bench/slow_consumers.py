"""``conveyor bench slow-consumers``: many subscriptions that cannot keep up, and the server's
memory meanwhile.

A fresh server (``--max-memory`` set) gets one queue with N subscriptions, each on its own
StreamingReceive stream: most read their deliveries but ack one only every ``ack_every_s``;
some (``stalled``) never read their stream at all. One producer publishes broadcast messages
(a copy per subscription) as fast as the server takes them. Every ``sample_s`` the command
prints the server's RSS, the queue's depth and how many sends were refused; at the end it
compares the RSS of the run's second half with its first half.

What keeps it bounded: each stream holds at most its window of deliveries, and once stored
messages reach ``max_memory`` the store refuses new ones (``RESOURCE_EXHAUSTED``) instead of
buffering them. ``--max-memory 0`` shows the other case: RSS grows with the backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from broker.bench import procfs
from broker.bench.server import BenchServer, temp_data_dir
from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2

QUEUE = "slow"
BATCH = 100
REFUSED_PAUSE_S = 0.05
"""How long the producer waits after a refused send before trying again."""
BOUNDED_GROWTH = 0.10
"""RSS growth allowed once the server holds all it will (from the first refused send; without
refusals, from the run's midpoint) before the verdict says "growing"."""


@dataclass(frozen=True)
class Options:
    subscriptions: int = 50
    stalled: int = 5
    window: int = 100
    payload: int = 1024
    duration_s: float = 30.0
    ack_every_s: float = 0.5
    max_memory: int = 64 * 1024 * 1024
    sample_s: float = 1.0
    work_dir: Path | None = None


@dataclass
class Sample:
    t: float
    rss: int
    depth: int
    in_flight: int
    sent: int
    refused: int


@dataclass
class Result:
    samples: list[Sample] = field(default_factory=list)
    sent: int = 0
    refused: int = 0
    acked: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def plateau(self) -> Sample:
        """The first sample once the server refused sends (full), else the midpoint's."""
        full = [s for s in self.samples if s.refused]
        return full[0] if full else self.samples[len(self.samples) // 2]

    @property
    def peak_after(self) -> int:
        start = self.samples.index(self.plateau)
        return max(s.rss for s in self.samples[start:])

    @property
    def growth(self) -> float:
        return self.peak_after / self.plateau.rss - 1

    @property
    def bounded(self) -> bool:
        return self.growth <= BOUNDED_GROWTH


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


class _Run:
    def __init__(self, server: BenchServer, o: Options, out: Callable[[str], None]) -> None:
        self.server = server
        self.o = o
        self.out = out
        self.result = Result()
        self.stop = asyncio.Event()

    async def consume(self, broker: Any, index: int) -> None:
        call = broker.StreamingReceive()
        await call.write(
            broker_pb2.StreamingReceiveRequest(
                queue=QUEUE, subscription=f"slow-{index}", max_outstanding_messages=self.o.window
            )
        )
        if index < self.o.stalled:  # never reads: the server may only hold its window
            await self.stop.wait()
            call.cancel()
            return
        unacked: deque[str] = deque()

        async def read() -> None:
            while (response := await call.read()) is not grpc.aio.EOF:  # type: ignore[attr-defined]
                unacked.extend(d.ack_id for d in response.deliveries)

        reader = asyncio.create_task(read())
        try:
            while not self.stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), self.o.ack_every_s)
                if unacked and not self.stop.is_set():
                    await call.write(
                        broker_pb2.StreamingReceiveRequest(ack_ids=[unacked.popleft()])
                    )
                    self.result.acked += 1
        finally:
            reader.cancel()
            call.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                await reader

    async def produce(self, broker: Any) -> None:
        payload = b"x" * self.o.payload
        request = broker_pb2.SendRequest(
            queue=QUEUE,
            messages=[
                types_pb2.Message(payload=payload, guarantee=types_pb2.GUARANTEE_BROADCAST)
                for _ in range(BATCH)
            ],
        )
        while not self.stop.is_set():
            reply = await broker.Send(request, timeout=30)
            refused = sum(1 for r in reply.results if r.HasField("error"))
            self.result.sent += len(reply.results) - refused
            self.result.refused += refused
            if refused:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), REFUSED_PAUSE_S)

    async def sample(self, admin: Any, started: float) -> None:
        self.out(
            f"{'t s':>6}  {'server RSS':>11}  {'depth':>8}  {'in flight':>9}  "
            f"{'stored':>9}  {'refused':>9}"
        )
        while not self.stop.is_set():
            stats = await admin.GetQueueStats(admin_pb2.GetQueueStatsRequest(queue=QUEUE))
            s = Sample(
                time.monotonic() - started,
                procfs.memory(self.server.pid).rss,
                stats.depth,
                stats.in_flight,
                self.result.sent,
                self.result.refused,
            )
            self.result.samples.append(s)
            self.out(
                f"{s.t:6.1f}  {_mib(s.rss):>11}  {s.depth:8,}  {s.in_flight:9,}  "
                f"{s.sent:9,}  {s.refused:9,}"
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.o.sample_s)

    async def main(self) -> Result:
        async with grpc.aio.insecure_channel(self.server.address) as channel:
            broker = broker_pb2_grpc.BrokerStub(channel)
            admin = admin_pb2_grpc.AdminStub(channel)
            await admin.CreateQueue(admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=QUEUE)))
            consumers = [
                asyncio.create_task(self.consume(broker, i)) for i in range(self.o.subscriptions)
            ]
            # Broadcast copies go to the subscriptions that exist: wait for all of them.
            deadline = time.monotonic() + 30
            while True:
                listed = await admin.ListSubscriptions(
                    admin_pb2.ListSubscriptionsRequest(queue=QUEUE)
                )
                if len(listed.subscriptions) >= self.o.subscriptions:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the subscriptions did not all open within 30 s")
                await asyncio.sleep(0.05)
            started = time.monotonic()
            producer = asyncio.create_task(self.produce(broker))
            sampler = asyncio.create_task(self.sample(admin, started))
            tasks = [producer, sampler, *consumers]
            try:
                done, _ = await asyncio.wait(
                    tasks, timeout=self.o.duration_s, return_when=asyncio.FIRST_EXCEPTION
                )
                for task in done:
                    if task.exception() is not None:
                        self.result.errors.append(repr(task.exception()))
            finally:
                self.stop.set()
                await asyncio.wait(tasks, timeout=10)
                for task in tasks:
                    task.cancel()
        return self.result


def run(o: Options, out: Callable[[str], None]) -> Result:
    """Starts a server, runs the workload for ``o.duration_s``, prints as it goes."""
    import uvloop

    with temp_data_dir(o.work_dir) as data_dir:
        env = {
            "CONVEYOR_MAX_MEMORY": str(o.max_memory),
            "CONVEYOR_MAX_STREAMS_PER_CONNECTION": str(o.subscriptions + 10),
            "CONVEYOR_MAX_RECEIVE_WINDOW": str(max(o.window, 10_000)),
        }
        with BenchServer(data_dir, fsync="never", env=env) as server:
            out(
                f"slow-consumers: {o.subscriptions} subscriptions ({o.stalled} never reading, the "
                f"rest acking one message per {o.ack_every_s:g}s), window {o.window}, broadcast "
                f"{o.payload} B payloads, max_memory "
                f"{_mib(o.max_memory) if o.max_memory else 'none'}, {o.duration_s:g}s"
            )
            result = uvloop.run(_Run(server, o, out).main())
    if result.samples:
        p = result.plateau
        when = "max_memory was reached" if p.refused else "half-way"
        out(
            f"server RSS: {_mib(p.rss)} at t={p.t:.1f}s ({when}), peak {_mib(result.peak_after)} "
            f"after it ({result.growth:+.1%}); stored {result.sent:,} messages, refused "
            f"{result.refused:,} sends, acked {result.acked:,}"
        )
        verdict = "BOUNDED" if result.bounded else "GROWING"
        out(f"memory: {verdict} (limit for the verdict: +{BOUNDED_GROWTH:.0%} after t={p.t:.1f}s)")
    for error in result.errors:
        out(f"error: {error}")
    return result
