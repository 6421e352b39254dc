"""One run of a workload against one started server: processes, the measured phase, figures.

1. The queue is created (``CreateQueue``) from this process.
2. Consumer processes start and report ready once the server lists their subscriptions; then
   producer processes start and report ready once connected (nothing is measured yet).
3. The measured phase starts at one instant for every producer (``Shared.start_at``); the
   server's CPU seconds are read from ``/proc`` just before it. It ends when the producers are
   done and every subscription has received every message they sent (or on the time limit, or
   when nothing moves for ``idle_timeout_s``); the server's CPU and memory are read then.
4. Workers are told to stop, report, and are joined; any still alive is killed (``finally``).

The figures (``Figures``) are computed from the workers' reports: rates over the measured
phase, latency percentiles over every message, the server's CPU per message, its peak RSS, the
client's own CPU per message, and exact counts (sent, failed, received, duplicates, missing).
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import grpc

from broker.bench import consumer, plan, producer
from broker.bench.plan import ConsumerSpec, ProducerSpec, Shared, Workload
from broker.bench.server import CHECKPOINT_LINE, BenchServer, ServerError
from broker.bench.stats import Samples
from conveyor.v1 import admin_pb2, admin_pb2_grpc, types_pb2

POLL_S = 0.05
"""How often the parent reads the workers' counters (and redraws the progress)."""
WORKER_READY_TIMEOUT_S = 90.0
"""Spawning a worker imports grpc and the stubs: seconds on a loaded 2-core machine."""
RESULT_TIMEOUT_S = 30.0
START_DELAY_S = 0.05
"""From "everyone is ready" to the start: long enough for every producer to see it."""

Progress = Callable[[float, str], None]
"""``progress(fraction done, what is happening)``."""


class BenchError(RuntimeError):
    """A run could not be completed (a worker failed to start or crashed)."""


@dataclass
class Figures:
    """What one run measured; a flat record, the same for Conveyor and the baseline."""

    target: str
    seconds: float = 0.0
    msgs_per_s: float = 0.0
    copies_per_s: float = 0.0
    mb_per_s: float = 0.0
    publish_msgs_per_s: float = 0.0
    ack_ms: dict[str, float] = field(default_factory=dict)
    deliver_ms: dict[str, float] = field(default_factory=dict)
    lag_ms: dict[str, float] = field(default_factory=dict)
    server_cpu_s: float = 0.0
    server_cpu_us_per_msg: float = 0.0
    client_cpu_us_per_msg: float = 0.0
    peak_rss: int = 0
    rss: int = 0
    sent: int = 0
    failed: int = 0
    received: int = 0
    duplicates: int = 0
    missing: int = 0
    failed_acks: int = 0
    frames: int = 0
    checkpoints: int = 0
    timed_out: bool = False
    errors: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def headline(self) -> str:
        """One line for people: the rate, the latencies that apply, anything that went wrong."""
        parts = [f"{self.msgs_per_s:,.0f} msgs/s"]
        if self.copies_per_s:
            parts.append(f"{self.copies_per_s:,.0f} copies/s")
        for name, lat in (("send->ack", self.ack_ms), ("send->deliver", self.deliver_ms)):
            if lat:
                parts.append(f"{name} p50/p99 {lat['p50']:.1f}/{lat['p99']:.1f} ms")
        parts.append(f"server {self.server_cpu_us_per_msg:.1f} us/msg")
        problems = [
            f"{n} {name}"
            for name, n in (
                ("failed", self.failed),
                ("missing", self.missing),
                ("duplicates", self.duplicates),
                ("failed acks", self.failed_acks),
            )
            if n
        ]
        if self.timed_out:
            problems.append("TIME LIMIT")
        return ", ".join(parts + problems)


async def _create_queue(address: str, queue: types_pb2.Queue, metadata: Any = None) -> None:
    async with grpc.aio.insecure_channel(address, options=list(plan.CHANNEL_OPTIONS)) as ch:
        await admin_pb2_grpc.AdminStub(ch).CreateQueue(
            admin_pb2.CreateQueueRequest(queue=queue),
            timeout=plan.RPC_TIMEOUT_S,
            metadata=metadata,
        )


def create_queue(address: str, queue: types_pb2.Queue, metadata: Any = None) -> None:
    import uvloop

    uvloop.run(_create_queue(address, queue, metadata))


def _shares(total: float | None, parts: int) -> list[Any]:
    if total is None:
        return [None] * parts
    if isinstance(total, int):
        return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]
    return [total / parts] * parts


