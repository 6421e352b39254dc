"""Helpers for the Python SDK tests: a spy on a real client's Sends, async polling with a bound.

The SDK is always exercised against a real ``conveyor serve`` process (``conftest.server``);
the spy only counts the calls the SDK makes through a real ``AsyncClient``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from conveyor_client import AsyncClient

T = TypeVar("T")


class SendSpy:
    """Wraps ``client.send`` to record the size of each batch it is called with."""

    def __init__(self, client: AsyncClient) -> None:
        self.batches: list[int] = []
        real = client.send

        async def send(messages: Any, *args: Any, **kwargs: Any) -> Any:
            messages = list(messages)
            self.batches.append(len(messages))
            return await real(messages, *args, **kwargs)

        client.send = send  # type: ignore[method-assign]


async def eventually(
    fn: Callable[[], Awaitable[T]],
    timeout: float = 10.0,  # noqa: ASYNC109  (a bound on polling, not a call timeout)
    what: str = "",
) -> T:
    """Awaits ``fn()`` until it is truthy (server state polled with a bound); returns it."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fn()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or fn}; last: {value!r}")
        await asyncio.sleep(0.02)


async def wait_event(
    event: asyncio.Event,
    timeout: float = 10.0,  # noqa: ASYNC109  (a bound on the wait)
    what: str = "",
) -> None:
    """Awaits ``event``, failing the test after ``timeout`` seconds."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        pytest.fail(f"timed out after {timeout}s waiting for {what}")
