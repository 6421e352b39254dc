"""What one benchmark run asks of its worker processes, and what they share with the parent.

``Workload`` is the shape of a run (the same for Conveyor and the baseline). The parent turns it
into one ``ProducerSpec`` per producer process and one ``ConsumerSpec`` per consumer process;
each worker runs its own uvloop event loop and grpc channel. They coordinate through ``Shared``:

- ``start_at``: the ``time.monotonic_ns()`` at which producers start (0 until every worker
  said it is ready), so all of them start together and nothing before it is measured;
- ``stop``: set by the parent when the run is over (or must end); workers finish and report;
- ``ready``: per worker, 1 once it is connected (consumers: once their subscriptions exist),
  -1 if it failed;
- ``counters``: per producer ``PRODUCER_SLOTS`` (sent, failed, done), then per consumer and
  subscription the distinct messages received: what the parent's progress and end test read.
  Each slot has one writer, so no lock.
- ``results``: each worker's result (a plain dict), once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc

from conveyor.v1 import types_pb2

API_CHOICES = ("unary", "stream")
"""``unary``: ``Send`` calls; ``stream``: batches on ``SendStream`` streams."""
CONSUME_CHOICES = ("streaming", "receive")
"""``streaming``: ``StreamingReceive`` with acks on the stream; ``receive``: ``Receive`` with
batched unary ``Ack`` calls."""
PRODUCER_SLOTS = 3
SENT, FAILED, DONE = range(PRODUCER_SLOTS)
QUEUE = "bench"
SUBSCRIPTION = "bench-{}"
RPC_TIMEOUT_S = 60.0
"""Deadline of one Send or Ack: a stuck server fails the run instead of hanging it."""
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
)
"""Every channel of every worker, to Conveyor and to the baseline alike."""
EOF: Any = grpc.aio.EOF  # type: ignore[attr-defined]  # (missing from grpc-stubs)
"""What ``read()`` of a grpc.aio stream returns once the stream has ended."""


@dataclass(frozen=True)
class Workload:
    """The shape of a run: who sends what, how, and who consumes it."""

    consume: str | None = None
    """None (publish only) or one of ``CONSUME_CHOICES``."""
    api: str = "unary"
    subscriptions: int = 1
    broadcast: bool = False
    """GUARANTEE_BROADCAST (a copy per subscription) instead of AT_LEAST_ONCE."""
    producers: int = 1
    consumers: int = 1
    concurrency: int = 8
    """Batches in flight per producer process (each from its own loop)."""
    streams: int = 1
    """SendStream streams per producer process, shared round-robin by its loops."""
    batch: int = 100
    payload: int = 256
    window: int = 1000
    messages: int | None = 100_000
    duration_s: float | None = None
    rate: float | None = None
    """Messages per second in all (split over the producers); None: as fast as possible."""
    time_limit_s: float = 600.0
    idle_timeout_s: float = 30.0
    token: str = ""
    """Bearer token every call carries (a server started with an auth file); empty: none."""
    queue_settings: str = ""
    """The bench queue's settings as proto JSON of ``conveyor.v1.Queue`` (e.g.
    ``{"retainAcked": "3600s", "encrypted": true}``); empty: the defaults."""

    @property
    def metadata(self) -> tuple[tuple[str, str], ...] | None:
        return (("authorization", f"Bearer {self.token}"),) if self.token else None

    def queue(self) -> types_pb2.Queue:
        """The queue to create, named ``QUEUE``; raises ValueError for bad settings."""
        from google.protobuf import json_format

        queue = types_pb2.Queue()
        try:
            json_format.Parse(self.queue_settings or "{}", queue)
        except json_format.ParseError as exc:
            raise ValueError(f"queue settings: {exc}") from None
        queue.name = QUEUE
        return queue

    def __post_init__(self) -> None:
        self.queue()
        if (self.messages is None) == (self.duration_s is None):
            raise ValueError("give exactly one of messages and duration_s")
        if self.api not in API_CHOICES:
            raise ValueError(f"api {self.api!r}: expected one of {API_CHOICES}")
        if self.consume is not None and self.consume not in CONSUME_CHOICES:
            raise ValueError(f"consume {self.consume!r}: expected one of {CONSUME_CHOICES}")
        if self.messages is not None and self.messages < self.producers:
            raise ValueError("give every producer at least one message")

    @property
    def subscription_count(self) -> int:
        return self.subscriptions if self.consume else 0

    def consumer_streams(self) -> list[list[tuple[int, str]]]:
        """Per consumer process, the ``(subscription index, name)`` of each stream it opens:
        every subscription gets a stream, and every process at least one."""
        if not self.consume:
            return []
        count = max(self.subscriptions, self.consumers)
        plan: list[list[tuple[int, str]]] = [[] for _ in range(self.consumers)]
        for j in range(count):
            s = j % self.subscriptions
            plan[j % self.consumers].append((s, SUBSCRIPTION.format(s)))
        return plan


@dataclass(frozen=True)
class ProducerSpec:
    index: int
    address: str
    workload: Workload
    messages: int | None
    """This producer's share of the budget (None: until the duration ends)."""
    rate: float | None
    """This producer's share of the rate."""

    @property
    def ready_slot(self) -> int:
        return self.index


@dataclass(frozen=True)
class ConsumerSpec:
    index: int
    address: str
    workload: Workload
    streams: list[tuple[int, str]]
    first_slot: int
    """Counter slot of subscription 0 for this process (slots follow per subscription)."""
    ready_slot: int


@dataclass
class Shared:
    """The multiprocessing objects of one run (created by the parent from a spawn context)."""

    start_at: Any
    stop: Any
    ready: Any
    counters: Any
    results: Any


def producer_slot(index: int, field: int) -> int:
    return index * PRODUCER_SLOTS + field
