"""The memory store: the state machine of messages, in process.

Everything lives in ``Machine`` (queues with their ready orders, FIFO lanes, dedup windows and
counters; bindings; one timer heap for delays, leases and TTLs) and changes only through the
verb functions of its modules: ``admission`` (publish), ``leases`` (claim, extend, expiry),
``settlement`` (ack, nack, dead-letter by ack id), ``lifecycle`` (how units end; the rules of
the guarantees), ``deadletters``, ``catalog`` (queues, bindings, subscriptions) and ``admin``
(cancel, purge, redrive, peek, stats, status). Each verb is synchronous and tells the
``Journal`` of every durable change as it makes it; ``MemoryStore`` wraps them as the awaited
``Store`` verbs and awaits ``_commit`` after each, which is where the durable store waits for
its log. Nothing survives a restart here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from broker.model import QueueConfig, StartPosition, check_duration
from broker.store.base import (
    Claim,
    DeadLetterFilter,
    Listener,
    MessageStatus,
    NewMessage,
    Peeked,
    PublishResult,
    QueueStats,
    Store,
    SubscriptionInfo,
    settled,
)
from broker.store.ids import chosen_seqs, parse_message_id
from broker.store.memory import admin, admission, catalog, leases, retention, settlement
from broker.store.memory.journal import Journal
from broker.store.memory.machine import Clock, Machine


class MemoryStore(Store):
    """The state machine with a journal that keeps nothing (``--storage memory``, tests)."""

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        max_payload_bytes: int = 1024 * 1024,
        journal: Journal | None = None,
        run_timers: bool = True,
        status_retention_s: float | None = None,
        max_memory_bytes: int = 0,
        max_queues: int = 0,
    ) -> None:
        self.machine = Machine(
            clock=clock,
            max_payload_bytes=max_payload_bytes,
            journal=journal,
            max_memory_bytes=max_memory_bytes,
            max_queues=max_queues,
        )
        if status_retention_s is not None:
            self.machine.board.window_s = status_retention_s
        self._run_timers = run_timers
        """False for tests that drive the clock and call ``machine.timers.run_due()``."""

    def listen(self, listener: Listener) -> None:
        self.machine.listener = listener

    async def open(self) -> None:
        self.machine.start_sampling()
        if self._run_timers:
            self.machine.timers.start()

    async def close(self) -> None:
        await self.machine.timers.stop()

    async def wait_failed(self) -> BaseException:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def _commit(self, sync: bool = True, *, handout: bool = False) -> None:
        """Returns once the changes made so far are durable (here: at once); with ``handout``,
        once they are safe enough to hand deliveries out (see the durable store)."""

    # -- queues, bindings, subscriptions -------------------------------------------------

    async def create_queue(self, config: QueueConfig) -> QueueConfig:
        config = catalog.create_queue(self.machine, config)
        await self._commit()
        return config

    async def update_queue(self, name: str, changes: dict[str, object]) -> QueueConfig:
        config = catalog.update_queue(self.machine, name, changes)
        await self._commit()
        return config

    async def delete_queue(self, name: str) -> int:
        count = catalog.delete_queue(self.machine, name)
        await self._commit()
        return count

    async def get_queue(self, name: str) -> QueueConfig:
        return self.machine.queue(name).config

    async def list_queues(self, prefix: str = "") -> list[QueueConfig]:
        return [
            q.config for name, q in sorted(self.machine.queues.items()) if name.startswith(prefix)
        ]

    async def create_binding(self, pattern: str, queue: str) -> None:
        catalog.create_binding(self.machine, pattern, queue)
        await self._commit()

    async def delete_binding(self, pattern: str, queue: str) -> None:
        catalog.delete_binding(self.machine, pattern, queue)
        await self._commit()

    async def list_bindings(self, queue: str = "") -> list[tuple[str, str]]:
        return catalog.list_bindings(self.machine, queue)

    async def subscription(self, queue: str, name: str, filter_: str) -> SubscriptionInfo:
        info = catalog.subscription(self.machine, queue, name, filter_)
        await self._commit()
        return info

    async def list_subscriptions(self, queue: str) -> list[SubscriptionInfo]:
        return catalog.list_subscriptions(self.machine, queue)

    async def delete_subscription(self, queue: str, name: str) -> None:
        catalog.delete_subscription(self.machine, queue, name)
        await self._commit()

    # -- messages ------------------------------------------------------------------------

    async def publish(
        self, queue: str, batch: Sequence[NewMessage], *, watch: bool = False
    ) -> list[PublishResult]:
        results = admission.publish(self.machine, queue, batch, watch)
        await self._commit()
        return results

    async def claim(
        self,
        queue: str,
        subscription: str,
        max_messages: int,
        max_bytes: int,
        lease_s: float,
        *,
        oversized_first: bool = True,
    ) -> Claim:
        check_duration("lease", lease_s, allow_zero=False)
        claim = leases.claim(
            self.machine, queue, subscription, max_messages, max_bytes, lease_s, oversized_first
        )
        if claim.deliveries:
            await self._commit(handout=True)
        return claim

    async def settle(self, ack_ids: Sequence[str], *, sync: bool = True) -> list[str]:
        failed = settlement.settle(self.machine, ack_ids)
        await self._commit(sync)
        return failed

    async def requeue(
        self,
        ack_ids: Sequence[str],
        delay_s: float | None,
        *,
        failure: bool = True,
        sync: bool = True,
        reason: str = "",
    ) -> list[str]:
        if delay_s is not None:
            check_duration("delay", delay_s)
        failed = settlement.requeue(self.machine, ack_ids, delay_s, failure, reason)
        await self._commit(sync)
        return failed

    async def dead_letter(
        self, ack_ids: Sequence[str], reason: str, *, sync: bool = True
    ) -> list[str]:
        failed = settlement.dead_letter(self.machine, ack_ids, reason)
        await self._commit(sync)
        return failed

    async def extend(self, ack_ids: Sequence[str], lease_s: float) -> list[str]:
        check_duration("lease", lease_s)
        failed = settlement.extend(self.machine, ack_ids, lease_s)
        await self._commit(False)
        return failed

    async def cancel(self, queue: str, message_id: str) -> MessageStatus:
        result = admin.cancel(self.machine, queue, message_id)
        await self._commit()
        return result

    async def purge(self, queue: str) -> int:
        count = admin.purge(self.machine, queue)
        await self._commit()
        return count

    async def redrive(
        self,
        queue: str,
        destination: str,
        limit: int,
        *,
        reset_attempts: bool = False,
        message_ids: Sequence[str] = (),
    ) -> tuple[int, int]:
        result = admin.redrive(
            self.machine, queue, destination, limit, reset_attempts, chosen_seqs(message_ids)
        )
        await self._commit()
        return result

    async def peek(self, queue: str, limit: int) -> list[Peeked]:
        return admin.peek(self.machine, queue, limit)

    async def dead_letters(
        self, queue: str, limit: int, *, where: DeadLetterFilter | None = None
    ) -> list[bytes]:
        return admin.dead_letters(self.machine, queue, limit, where)

    async def stats(self, queue: str) -> QueueStats:
        return admin.stats(self.machine, queue)

    async def list_stats(self, prefix: str = "", *, lag: bool = False) -> list[QueueStats]:
        return [
            admin.stats(self.machine, name, lag)
            for name in sorted(self.machine.queues)
            if name.startswith(prefix)
        ]

    async def pause(self, queue: str) -> bool:
        changed = admin.set_paused(self.machine, queue, True)
        await self._commit()
        return changed

    async def resume(self, queue: str) -> bool:
        changed = admin.set_paused(self.machine, queue, False)
        await self._commit()
        return changed

    async def status(self, queue: str, message_id: str) -> MessageStatus:
        return admin.status(self.machine, queue, message_id)

    async def watch(self, queue: str, message_id: str) -> MessageStatus:
        status = admin.status(self.machine, queue, message_id)
        seq = parse_message_id(message_id)
        if not settled(status) and seq is not None:
            self.machine.board.watch(seq)
        return status

    def unwatch(self, queue: str, message_id: str) -> None:
        seq = parse_message_id(message_id)
        if seq is not None:
            self.machine.board.unwatch(seq)

    # -- retention and replay ------------------------------------------------------------

    async def start_subscription(
        self,
        queue: str,
        name: str,
        filter_: str,
        position: StartPosition,
        start_time: float = 0.0,
    ) -> SubscriptionInfo:
        info = retention.start(self.machine, queue, name, filter_, position, start_time)
        await self._commit()
        return info

    async def seek(self, queue: str, subscription: str, time: float) -> tuple[int, int]:
        result = retention.seek(self.machine, queue, subscription, time)
        await self._commit()
        return result
