"""Where each message is, for GetMessageStatus, WatchMessage and ``WAIT_FOR_DELIVERED``.

Live messages are read straight from their queue; a finished message's last status is kept in
a bounded table, so a publisher can still ask after the ack. The board also holds the open
watches and the Sends waiting for delivery, and is told of every change by the broker.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from broker.model import CopyState, Guarantee, MessageState, StoredMessage

STATUS_RETENTION = 100_000
"""Finished messages whose status stays readable; bounded so memory follows live data."""

Key = tuple[str, str]
"""(queue, message id)."""


@dataclass
class CopyStatus:
    subscription: str
    state: MessageState
    attempts: int


@dataclass
class MessageStatus:
    queue: str
    message_id: str
    state: MessageState
    acked_by: list[str]
    required_acks: int
    attempts: int
    copies: list[CopyStatus]
    reason: str
    update_time: float
    guarantee: Guarantee


def live_state(msg: StoredMessage) -> MessageState:
    """The overall state: decided (final), or in flight while any copy is leased."""
    if msg.state.final:
        return msg.state
    if any(c.state is CopyState.IN_FLIGHT for c in msg.copies):
        return MessageState.IN_FLIGHT
    return MessageState.PENDING


def _copy_state(final: MessageState | None, state: CopyState) -> MessageState:
    if final is not None:
        return final
    return MessageState.IN_FLIGHT if state is CopyState.IN_FLIGHT else MessageState.PENDING


def status_of(msg: StoredMessage) -> MessageStatus:
    return MessageStatus(
        queue=msg.queue,
        message_id=msg.id,
        state=live_state(msg),
        acked_by=list(msg.acked_by),
        required_acks=msg.required_acks,
        attempts=sum(c.attempts for c in msg.copies),
        copies=[
            CopyStatus(c.sub or "", _copy_state(c.final, c.state), c.attempts) for c in msg.copies
        ],
        reason=msg.reason,
        update_time=msg.update_time,
        guarantee=msg.guarantee,
    )


class StatusBoard:
    """Finished statuses, watchers and delivery waiters. Owned by the broker's event loop."""

    def __init__(self, retention: int = STATUS_RETENTION) -> None:
        self.retention = retention
        self._finished: OrderedDict[Key, MessageStatus] = OrderedDict()
        self._watchers: dict[Key, list[asyncio.Queue[MessageStatus]]] = {}
        self._waiters: dict[Key, asyncio.Future[MessageStatus]] = {}

    def finished_status(self, key: Key) -> MessageStatus | None:
        return self._finished.get(key)

    def changed(self, msg: StoredMessage) -> None:
        """Tells the watchers of a message, and a Send waiting for it once it is decided."""
        key = (msg.queue, msg.id)
        watchers = self._watchers.get(key)
        waiter = self._waiters.get(key)
        if not watchers and waiter is None:
            return
        status = status_of(msg)
        for updates in watchers or ():
            updates.put_nowait(status)
        if waiter is not None and not waiter.done() and status.state.final:
            waiter.set_result(status)

    def finished(self, msg: StoredMessage) -> None:
        self._finished[(msg.queue, msg.id)] = status_of(msg)
        while len(self._finished) > self.retention:
            self._finished.popitem(last=False)

    def expect(self, key: Key) -> asyncio.Future[MessageStatus]:
        """A future resolved with the message's status once it is decided."""
        future = asyncio.get_running_loop().create_future()
        self._waiters[key] = future
        return future

    def stop_expecting(self, key: Key) -> None:
        self._waiters.pop(key, None)

    async def watch(self, first: MessageStatus) -> AsyncGenerator[MessageStatus, None]:
        """Yields ``first``, then every different status, until the message is finished."""
        key = (first.queue, first.message_id)
        yield first
        if key in self._finished:
            return
        updates: asyncio.Queue[MessageStatus] = asyncio.Queue()
        self._watchers.setdefault(key, []).append(updates)
        try:
            last = first
            while True:
                status = await updates.get()
                if status != last:
                    yield status
                    last = status
                if key in self._finished and updates.empty():
                    return
        finally:
            watchers = self._watchers.get(key, [])
            if updates in watchers:
                watchers.remove(updates)
            if not watchers:
                self._watchers.pop(key, None)
