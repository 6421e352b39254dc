"""What the PostgreSQL store does in the background: cross-server signals, sweeps, health.

- Notifications: each verb's signals (subscriptions with something to claim, watched
  messages that changed) are gathered per queue and sent every ``notify_s`` (20 ms) at most,
  after the verbs committed, as one ``pg_notify`` per queue in one statement on a pooled
  connection. Every server LISTENs on a dedicated session connection of its own and passes
  what other servers sent to its listener. LISTEN needs a session: through a
  transaction-mode pooler (pgbouncer ``pool_mode=transaction``) notifications are lost, and
  only the polling below keeps consumers going.
- Polling, the fallback: every ``poll_s`` each subscription is said to be ready and each
  watched message is re-read, so a lost notification delays a delivery by at most that.
- Leadership: the server whose listen connection holds the advisory lock ``LEADER_LOCK``
  runs the sweeps every ``sweep_s`` and rotates payload partitions; when its connection (or
  process) dies the lock goes with it, and another server takes over at its next try.
- Health: a lost listen connection, or a verb that cannot reach the database, marks the
  store unavailable; a probe every ``PROBE_S`` marks it available again once the database
  answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import asyncpg

from broker.errors import BrokerError
from broker.store.base import MessageStatus
from broker.store.memory.rates import SAMPLE_EVERY_S

if TYPE_CHECKING:
    from broker.store.postgres import PostgresStore, Signals

log = logging.getLogger(__name__)

CHANNEL = "conveyor"
LEADER_LOCK = 0x636F6E76_0002
PROBE_S = 0.5
ROTATE_S = 10.0
MAX_PAYLOAD = 7000
"""Bytes per notification (PostgreSQL's limit is 8000)."""


class Background:
    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.conn: asyncpg.Connection | None = None
        self.conn_lock = asyncio.Lock()
        self.leader = False
        self.pending: dict[str, tuple[set[str], set[int]]] = {}
        self.wake = asyncio.Event()
        self.availability = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.reported: dict[tuple[str, int], float] = {}
        self.reports: set[asyncio.Task[None]] = set()
        """Status reads started by notifications (kept so they are not collected early)."""

    async def start(self) -> None:
        await self._connect()
        for name, loop in (
            ("notify", self._notify_loop),
            ("sweep", self._sweep_loop),
            ("poll", self._poll_loop),
            ("probe", self._probe_loop),
            ("rates", self._rates_loop),
        ):
            self.tasks.append(asyncio.create_task(loop(), name=f"conveyor-pg-{name}"))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks = []
        if self.conn is not None:
            conn, self.conn = self.conn, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)

    # -- availability --------------------------------------------------------------------

    def availability_changed(self) -> None:
        self.availability.set()
        self.availability = asyncio.Event()

    async def wait_availability(self) -> None:
        await self.availability.wait()

    # -- the listen connection -----------------------------------------------------------

    async def _connect(self) -> None:
        conn = await asyncpg.connect(
            self.store.dsn,
            timeout=5,
            server_settings={
                "application_name": "conveyor-listen",
                "idle_in_transaction_session_timeout": "60000",
            },
        )
        await conn.add_listener(CHANNEL, self._heard)
        conn.add_termination_listener(self._terminated)
        self.conn = conn
        self.leader = False

    def _terminated(self, conn: Any) -> None:
        if conn is self.conn:
            self.conn = None
            self.leader = False
            self.store.set_available(False, "the listen connection was closed")

    def _heard(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        try:
            instance, queue, subs, seqs = payload.split("|", 3)
        except ValueError:
            return
        if instance == self.store.instance:
            return
        listener = self.store.listener
        if listener is not None:
            for sub in subs.split(","):
                if sub:
                    listener.ready(queue, sub)
        watched = [(queue, int(s, 16)) for s in seqs.split(",") if s]
        watched = [k for k in watched if k in self.store.watched]
        if watched:
            task = asyncio.get_running_loop().create_task(self._report(watched))
            self.reports.add(task)
            task.add_done_callback(self.reports.discard)

    async def _report(self, keys: list[tuple[str, int]]) -> None:
        with contextlib.suppress(BrokerError):
            for status in await self.store._statuses(keys):
                self._changed(status)

    def _changed(self, status: MessageStatus) -> None:
        key = (status.queue, int(status.message_id, 16))
        self.reported[key] = status.update_time
        if self.store.listener is not None:
            self.store.listener.changed(status)

    # -- notifications -------------------------------------------------------------------

    def publish(self, signals: Signals) -> None:
        """Queues a verb's signals for the other servers (sent by ``_notify_loop``)."""
        if not signals.ready and not signals.watched:
            return
        pending = self.pending
        for queue, sub in signals.ready:
            pending.setdefault(queue, (set(), set()))[0].add(sub)
        for queue, seq in signals.watched:
            pending.setdefault(queue, (set(), set()))[1].add(seq)
        self.wake.set()

    def _payloads(self, pending: dict[str, tuple[set[str], set[int]]]) -> list[str]:
        out = []
        me = self.store.instance
        for queue, (subs, seqs) in pending.items():
            head = f"{me}|{queue}|"
            sub_text = ",".join(sorted(subs))
            seq_list = [f"{s:x}" for s in sorted(seqs)]
            while True:
                taken: list[str] = []
                size = len(head) + len(sub_text) + 1
                while seq_list and size + len(seq_list[0]) + 1 < MAX_PAYLOAD:
                    size += len(seq_list[0]) + 1
                    taken.append(seq_list.pop(0))
                out.append(f"{head}{sub_text}|{','.join(taken)}")
                if not seq_list:
                    break
        return out

    async def _notify_loop(self) -> None:
        while True:
            await self.wake.wait()
            await asyncio.sleep(self.store.notify_s)
            self.wake.clear()
            pending, self.pending = self.pending, {}
            payloads = self._payloads(pending)
            try:
                async with self.store._db() as conn:
                    await conn.execute(
                        "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", CHANNEL, payloads
                    )
            except BrokerError:
                pass  # the database is away: polling covers what was not sent
            except Exception:
                log.exception("sending notifications failed")

    # -- the leader's sweeps -------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        store = self.store
        rotated = 0.0
        while True:
            await asyncio.sleep(store.sweep_s)
            try:
                if not self.leader and self.conn is not None:
                    async with self.conn_lock:
                        self.leader = bool(
                            await self.conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK)
                        )
                    if self.leader:
                        log.info("this server leads the sweeps")
                        store._last_due = store.clock() - 5 * store.sweep_s
                if not self.leader:
                    continue
                await store.sweep()
                if time.monotonic() - rotated > ROTATE_S:
                    rotated = time.monotonic()
                    from broker.store.postgres.sweep import rotate

                    async with store._db() as conn:
                        await rotate(conn)
            except BrokerError:
                pass
            except Exception as exc:
                log.warning("sweep failed: %s", exc)

    async def _rates_loop(self) -> None:
        """Every server samples the shared counters for its own rate rings."""
        store = self.store
        while True:
            await asyncio.sleep(SAMPLE_EVERY_S)
            try:
                async with store._db() as conn:
                    await store.sample_rates(conn, store.clock())
            except BrokerError:
                pass
            except Exception as exc:
                log.warning("sampling rates failed: %s", exc)

    # -- polling and health --------------------------------------------------------------

    async def _poll_loop(self) -> None:
        store = self.store
        while True:
            await asyncio.sleep(store.poll_s)
            try:
                async with store._db() as conn:
                    rows = await conn.fetch(
                        "SELECT q.name AS queue, s.name AS sub FROM conveyor_subscriptions s"
                        " JOIN conveyor_queues q ON q.id = s.queue_id"
                    )
                if store.listener is not None:
                    for r in rows:
                        store.listener.ready(r["queue"], r["sub"])
                if store.watched:
                    for status in await store._statuses(list(store.watched)):
                        key = (status.queue, int(status.message_id, 16))
                        if self.reported.get(key) != status.update_time:
                            self._changed(status)
                for key in [k for k in self.reported if k not in store.watched]:
                    del self.reported[key]
            except BrokerError:
                pass
            except Exception as exc:
                log.warning("polling failed: %s", exc)

    async def _probe_loop(self) -> None:
        store = self.store
        while True:
            await asyncio.sleep(PROBE_S)
            try:
                if self.conn is None or self.conn.is_closed():
                    self.conn = None
                    await self._connect()
                async with self.conn_lock:
                    assert self.conn is not None
                    await self.conn.fetchval("SELECT 1", timeout=2)
                if not store.available:
                    if store._pool is not None:
                        # Connections made before the outage are dead: replace them all
                        # rather than fail one verb on each.
                        await store._pool.expire_connections()
                    async with store._db() as conn:
                        await conn.fetchval("SELECT 1", timeout=2)
                    store.set_available(True)
            except BrokerError:
                continue
            except Exception as exc:
                if self.conn is not None and not self.conn.is_closed():
                    with contextlib.suppress(Exception):
                        self.conn.terminate()
                self.conn = None
                self.leader = False
                store.set_available(False, str(exc) or type(exc).__name__)
