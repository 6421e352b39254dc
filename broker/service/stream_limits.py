"""Caps on open streaming calls, per connection and in all, as a server interceptor.

A stream holds a consumer, its window of deliveries and a task or two for as long as it is
open, so an unbounded number of them is an unbounded amount of memory. HTTP/2's own
``MAX_CONCURRENT_STREAMS`` would only make clients queue their calls silently; this refuses
the stream over the limit with ``RESOURCE_EXHAUSTED`` naming it, and the others carry on.
A connection is told apart by its peer address (one TCP connection, one client port).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

Ctx = grpc.aio.ServicerContext[Any, Any]

STREAMING = frozenset(
    {
        "/conveyor.v1.Broker/Receive",
        "/conveyor.v1.Broker/StreamingReceive",
        "/conveyor.v1.Broker/SendStream",
        "/conveyor.v1.Broker/WatchMessage",
    }
)


class StreamLimiter(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Counts open streams; refuses one past ``per_connection`` or ``total``."""

    def __init__(self, total: int, per_connection: int) -> None:
        self.total = total
        self.per_connection = per_connection
        self.open = 0
        self.by_peer: dict[str, int] = {}

    def _refusal(self, peer: str) -> str | None:
        if self.open >= self.total:
            return (
                f"max_streams reached: the server has {self.open} streams open, its limit; "
                "close some or retry later"
            )
        if self.by_peer.get(peer, 0) >= self.per_connection:
            return (
                f"max_streams_per_connection reached: this connection has {self.per_connection}"
                " streams open; close some or open another connection"
            )
        return None

    def _enter(self, peer: str) -> None:
        self.open += 1
        self.by_peer[peer] = self.by_peer.get(peer, 0) + 1

    def _leave(self, peer: str) -> None:
        self.open -= 1
        left = self.by_peer[peer] - 1
        if left:
            self.by_peer[peer] = left
        else:
            del self.by_peer[peer]

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method not in STREAMING:
            return handler
        kind = "stream_stream" if handler.request_streaming else "unary_stream"
        inner = getattr(handler, kind)

        async def counted(request: Any, context: Ctx) -> AsyncIterator[Any]:
            peer = context.peer()
            why = self._refusal(peer)
            if why is not None:
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, why)
            self._enter(peer)
            try:
                async for response in inner(request, context):
                    yield response
            finally:
                self._leave(peer)

        return handler._replace(**{kind: counted})  # type: ignore[attr-defined, no-any-return]
