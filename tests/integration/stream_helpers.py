"""Helpers for integration tests that drive streaming RPCs with bounded waits.

gRPC's sync stream iterators block; ``StreamPump`` reads one in a daemon thread into a queue so a
test can wait for the next frame with a timeout, check that nothing arrives for a while, and
cancel the stream. ``RequestFeed`` is the request side of a bidi stream, fed from the test.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc
from google.protobuf import duration_pb2

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2

T = TypeVar("T")
RPC_TIMEOUT = 10.0
"""Deadline of every unary call a test makes, so a hung server fails a test instead of hanging."""

_END = object()


def dur(seconds: float) -> duration_pb2.Duration:
    out = duration_pb2.Duration()
    out.FromNanoseconds(round(seconds * 1e9))
    return out


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class StreamPump:
    """Reads a server stream (a grpc call that is an iterator) into a queue in a thread."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self._q: queue.Queue[Any] = queue.Queue()
        self.error: grpc.RpcError | None = None
        self.failure: BaseException | None = None
        self.done = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="stream-pump")
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self.call:
                self._q.put(item)
        except grpc.RpcError as exc:
            self.error = exc
        except BaseException as exc:  # recorded, never raised in the thread
            self.failure = exc
        finally:
            self.done.set()
            self._q.put(_END)

    def next(self, timeout: float) -> Any | None:
        """The next frame, or None when none arrives within ``timeout`` or the stream ended."""
        if self._ended:
            return None
        try:
            item = self._q.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if item is _END:
            self._ended = True
            return None
        return item

    def frames_for(self, seconds: float) -> list[Any]:
        """Every frame that arrives during the next ``seconds``."""
        out = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            item = self.next(remaining)
            if item is None:
                if self._ended:
                    break
                continue
            out.append(item)
        return out

    def ended(self, timeout: float) -> bool:
        """True once the stream has ended (normally or with an error) within ``timeout``."""
        return self.done.wait(timeout)

    def code(self) -> grpc.StatusCode | None:
        return self.error.code() if self.error is not None else None  # type: ignore[attr-defined]

    def cancel(self) -> None:
        self.call.cancel()
        self.done.wait(5.0)


class RequestFeed:
    """The request iterator of a bidi stream; ``put`` sends, ``close`` half-closes."""

    def __init__(self, *first: Any) -> None:
        self._q: queue.Queue[Any] = queue.Queue()
        for item in first:
            self._q.put(item)

    def put(self, item: Any) -> None:
        self._q.put(item)

    def close(self) -> None:
        self._q.put(_END)

    def __iter__(self) -> Iterator[Any]:
        while True:
            item = self._q.get()
            if item is _END:
                return
            yield item


class BidiStream:
    """A StreamingReceive (or SendStream) call with its feed and pump."""

    def __init__(self, method: Callable[..., Any], first: Any) -> None:
        self.feed = RequestFeed(first)
        self.pump = StreamPump(method(iter(self.feed)))

    def send(self, request: Any) -> None:
        self.feed.put(request)

    def close(self) -> None:
        """Cancels the call (a consumer going away) and ends the request iterator."""
        self.pump.cancel()
        self.feed.close()

    def half_close(self) -> None:
        self.feed.close()


def collect_deliveries(
    pump: StreamPump, count: int, timeout: float
) -> tuple[list[types_pb2.Delivery], list[Any]]:
    """Reads frames until ``count`` deliveries arrived or ``timeout`` passed."""
    deliveries: list[types_pb2.Delivery] = []
    frames: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(deliveries) < count and (remaining := deadline - time.monotonic()) > 0:
        frame = pump.next(remaining)
        if frame is None:
            if pump.done.is_set():
                break
            continue
        frames.append(frame)
        deliveries.extend(frame.deliveries)
    return deliveries, frames


def wait_until(predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02) -> T:
    """Polls ``predicate`` until it returns something truthy; returns the last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def create_queue(admin: admin_pb2_grpc.AdminStub, name: str, **fields: Any) -> types_pb2.Queue:
    resp = admin.CreateQueue(
        admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=name, **fields)),
        timeout=RPC_TIMEOUT,
    )
    return resp.queue


def send(
    broker: broker_pb2_grpc.BrokerStub,
    queue_name: str,
    payloads: list[bytes] | int,
    **message_fields: Any,
) -> list[broker_pb2.SendResult]:
    """Sends messages (payloads, or a count of generated ones); asserts every one succeeded."""
    if isinstance(payloads, int):
        payloads = [f"m{i}".encode() for i in range(payloads)]
    resp = broker.Send(
        broker_pb2.SendRequest(
            queue=queue_name,
            messages=[types_pb2.Message(payload=p, **message_fields) for p in payloads],
        ),
        timeout=RPC_TIMEOUT,
    )
    assert len(resp.results) == len(payloads)
    for r in resp.results:
        assert not r.HasField("error"), r.error
        assert r.message_id
    return list(resp.results)


def stats(admin: admin_pb2_grpc.AdminStub, queue_name: str) -> admin_pb2.GetQueueStatsResponse:
    return admin.GetQueueStats(
        admin_pb2.GetQueueStatsRequest(queue=queue_name), timeout=RPC_TIMEOUT
    )


def pull(
    broker: broker_pb2_grpc.BrokerStub,
    queue_name: str,
    subscription: str = "",
    *,
    max_messages: int = 100,
    wait: float = 0.0,
    lease: float | None = None,
    filter_: str = "",
) -> list[types_pb2.Delivery]:
    req = broker_pb2.PullRequest(
        queue=queue_name,
        subscription=subscription,
        filter=filter_,
        max_messages=max_messages,
        wait=dur(wait),
    )
    if lease is not None:
        req.lease.CopyFrom(dur(lease))
    return list(broker.Pull(req, timeout=wait + RPC_TIMEOUT).deliveries)


def ack(broker: broker_pb2_grpc.BrokerStub, ack_ids: list[str]) -> list[str]:
    return list(
        broker.Ack(broker_pb2.AckRequest(ack_ids=ack_ids), timeout=RPC_TIMEOUT).failed_ack_ids
    )


def rpc_code(call: Callable[[], Any]) -> grpc.StatusCode:
    """The status code a unary call fails with; fails the test if it succeeds."""
    try:
        call()
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[attr-defined, no-any-return]
    raise AssertionError("the call succeeded; an error was expected")


def rpc_error(call: Callable[[], Any]) -> grpc.RpcError:
    try:
        call()
    except grpc.RpcError as exc:
        return exc
    raise AssertionError("the call succeeded; an error was expected")
