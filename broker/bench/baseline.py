"""The ceiling: a bare ``grpc.aio`` server with Conveyor's RPC shapes and no broker logic.

``python -m broker.bench.baseline --listen 127.0.0.1:0`` serves ``conveyor.v1.Broker`` and
``conveyor.v1.Admin`` with the generated stubs, the same server options as ``conveyor serve``
(frame limits, no port reuse) and uvloop, and prints ``baseline listening on HOST:PORT``. The
benchmark drives it with the very workload code it drives Conveyor with, so the two figures
differ only by what Conveyor does between receiving a request and answering it.

What it does, and no more:

- ``Send`` / ``SendStream``: one ``SendResult`` per message (a fresh id, the queue), as
  Conveyor answers. A message is kept only if an open subscription of its queue can take it
  (nothing stored, nothing durable; a publish-only run keeps nothing).
- ``StreamingReceive`` / ``Receive``: a subscription per name; ``GUARANTEE_BROADCAST`` messages
  are copied to every subscription, others go to one shared line the subscriptions compete for.
  Each response carries every ready delivery up to the stream's window
  (``max_outstanding_messages``), built from the sent message (id, queue, publish time) with an
  ack id, attempt 1 and a lease deadline, as Conveyor's are. Responses are filled in place
  (``add()``), the cheapest way the protobuf API offers: the ceiling, not a strawman. Acks (on
  the stream, or ``Ack``, whose ids name their stream) only free window slots: no lookup, no
  redelivery.
- ``CreateQueue`` echoes the queue; ``ListSubscriptions`` lists the names. The other RPCs are
  UNIMPLEMENTED.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2

FRAME_LIMIT = 1024 * 1024 * 16 + 64 * 1024
"""What ``conveyor serve`` allows by default: 16 payloads of its 1 MiB limit plus headroom."""
SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", FRAME_LIMIT),
    ("grpc.max_send_message_length", FRAME_LIMIT),
    ("grpc.so_reuseport", 0),
]
DEFAULT_WINDOW = 1000
"""Conveyor's default ``max_outstanding_messages``."""
LEASE_S = 30
"""Conveyor's default lease: only the deadline's value in each delivery."""


class _Stream:
    """One open Receive or StreamingReceive stream: its window and what wakes it."""

    __slots__ = ("closed", "number", "outstanding", "wake", "window")

    def __init__(self, number: int, window: int) -> None:
        self.number = number
        self.window = window
        self.outstanding = 0
        self.closed = False
        self.wake = asyncio.Event()

    def settle(self, count: int) -> None:
        self.outstanding = max(0, self.outstanding - count)
        self.wake.set()


class _Subscription:
    __slots__ = ("copies", "name", "streams")

    def __init__(self, name: str) -> None:
        self.name = name
        self.copies: deque[types_pb2.Message] = deque()
        self.streams: set[_Stream] = set()


class _Queue:
    __slots__ = ("name", "shared", "subs")

    def __init__(self, name: str) -> None:
        self.name = name
        self.shared: deque[types_pb2.Message] = deque()
        self.subs: dict[str, _Subscription] = {}

    def wake(self) -> None:
        for sub in self.subs.values():
            for stream in sub.streams:
                stream.wake.set()