class Run:
    """The processes and shared state of one run; ``execute`` does it all."""

    def __init__(self, server: BenchServer, w: Workload, progress: Progress) -> None:
        self.server = server
        self.w = w
        self.progress = progress
        self.ctx = multiprocessing.get_context("spawn")  # grpc does not survive fork
        streams = w.consumer_streams()
        self.subs = w.subscription_count
        producer_slots = w.producers * plan.PRODUCER_SLOTS
        self.shared = Shared(
            start_at=self.ctx.Value("q", 0, lock=False),
            stop=self.ctx.Event(),
            ready=self.ctx.Array("b", w.producers + len(streams), lock=False),
            counters=self.ctx.Array("q", producer_slots + len(streams) * self.subs, lock=False),
            results=self.ctx.Queue(),
        )
        # Several servers on one database (``--store``): workers spread over them.
        addresses: list[str] = getattr(server, "addresses", [server.address])
        self.producer_specs = [
            ProducerSpec(i, addresses[i % len(addresses)], w, messages, rate)
            for i, (messages, rate) in enumerate(
                zip(_shares(w.messages, w.producers), _shares(w.rate, w.producers), strict=True)
            )
        ]
        self.consumer_specs = [
            ConsumerSpec(
                c,
                addresses[c % len(addresses)],
                w,
                mine,
                producer_slots + c * self.subs,
                w.producers + c,
            )
            for c, mine in enumerate(streams)
        ]
        self.processes: list[Any] = []
        self.reports: list[dict[str, Any]] = []

    # -- processes -----------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], spec: Any, name: str) -> None:
        process = self.ctx.Process(target=target, args=(spec, self.shared), name=name, daemon=True)
        process.start()
        self.processes.append(process)

    def _await_ready(self, slots: list[int], what: str) -> None:
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
        while True:
            states = [self.shared.ready[i] for i in slots]
            if all(s == 1 for s in states):
                return
            if any(s == -1 for s in states) or any(
                not p.is_alive() and p.exitcode not in (0, None) for p in self.processes
            ):
                raise BenchError(f"a {what} process failed to start:\n{self._crashes()}")
            if time.monotonic() > deadline:
                raise BenchError(f"{what} processes not ready in {WORKER_READY_TIMEOUT_S:.0f}s")
            time.sleep(0.01)

    def _crashes(self) -> str:
        self._collect(timeout_s=2.0)
        found = [r["crash"] for r in self.reports if r.get("crash")]
        return "\n".join(found) or "(no report)"

    def _collect(self, timeout_s: float) -> None:
        """Gathers the reports still due, waiting up to ``timeout_s`` for each."""
        expected = len(self.producer_specs) + len(self.consumer_specs)
        while len(self.reports) < expected:
            try:
                self.reports.append(self.shared.results.get(timeout=timeout_s))
            except queue_module.Empty:
                return

    def _shutdown(self) -> None:
        self.shared.stop.set()
        for p in self.processes:
            p.join(RESULT_TIMEOUT_S if p.is_alive() else 0)
        for p in self.processes:
            if p.is_alive():
                p.kill()
                p.join(5)

    # -- the measured phase --------------------------------------------------------------

    def _sent(self) -> tuple[int, int, bool]:
        c = self.shared.counters
        sent = sum(c[plan.producer_slot(i, plan.SENT)] for i in range(self.w.producers))
        failed = sum(c[plan.producer_slot(i, plan.FAILED)] for i in range(self.w.producers))
        done = all(c[plan.producer_slot(i, plan.DONE)] for i in range(self.w.producers))
        return sent, failed, done

    def _received(self) -> list[int]:
        """Distinct messages per subscription, summed over the consumer processes."""
        c = self.shared.counters
        totals = [0] * self.subs
        for spec in self.consumer_specs:
            for s in range(self.subs):
                totals[s] += c[spec.first_slot + s]
        return totals

    def _fraction(self, sent: int, received: list[int], started: float) -> float:
        w = self.w
        if w.messages is not None:
            goal = w.messages * (1 + self.subs)
            return (sent + sum(received)) / goal
        assert w.duration_s is not None
        produced = min(1.0, (time.monotonic() - started) / w.duration_s)
        if not self.subs:
            return produced
        return 0.9 * produced + 0.1 * (sum(received) / max(1, sent * self.subs))

    def _measure(self) -> tuple[float, Any, int, bool]:
        """Runs the measured phase; the server CPU used, its memory, checkpoints, timed out."""
        w, server = self.w, self.server
        checkpoints0 = server.count(CHECKPOINT_LINE)
        cpu0 = server.cpu_seconds()
        self.shared.start_at.value = time.monotonic_ns() + int(START_DELAY_S * 1e9)
        started = time.monotonic()
        deadline = started + w.time_limit_s + 5
        last_change, last_state = started, (-1, -1)
        timed_out = False
        while True:
            time.sleep(POLL_S)
            sent, failed, done = self._sent()
            received = self._received()
            now = time.monotonic()
            self.progress(
                min(1.0, self._fraction(sent, received, started)),
                f"{sent:,} sent" + (f", {sum(received):,} received" if self.subs else ""),
            )
            if done and all(r >= sent for r in received):
                break
            state = (sent + failed, sum(received))
            if state != last_state:
                last_change, last_state = now, state
            if now - last_change > w.idle_timeout_s or now > deadline:
                timed_out = True
                break
            if not server.running:
                raise ServerError("the server exited during the run:\n" + server.output()[-4000:])
            if any(not p.is_alive() for p in self.processes) and not done:
                self._collect(timeout_s=0.5)
                crashed = [r["crash"] for r in self.reports if r.get("crash")]
                if crashed:
                    raise BenchError("a worker crashed:\n" + "\n".join(crashed))
        cpu = server.cpu_seconds() - cpu0
        memory = server.memory()
        return cpu, memory, server.count(CHECKPOINT_LINE) - checkpoints0, timed_out

    def execute(self) -> Figures:
        try:
            create_queue(self.server.address, self.w.queue(), self.w.metadata)
            for spec in self.consumer_specs:
                self._spawn(consumer.main, spec, f"bench-consumer-{spec.index}")
            self._await_ready([s.ready_slot for s in self.consumer_specs], "consumer")
            for pspec in self.producer_specs:
                self._spawn(producer.main, pspec, f"bench-producer-{pspec.index}")
            self._await_ready([s.ready_slot for s in self.producer_specs], "producer")
            cpu, memory, checkpoints, timed_out = self._measure()
            self.shared.stop.set()
            self._collect(RESULT_TIMEOUT_S)
        finally:
            self._shutdown()
        crashed = [r["crash"] for r in self.reports if r.get("crash")]
        if crashed:
            raise BenchError("a worker crashed:\n" + "\n".join(crashed))
        expected = len(self.producer_specs) + len(self.consumer_specs)
        if len(self.reports) < expected:
            raise BenchError(f"{expected - len(self.reports)} workers did not report")
        figures = self._figures(cpu, timed_out)
        figures.peak_rss, figures.rss = memory.peak, memory.rss
        figures.checkpoints = checkpoints
        return figures

    # -- figures -------------------------------------------------------------------------

    def _figures(self, server_cpu: float, timed_out: bool) -> Figures:
        w = self.w
        producers = [r for r in self.reports if r["kind"] == "producer"]
        consumers = [r for r in self.reports if r["kind"] == "consumer"]
        f = Figures(target=self.server.kind, timed_out=timed_out)
        start = self.shared.start_at.value
        f.sent = sum(r["sent"] for r in producers)
        f.failed = sum(r["failed"] for r in producers)
        f.timed_out = timed_out or any(r["timed_out"] for r in producers)
        f.errors = sorted({e for r in [*producers, *consumers] for e in r["errors"]})[:5]
        publish_end = max((r["end_ns"] for r in producers), default=start)
        publish_s = max(1e-9, (publish_end - start) / 1e9)
        f.publish_msgs_per_s = f.sent / publish_s
        ack, lag, deliver = Samples(), Samples(), Samples()
        for r in producers:
            ack.extend(Samples.from_bytes(r["ack"]))
            lag.extend(Samples.from_bytes(r["lag"]))
        for r in consumers:
            deliver.extend(Samples.from_bytes(r["deliver"]))
        f.ack_ms = ack.percentiles_ms()
        if w.rate:
            f.lag_ms = lag.percentiles_ms()
            f.extra["target_rate"] = w.rate
        client_cpu = sum(r["cpu_s"] for r in [*producers, *consumers])
        if self.subs:
            f.received, f.duplicates = _merge_seen(consumers, self.subs)
            f.missing = max(0, f.sent * self.subs - f.received)
            f.failed_acks = sum(r["failed_acks"] for r in consumers)
            f.frames = sum(r["frames"] for r in consumers)
            f.deliver_ms = deliver.percentiles_ms()
            last = max((r["last_ns"] for r in consumers), default=start)
            f.seconds = max(1e-9, (last - start) / 1e9)
            f.msgs_per_s = f.received / self.subs / f.seconds
            if self.subs > 1:
                f.copies_per_s = f.received / f.seconds
            f.extra["msgs_per_frame"] = f.received / f.frames if f.frames else 0.0
        else:
            f.seconds = publish_s
            f.msgs_per_s = f.publish_msgs_per_s
        f.mb_per_s = f.msgs_per_s * w.payload / 1e6
        if f.sent:
            f.server_cpu_s = server_cpu
            f.server_cpu_us_per_msg = server_cpu / f.sent * 1e6
            f.client_cpu_us_per_msg = client_cpu / f.sent * 1e6
        return f


def _merge_seen(consumers: list[dict[str, Any]], subs: int) -> tuple[int, int]:
    """Distinct copies over all subscriptions, and duplicates (within and across processes).

    Each process marks a byte per message it saw; OR-ing the bytes of every process of one
    subscription (as little-endian integers, so lengths need not match) gives what that
    subscription received at least once."""
    received = duplicates = 0
    for s in range(subs):
        merged: dict[int, int] = {}
        local = 0
        for r in consumers:
            seen = r["subscriptions"].get(s)
            if seen is None:
                continue
            local += seen["distinct"]
            duplicates += seen["duplicates"]
            for p, flags in seen["flags"].items():
                merged[p] = merged.get(p, 0) | int.from_bytes(flags, "little")
        distinct = sum(bits.bit_count() for bits in merged.values())
        received += distinct
        duplicates += local - distinct
    return received, duplicates


def run_workload(server: BenchServer, w: Workload, progress: Progress) -> Figures:
    """One run of ``w`` against the started ``server``."""
    return Run(server, w, progress).execute()
