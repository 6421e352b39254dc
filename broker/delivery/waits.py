"""Waiting on messages: ``WAIT_FOR_DELIVERED`` Sends and ``WatchMessage`` streams.

The store reports changes of watched messages (``Listener.changed``); ``Watches`` hands each
status to the watch streams of that message and resolves the Send waiting for it once the
status is final. Registering happens right after the store said the message exists, and the
current status is read again after registering, so a change in between is never missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from broker.errors import NotFound
from broker.store.base import MessageStatus, Store, settled

Key = tuple[str, str]
"""(queue, message id)."""


class Watches:
    def __init__(self) -> None:
        self._streams: dict[Key, list[asyncio.Queue[MessageStatus]]] = {}
        self._waiters: dict[Key, list[asyncio.Future[MessageStatus]]] = {}

    def changed(self, status: MessageStatus) -> None:
        key = (status.queue, status.message_id)
        for updates in self._streams.get(key, ()):
            updates.put_nowait(status)
        if status.state.final:
            for waiter in self._waiters.pop(key, ()):
                if not waiter.done():
                    waiter.set_result(status)

    async def delivered(
        self, store: Store, keys: list[Key], timeout_s: float
    ) -> dict[Key, MessageStatus | None]:
        """Waits up to ``timeout_s`` for each message (already watched by the store) to be
        final; returns each one's final status, or None if it was not by then."""
        loop = asyncio.get_running_loop()
        futures: dict[Key, asyncio.Future[MessageStatus]] = {}
        for key in keys:
            future = futures[key] = loop.create_future()
            self._waiters.setdefault(key, []).append(future)
        try:
            for key, future in futures.items():
                with contextlib.suppress(NotFound):  # finished long ago: its waiter decides
                    current = await store.status(*key)
                    if current.state.final and not future.done():
                        future.set_result(current)
            await asyncio.wait(list(futures.values()), timeout=timeout_s)
            return {k: f.result() if f.done() else None for k, f in futures.items()}
        finally:
            for key, future in futures.items():
                future.cancel()
                waiting = self._waiters.get(key)
                if waiting is not None and future in waiting:
                    waiting.remove(future)
                    if not waiting:
                        del self._waiters[key]
                store.unwatch(*key)

    async def watch(
        self, store: Store, queue: str, message_id: str
    ) -> AsyncGenerator[MessageStatus, None]:
        """Yields the current status, then every different one, until it is ``settled``."""
        first = await store.watch(queue, message_id)
        yield first
        if settled(first):
            return
        key = (queue, message_id)
        updates: asyncio.Queue[MessageStatus] = asyncio.Queue()
        self._streams.setdefault(key, []).append(updates)
        try:
            last = first
            current = await store.status(queue, message_id)
            if current != last:
                updates.put_nowait(current)
            while True:
                status = await updates.get()
                if status != last:
                    yield status
                    last = status
                if settled(status):
                    return
        finally:
            streams = self._streams.get(key, [])
            if updates in streams:
                streams.remove(updates)
            if not streams:
                self._streams.pop(key, None)
            store.unwatch(queue, message_id)