class Baseline(broker_pb2_grpc.BrokerServicer, admin_pb2_grpc.AdminServicer):
    """Both services on one object: the state is a dict of queues."""

    def __init__(self) -> None:
        self.queues: dict[str, _Queue] = {}
        self.streams: dict[int, _Stream] = {}
        self._ids = itertools.count(1)
        self._stream_numbers = itertools.count(1)
        self._boot = f"{int(time.time() * 1000):011x}-ba5e11"

    def _queue(self, name: str) -> _Queue:
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = _Queue(name)
        return queue

    # -- publishing ----------------------------------------------------------------------

    def _send(self, name: str, messages: Iterable[types_pb2.Message], response: Any) -> Any:
        """Fills ``response.results`` in place (building results apart and copying them in
        costs twice the Python time: the ceiling should spend as little as a server can)."""
        queue = self._queue(name)
        keep = bool(queue.subs)
        boot, ids, add = self._boot, self._ids, response.results.add
        if keep:
            now = timestamp_pb2.Timestamp()
            now.GetCurrentTime()
        for m in messages:
            message_id = f"{boot}-{next(ids):x}"
            result = add(message_id=message_id)
            result.queues.append(name)
            result.message_ids.append(message_id)
            if keep:
                m.id = message_id
                m.queue = name
                m.publish_time.CopyFrom(now)
                if m.guarantee == types_pb2.GUARANTEE_BROADCAST:
                    for sub in queue.subs.values():
                        sub.copies.append(m)
                else:
                    queue.shared.append(m)
        if keep:
            queue.wake()
        return response

    async def Send(self, request: Any, context: Any) -> Any:
        return self._send(request.queue, request.messages, broker_pb2.SendResponse())

    async def SendStream(self, request_iterator: Any, context: Any) -> AsyncIterator[Any]:
        async for request in request_iterator:
            response = broker_pb2.SendStreamResponse(sequence=request.sequence)
            yield self._send(request.queue, request.messages, response)

    # -- consuming -----------------------------------------------------------------------

    def _open(self, request: Any) -> tuple[_Queue, _Subscription, _Stream]:
        queue = self._queue(request.queue)
        name = request.subscription
        sub = queue.subs.get(name)
        if sub is None:
            sub = queue.subs[name] = _Subscription(name)
        stream = _Stream(
            next(self._stream_numbers), request.max_outstanding_messages or DEFAULT_WINDOW
        )
        sub.streams.add(stream)
        self.streams[stream.number] = stream
        return queue, sub, stream

    def _close(self, sub: _Subscription, stream: _Stream) -> None:
        sub.streams.discard(stream)
        self.streams.pop(stream.number, None)

    async def _deliveries(
        self, queue: _Queue, sub: _Subscription, stream: _Stream, response_type: Any
    ) -> AsyncIterator[Any]:
        """Yields a response per batch of ready deliveries, up to the stream's window."""
        prefix = f"{stream.number:x}."
        counter = itertools.count(1)
        while not stream.closed:
            stream.wake.clear()
            room = stream.window - stream.outstanding
            taken: list[types_pb2.Message] = []
            for line in (sub.copies, queue.shared):
                while line and len(taken) < room:
                    taken.append(line.popleft())
            if not taken:
                await stream.wake.wait()
                continue
            stream.outstanding += len(taken)
            deadline = timestamp_pb2.Timestamp()
            deadline.GetCurrentTime()
            deadline.seconds += LEASE_S
            response = response_type()
            add = response.deliveries.add
            for m in taken:
                d = add(ack_id=f"{prefix}{next(counter):x}", attempt=1, subscription=sub.name)
                d.message.CopyFrom(m)
                d.lease_deadline.CopyFrom(deadline)
            yield response

    async def Receive(self, request: Any, context: Any) -> AsyncIterator[Any]:
        queue, sub, stream = self._open(request)
        try:
            async for response in self._deliveries(queue, sub, stream, broker_pb2.ReceiveResponse):
                yield response
        finally:
            self._close(sub, stream)

    async def StreamingReceive(self, request_iterator: Any, context: Any) -> AsyncIterator[Any]:
        first = await anext(aiter(request_iterator), None)
        if first is None:
            return
        queue, sub, stream = self._open(first)

        async def read() -> None:
            try:
                async for r in request_iterator:
                    stream.settle(len(r.ack_ids) + len(r.nack_ids))
            finally:  # half-closed by the client: end the stream, as Conveyor does
                stream.closed = True
                stream.wake.set()

        reader = asyncio.create_task(read(), name="baseline-streaming-receive-reader")
        try:
            async for response in self._deliveries(
                queue, sub, stream, broker_pb2.StreamingReceiveResponse
            ):
                yield response
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            self._close(sub, stream)

    async def Ack(self, request: Any, context: Any) -> Any:
        counts: dict[str, int] = {}
        for ack_id in request.ack_ids:
            number = ack_id.partition(".")[0]
            counts[number] = counts.get(number, 0) + 1
        for number, count in counts.items():
            stream = self.streams.get(int(number, 16))
            if stream is not None:
                stream.settle(count)
        return broker_pb2.AckResponse()

    # -- admin ---------------------------------------------------------------------------

    async def CreateQueue(self, request: Any, context: Any) -> Any:
        self._queue(request.queue.name)
        return admin_pb2.CreateQueueResponse(queue=request.queue)

    async def ListSubscriptions(self, request: Any, context: Any) -> Any:
        queue = self._queue(request.queue)
        return admin_pb2.ListSubscriptionsResponse(
            subscriptions=[
                types_pb2.Subscription(name=s.name, queue=queue.name, consumers=len(s.streams))
                for s in queue.subs.values()
            ]
        )


async def serve(listen: str, stop: asyncio.Event) -> None:
    server = grpc.aio.server(options=SERVER_OPTIONS)
    # The generated bases answer UNIMPLEMENTED for the RPCs left out; grpc-stubs calls them
    # abstract.
    servicer = Baseline()  # type: ignore[abstract]
    broker_pb2_grpc.add_BrokerServicer_to_server(servicer, server)
    admin_pb2_grpc.add_AdminServicer_to_server(servicer, server)
    port = server.add_insecure_port(listen)
    await server.start()
    try:
        print(f"baseline listening on {listen.rpartition(':')[0]}:{port}", flush=True)
        await stop.wait()
    finally:
        await server.stop(1.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT")
    args = parser.parse_args(argv)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(args.listen, stop)

    import uvloop

    uvloop.run(run())


if __name__ == "__main__":
    main()
