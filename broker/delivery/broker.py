"""The broker as the service layer sees it: the store, plus what belongs to connections.

``Broker`` is the store's listener: ready signals wake the consumers of a subscription, and
changes of watched messages reach the Sends and watch streams waiting on them. Every call the
service makes goes to the store once per batch; what the store answers is passed up as is,
except that settling an ack id also frees the flow-control slot of the stream that holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

from broker.delivery.consumers import Consumer, Registry
from broker.delivery.waits import Watches
from broker.errors import (
    BrokerError,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    Unavailable,
)
from broker.model import MessageState, QueueConfig, StartPosition, check_duration
from broker.store.base import (
    Claim,
    DeadLetterFilter,
    MessageStatus,
    NewMessage,
    Outcome,
    Peeked,
    PublishResult,
    QueueStats,
    Store,
    SubscriptionInfo,
)
from broker.telemetry.logs import event

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 1000
"""Default max outstanding messages per stream, as Pub/Sub's StreamingPull."""
MAX_PULL = 1000


class Broker:
    """Connections over a store. Owned by one event loop."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.consumers = Registry()
        self.watches = Watches()
        self._background: set[asyncio.Future[list[str]]] = set()
        self._failure_watch: asyncio.Task[None] | None = None
        store.listen(self)

    # -- the store's listener ------------------------------------------------------------

    def ready(self, queue: str, subscription: str) -> None:
        self.consumers.ready(queue, subscription)

    def changed(self, status: MessageStatus) -> None:
        self.watches.changed(status)

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.open()
        self._failure_watch = asyncio.create_task(
            self._end_streams_on_failure(), name="conveyor-stream-failure-watch"
        )

    async def _end_streams_on_failure(self) -> None:
        """Once the store has failed, every stream ends with UNAVAILABLE (its consumer can
        reconnect to a healthy server) instead of waiting for messages that cannot come."""
        error = await self.store.wait_failed()
        self.consumers.close_all(
            Unavailable(f"the store failed; reconnect to another server: {error}")
        )

    def close_streams(self) -> None:
        """Ends every Receive stream and long poll (shutting down)."""
        self.consumers.close_all()

    async def stop(self) -> None:
        self.close_streams()
        if self._failure_watch is not None:
            self._failure_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._failure_watch
        await self.store.close()

    # -- sending -------------------------------------------------------------------------

    async def send(
        self,
        queue: str,
        batch: Sequence[NewMessage],
        *,
        wait_delivered: bool = False,
        timeout_s: float = 30.0,
    ) -> list[PublishResult]:
        results = await self.store.publish(queue, batch, watch=wait_delivered)
        if wait_delivered:
            await self._wait_delivered(queue, results, timeout_s)
        return results

    async def _wait_delivered(
        self, queue: str, results: list[PublishResult], timeout_s: float
    ) -> None:
        """Each message stored by this Send (the store watches them from the start) must end
        DELIVERED within the timeout, or its result becomes an error."""
        waiting: dict[tuple[str, str], int] = {}
        for i, result in enumerate(results):
            if isinstance(result, str):
                waiting[(queue, result)] = i
            elif result.error is None:
                for q, mid, dup in zip(
                    result.queues, result.message_ids, result.duplicates, strict=True
                ):
                    if not dup:
                        waiting[(q, mid)] = i
        if not waiting:
            return
        final = await self.watches.delivered(self.store, list(waiting), timeout_s)
        for key, i in waiting.items():
            status = final[key]
            if status is not None and status.state is MessageState.DELIVERED:
                continue
            if status is None:
                error: BrokerError = DeadlineExceeded(
                    f"message {key[1]} was stored but not delivered within {timeout_s}s"
                )
            else:
                error = FailedPrecondition(
                    f"message {key[1]} was stored but ended {status.state.name}: {status.reason}"
                )
            result = results[i]
            if isinstance(result, str):
                results[i] = Outcome(result, queues=[queue], message_ids=[result], error=error)
            elif result.error is None:
                result.error = error

    # -- consuming -----------------------------------------------------------------------

    async def open_consumer(
        self,
        queue: str,
        subscription: str,
        filter_: str,
        max_messages: int,
        max_bytes: int,
        lease_s: float | None,
        *,
        holds_credit: bool = True,
        start: tuple[StartPosition, float] = (StartPosition.NEW, 0.0),
    ) -> Consumer:
        config = await self.store.get_queue(queue)
        if start[0] is StartPosition.NEW:
            await self.store.subscription(queue, subscription, filter_)
        else:
            await self.store.start_subscription(queue, subscription, filter_, *start)
        lease = config.lease_s if not lease_s else check_duration("lease", lease_s)
        consumer = Consumer(
            queue,
            subscription,
            max_messages or DEFAULT_WINDOW,
            max_bytes,
            lease,
            holds_credit=holds_credit,
        )
        self.consumers.add(consumer)
        return consumer

    async def close_consumer(self, consumer: Consumer) -> None:
        """A stream ended: what it still holds goes straight back (the attempts stay counted,
        not as failures)."""
        consumer.close()
        self.consumers.remove(consumer)
        held = list(consumer.held)
        consumer.held.clear()
        if held:
            with contextlib.suppress(BrokerError):
                await self.store.requeue(held, 0.0, failure=False, sync=False)

    async def claim(self, consumer: Consumer) -> Claim | None:
        """One claim within the consumer's window; None when its window is full."""
        count, max_bytes = consumer.budget()
        if count <= 0:
            return None
        pending = asyncio.ensure_future(
            self.store.claim(
                consumer.queue,
                consumer.subscription,
                count,
                max_bytes,
                consumer.lease_s,
                oversized_first=not consumer.held,
            )
        )
        try:
            claim = await asyncio.shield(pending)
        except asyncio.CancelledError:
            # The stream went away while the claim waited for the log: what it leased must
            # not sit out its lease, so it goes back once the claim completes.
            pending.add_done_callback(self._release_orphan)
            raise
        if claim.deliveries:
            consumer.took(claim)
        return claim

    def _release_orphan(self, pending: asyncio.Future[Claim]) -> None:
        if pending.cancelled() or pending.exception() is not None:
            return
        held = [d[0] for d in pending.result().deliveries]
        if held:
            task = asyncio.ensure_future(self.store.requeue(held, 0.0, failure=False, sync=False))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def deliveries(
        self, consumer: Consumer, *, news: asyncio.Event | None = None
    ) -> AsyncIterator[Claim | None]:
        """Yields each claim as the window allows, until the consumer is closed; yields None
        when ``news`` is set (the stream has something else to send)."""
        wake = consumer.wake
        while not consumer.closed:
            wake.clear()
            claim = await self.claim(consumer)
            if claim is not None and claim.deliveries:
                yield claim
                continue
            if news is not None and news.is_set():
                news.clear()
                yield None
                continue
            await wake.wait()
        if consumer.error is not None:
            raise consumer.error

    async def pull(
        self,
        queue: str,
        subscription: str,
        filter_: str,
        max_messages: int,
        wait_s: float,
        lease_s: float | None,
        start: tuple[StartPosition, float] = (StartPosition.NEW, 0.0),
    ) -> Claim:
        if max_messages > MAX_PULL:
            raise InvalidArgument(f"max_messages {max_messages} is above the limit of {MAX_PULL}")
        check_duration("wait", wait_s)
        consumer = await self.open_consumer(
            queue,
            subscription,
            filter_,
            max_messages or 1,
            0,
            lease_s,
            holds_credit=False,
            start=start,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        try:
            while True:
                consumer.wake.clear()
                claim = await self.store.claim(
                    queue, subscription, consumer.max_messages, 0, consumer.lease_s
                )
                remaining = deadline - loop.time()
                if claim.deliveries or remaining <= 0 or consumer.closed:
                    return claim
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await consumer.wake.wait()
        finally:
            consumer.close()
            self.consumers.remove(consumer)

    # -- settling ------------------------------------------------------------------------

    async def ack(
        self, ack_ids: Sequence[str], *, holder: Consumer | None = None, sync: bool = True
    ) -> list[str]:
        failed = await self.store.settle(ack_ids, sync=sync)
        self._release(ack_ids, failed, holder)
        return failed

    async def nack(
        self,
        ack_ids: Sequence[str],
        delay_s: float | None,
        dead_letter: bool,
        reason: str,
        *,
        holder: Consumer | None = None,
        sync: bool = True,
    ) -> list[str]:
        if dead_letter:
            failed = await self.store.dead_letter(ack_ids, reason, sync=sync)
        else:
            failed = (
                await self.store.requeue(ack_ids, delay_s, sync=sync, reason=reason)
                if reason
                else await self.store.requeue(ack_ids, delay_s, sync=sync)
            )
        self._release(ack_ids, failed, holder)
        return failed

    async def nack_each(
        self,
        ack_ids: Sequence[str],
        reasons: Sequence[str],
        *,
        holder: Consumer | None = None,
        sync: bool = True,
    ) -> list[str]:
        """Nacks for redelivery with the queue's backoff, each ack id with its own reason
        (``reasons`` is parallel to ``ack_ids``). One store call per distinct reason: a failing
        handler mostly gives a whole batch the same one."""
        by_reason: dict[str, list[str]] = {}
        for ack_id, reason in zip(ack_ids, reasons, strict=True):
            by_reason.setdefault(reason, []).append(ack_id)
        failed: list[str] = []
        for reason, ids in by_reason.items():
            failed += await self.nack(ids, None, False, reason, holder=holder, sync=sync)
        return failed

    async def modify_lease(
        self, ack_ids: Sequence[str], lease_s: float, *, holder: Consumer | None = None
    ) -> list[str]:
        failed = await self.store.extend(ack_ids, lease_s)
        if lease_s == 0:
            self._release(ack_ids, failed, holder)
            return failed
        deadline = time.time() + lease_s
        bad = set(failed)
        ok = [a for a in ack_ids if a not in bad]
        for consumer in self.consumers.holders(ok, holder):
            consumer.extended(ok, deadline)
        return failed

    def _release(self, ack_ids: Sequence[str], failed: list[str], holder: Consumer | None) -> None:
        if failed:
            bad = set(failed)
            ok = [a for a in ack_ids if a not in bad]
        else:
            ok = list(ack_ids)
        if ok:
            self.consumers.release(ok, holder)

    # -- following messages --------------------------------------------------------------

    async def status(self, queue: str, message_id: str) -> MessageStatus:
        return await self.store.status(queue, message_id)

    def watch(self, queue: str, message_id: str) -> AsyncGenerator[MessageStatus, None]:
        return self.watches.watch(self.store, queue, message_id)

    async def cancel(self, queue: str, message_id: str) -> MessageStatus:
        return await self.store.cancel(queue, message_id)

    # -- administration ------------------------------------------------------------------

    async def create_queue(self, config: QueueConfig) -> QueueConfig:
        created = await self.store.create_queue(config)
        log.info(
            "queue %s created (%s)",
            created.name,
            created.kind.name.lower(),
            extra=event("queue.created", queue=created.name, kind=created.kind.name.lower()),
        )
        return created

    async def update_queue(self, name: str, changes: dict[str, object]) -> QueueConfig:
        return await self.store.update_queue(name, changes)

    async def delete_queue(self, name: str) -> int:
        count = await self.store.delete_queue(name)
        for consumer in self.consumers.of(name):
            consumer.close()
        log.info(
            "queue %s deleted with %d messages",
            name,
            count,
            extra=event("queue.deleted", queue=name, messages_deleted=count),
        )
        return count

    async def get_queue(self, name: str) -> QueueConfig:
        return await self.store.get_queue(name)

    async def list_queues(self, prefix: str = "") -> list[QueueConfig]:
        return await self.store.list_queues(prefix)

    async def purge_queue(self, name: str) -> int:
        return await self.store.purge(name)

    async def create_binding(self, pattern: str, queue: str) -> None:
        await self.store.create_binding(pattern, queue)

    async def delete_binding(self, pattern: str, queue: str) -> None:
        await self.store.delete_binding(pattern, queue)

    async def list_bindings(self, queue: str = "") -> list[tuple[str, str]]:
        return await self.store.list_bindings(queue)

    async def list_subscriptions(self, queue: str) -> list[tuple[SubscriptionInfo, int]]:
        """Each subscription with its number of open streams."""
        return [
            (info, self.consumers.count(queue, info.name))
            for info in await self.store.list_subscriptions(queue)
        ]

    async def delete_subscription(self, queue: str, name: str) -> None:
        await self.store.delete_subscription(queue, name)
        for consumer in self.consumers.of(queue, name):
            consumer.close()

    async def stats(self, queue: str) -> QueueStats:
        return await self.store.stats(queue)

    async def seek(self, queue: str, subscription: str, time_s: float) -> tuple[int, int]:
        return await self.store.seek(queue, subscription, time_s)

    async def peek(self, queue: str, limit: int) -> list[Peeked]:
        return await self.store.peek(queue, limit)

    async def dead_letters(
        self, queue: str, limit: int, where: DeadLetterFilter | None = None
    ) -> list[bytes]:
        if where is None or where == DeadLetterFilter():
            return await self.store.dead_letters(queue, limit)
        return await self.store.dead_letters(queue, limit, where=where)

    async def redrive(
        self,
        queue: str,
        destination: str,
        limit: int,
        *,
        reset_attempts: bool = False,
        message_ids: Sequence[str] = (),
    ) -> tuple[int, int]:
        moved, skipped = await self.store.redrive(
            queue, destination, limit, reset_attempts=reset_attempts, message_ids=message_ids
        )
        log.info(
            "redrove %d dead letters from %s (%d skipped)",
            moved,
            queue,
            skipped,
            extra=event(
                "dlq.redrive",
                queue=queue,
                destination=destination or None,
                redriven=moved,
                skipped=skipped,
            ),
        )
        return moved, skipped

    async def list_stats(self, prefix: str = "", *, lag: bool = False) -> list[QueueStats]:
        return await self.store.list_stats(prefix, lag=lag)

    async def pause(self, queue: str) -> bool:
        return await self.store.pause(queue)

    async def resume(self, queue: str) -> bool:
        return await self.store.resume(queue)
