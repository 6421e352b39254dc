"""``conveyor bench e2e``: publish and consume at once; end-to-end rate and delivery latency.

One fresh server, one queue, one StreamingReceive consumer (``window`` outstanding messages,
the acks of each response sent back in one request frame) and ``publishers`` concurrent Send
callers. The rate is distinct messages received over the time from the first Send to the last
delivery; delivery latency is each message's server ``publish_time`` to the arrival of the
frame carrying it (same machine, same clock).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from broker.bench import workload
from broker.bench.report import percentile
from broker.bench.server import BenchServer, temp_data_dir

QUEUE = "bench-e2e"


@dataclass(frozen=True)
class E2EParams:
    messages: int = 200_000
    batch: int = 100
    publishers: int = 4
    payload: int = 256
    window: int = 1000
    fsync: str = "always"
    time_limit_s: float = 600.0


@dataclass
class E2EResult:
    params: E2EParams
    published: int
    publish_failed: int
    publish_msgs_per_s: float
    received: int
    redelivered: int
    frames: int
    ack_frames: int
    failed_acks: int
    seconds: float
    msgs_per_s: float
    msgs_per_frame: float
    latency_ms: dict[str, float] = field(default_factory=dict)
    timed_out: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"benchmark": "e2e", **asdict(self)}


def bench_e2e(
    params: E2EParams,
    *,
    progress: Callable[[str], None] = lambda _: None,
    work_dir: Path | None = None,
    profile: Path | None = None,
) -> E2EResult:
    with temp_data_dir(work_dir) as data_dir:
        server = BenchServer(data_dir, fsync=params.fsync, profile=profile)
        try:
            server.start()
            progress(f"e2e: {params.messages:,} messages through {server.address} ...")
            deadline = time.monotonic() + params.time_limit_s

            async def go() -> tuple[workload.PublishResult, workload.ConsumeResult, float]:
                async with workload.channel(server.address) as ch:
                    await workload.create_queue(ch, QUEUE)
                    opened = asyncio.Event()
                    consumer = asyncio.create_task(
                        workload.consume(
                            ch,
                            QUEUE,
                            messages=params.messages,
                            window=params.window,
                            deadline=deadline,
                            on_open=opened,
                        )
                    )
                    try:
                        async with asyncio.timeout(30):
                            await opened.wait()
                        started = time.perf_counter()
                        published = await workload.publish(
                            ch,
                            QUEUE,
                            messages=params.messages,
                            batch=params.batch,
                            publishers=params.publishers,
                            payload=params.payload,
                            deadline=deadline,
                        )
                        consumed = await consumer
                    finally:
                        consumer.cancel()
                    return published, consumed, started

            pub, con, started = workload.run(go)
            server.stop()
        finally:
            server.kill()
    seconds = con.last_at - started if con.last_at else 0.0
    ms = sorted(x * 1000 for x in con.latencies_s)
    return E2EResult(
        params=params,
        published=pub.sent,
        publish_failed=pub.failed,
        publish_msgs_per_s=pub.rate,
        received=con.received,
        redelivered=con.redelivered,
        frames=con.frames,
        ack_frames=con.ack_frames,
        failed_acks=con.failed_acks,
        seconds=seconds,
        msgs_per_s=con.received / seconds if seconds > 0 else 0.0,
        msgs_per_frame=con.received / con.frames if con.frames else 0.0,
        latency_ms={f"p{q:g}": percentile(ms, q) for q in (50, 90, 99, 99.9)}
        | {"max": ms[-1] if ms else 0.0},
        timed_out=pub.timed_out or con.timed_out,
    )
