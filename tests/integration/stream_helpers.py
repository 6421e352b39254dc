"""Helpers for integration tests that drive streaming RPCs with bounded waits.

gRPC's sync stream iterators block; ``StreamPump`` reads one in a daemon thread into a queue so a
test can wait for the next frame with a timeout, check that nothing arrives for a while, and
cancel the stream. ``RequestFeed`` is the request side of a bidi stream, fed from the test.
The unary helpers these tests also use are in ``rpc_helpers``.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from rpc_helpers import message

from conveyor.v1 import types_pb2

_END = object()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def numbered(count: int, **fields: Any) -> list[types_pb2.Message]:
    """``count`` Messages with payloads ``m0``, ``m1``, ...; ``fields`` set on each."""
    return [message(f"m{i}", **fields) for i in range(count)]


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


def rpc_error(call: Callable[[], Any]) -> grpc.RpcError:
    """The RpcError a call fails with; fails the test if it succeeds."""
    try:
        call()
    except grpc.RpcError as exc:
        return exc
    raise AssertionError("the call succeeded; an error was expected")
