"""The PostgreSQL store: message state in tables, so several servers share one database.

Every verb is a few statements per batch (``sql``): a publish is one multi-row insert of
payloads and units (plus dedup and depth checks when the queue needs them); a claim is one
``UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n)`` that sets one token and
deadline for the batch and returns the payloads; acks, nacks and lease changes are one
``UPDATE ... FROM unnest(ack ids)`` each. A lease is ``visible_at`` plus ``token``, and the
ack id carries the token, so a late ack after a re-claim is refused.

Change signals: this server's own changes go to its listener at once; other servers hear of
them by ``LISTEN/NOTIFY`` (``signals``), with polling as the fallback. One server at a time,
the leader, runs the sweeps (``sweep``: lease expiry, due messages, TTL, retention,
partitions). Lost connections make the store unavailable (verbs raise ``Unavailable``) until
the database answers again; nothing is reported done that was not committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg

from broker import wire
from broker.errors import (
    AlreadyExists,
    BrokerError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from broker.model import (
    DeadLetterReason,
    Guarantee,
    MessageState,
    Overflow,
    QueueConfig,
    QueueKind,
    StartPosition,
    check_duration,
    check_name,
)
from broker.routing import PatternTrie, validate_pattern, validate_topic
from broker.store import admission_rules as rules
from broker.store.at_rest import AtRest, check_encryption_kept, check_sealing
from broker.store.base import (
    Claim,
    DeadLetterFilter,
    Listener,
    MessageStatus,
    NewMessage,
    Outcome,
    Peeked,
    PublishResult,
    QueueStats,
    Rates,
    Store,
    SubscriptionInfo,
    SubscriptionLag,
    settled,
)
from broker.store.ids import chosen_seqs, message_id, new_token, parse_ack_id, parse_message_id
from broker.store.memory.admission import content_id
from broker.store.memory.backoff import retry_delay
from broker.store.memory.deadletters import content, origin
from broker.store.memory.queue import Counters
from broker.store.memory.rates import WINDOWS_S, RateRing
from broker.store.postgres import retention, schema, sql
from broker.store.postgres.payloads import Payloads, encoding
from broker.store.postgres.rows import (
    DONE,
    LEASED,
    WAITING,
    config_from,
    config_json,
    db_token,
    filter_regex,
    matching,
    status_from,
    token_hex,
)

log = logging.getLogger(__name__)

Clock = Callable[[], float]

REASON_MAX_DELIVERIES = "max deliveries exceeded"
REASON_EXPIRED = "expired"
REASON_NACKED = "nacked to dead letters"
REASON_DROPPED = "dropped: queue full (DROP_OLDEST)"
REASON_CANCELLED = "cancelled"
REASON_PURGED = "purged"
REASON_REDRIVEN = "redriven"
REASON_QUEUE_DELETED = "queue deleted"
REASON_SUBSCRIPTION_DELETED = "subscription deleted"

_FNF = int(Guarantee.FIRE_AND_FORGET)
_ALO = int(Guarantee.AT_LEAST_ONCE)
_DELIVERED = int(MessageState.DELIVERED)
_DEAD = int(MessageState.DEAD_LETTERED)
_CANCELLED = int(MessageState.CANCELLED)
_COUNTERS = (
    "sent",
    "delivered",
    "acked",
    "nacked",
    "redelivered",
    "dead_lettered",
    "expired",
    "dropped",
    "duplicates",
    "compressed",
    "compression_saved",
)
SHARDS = 32
"""Counter rows per queue: concurrent verbs rarely wait on one another's counter row."""

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.CannotConnectNowError,
)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pooled connections are handed back as they are: no verb leaves a transaction, a
    LISTEN, a lock or a setting behind, so asyncpg's reset query (a round trip per verb)
    would only cost."""


class QueueRow:
    """A queue as a verb needs it: id, configuration, subscriptions ``(name, filter)``."""

    __slots__ = ("config", "id", "name", "paused", "subs")

    def __init__(self, row: Any) -> None:
        self.id: int = row["id"]
        self.paused: bool = row["paused"]
        self.name: str = row["name"]
        self.config = config_from(row["config"])
        self.subs: list[tuple[str, str]] = list(zip(row["subs"], row["filters"], strict=True))


class Signals:
    """What one verb changed that someone may want to hear of, reported after commit."""

    __slots__ = ("ready", "watched")

    def __init__(self) -> None:
        self.ready: dict[tuple[str, str], None] = {}
        self.watched: dict[tuple[str, int], None] = {}

    def offer(self, q: QueueRow, fanout: bool, sub: str | None, topic: str) -> None:
        if fanout and sub:
            self.ready[(q.name, sub)] = None
        else:
            for name in matching(q.subs, topic):
                self.ready[(q.name, name)] = None

    def merge(self, other: Signals) -> None:
        self.ready.update(other.ready)
        self.watched.update(other.watched)


class _Units:
    """Unit rows to insert, column by column (``sql.INSERT``)."""

    def __init__(self) -> None:
        self.qid: list[int] = []
        self.raw: list[bytes] = []
        self.tail: list[bytes | None] = []
        self.cols: list[list[Any]] = [[] for _ in range(16)]
        self.queues: dict[int, QueueRow] = {}
        self.sizes: list[int] = []

    def message(self, q: QueueRow, raw: bytes, tail: bytes, size: int) -> int:
        self.qid.append(q.id)
        self.raw.append(raw)
        self.tail.append(tail)
        self.queues[q.id] = q
        self.sizes.append(size)
        return len(self.raw)

    def unit(self, ord_: int, copy: int, *values: Any) -> None:
        row = (ord_, copy, *values)
        for col, value in zip(self.cols, row, strict=True):
            col.append(value)

    def __len__(self) -> int:
        return len(self.raw)

    async def insert(
        self, conn: asyncpg.Connection, now: float, payloads: Payloads, counts: _Counts
    ) -> dict[int, int]:
        """Inserts (counting them as sent); returns ord -> seq for the messages whose
        queue still exists."""
        if not self.raw:
            return {}
        seqs, codecs, key_ids = await self._at_rest(conn, now, payloads, counts)
        rows = await conn.fetch(
            sql.INSERT,
            sorted(self.queues),
            seqs,
            self.qid,
            self.raw,
            self.tail,
            wire.M_ID,
            now,
            *self.cols,
            random.randrange(SHARDS),
            codecs,
            key_ids,
        )
        return {r["ord"]: r["seq"] for r in rows}

    async def _at_rest(
        self, conn: asyncpg.Connection, now: float, payloads: Payloads, counts: _Counts
    ) -> tuple[list[int] | None, list[int] | None, list[str | None] | None]:
        """Builds the rows of messages to seal or compress (``payloads``); returns the id,
        codec and key id columns (None when every row is plain: the insert draws the ids)."""
        floors = {qid: payloads.floor(q) for qid, q in self.queues.items()}
        if all(f is None for f in floors.values()):  # the common case, decided per queue
            return None, None, None
        special = [
            i
            for i, qid in enumerate(self.qid)
            if (f := floors[qid]) is not None and self.sizes[i] >= f
        ]
        if not special:
            return None, None, None
        # The batch draws its ids here, in order, so its messages keep their order.
        drawn = await conn.fetch(
            "SELECT nextval('conveyor_seq') AS seq FROM generate_series(1, $1)", len(self.raw)
        )
        seqs: list[int] = [r["seq"] for r in drawn]
        codecs: list[int] = [0] * len(self.raw)
        key_ids: list[str | None] = [None] * len(self.raw)
        by_queue: dict[int, list[int]] = {}
        for i in special:
            by_queue.setdefault(self.qid[i], []).append(i)
        for qid, index in by_queue.items():
            ids = [seqs[i] for i in index]
            whole = [
                encoding(self.raw[i], seq, self.tail[i] or b"")
                for i, seq in zip(index, ids, strict=True)
            ]
            out, codes, key_id, compressed, saved = await payloads.encode(
                conn, self.queues[qid], ids, whole, [self.sizes[i] for i in index], now
            )
            counts.add(qid, "compressed", compressed)
            counts.add(qid, "compression_saved", saved)
            for i, data, codec in zip(index, out, codes, strict=True):
                self.raw[i], self.tail[i] = data, None
                codecs[i], key_ids[i] = codec, key_id or None
        return seqs, codecs, key_ids


def _tail(guarantee: int, required: int, pt_field: bytes, queue: str, extra: bytes) -> bytes:
    return b"".join(
        (
            wire.M_GUARANTEE,
            wire.varint(guarantee),
            wire.M_REQUIRED_ACKS,
            wire.varint(required),
            pt_field,
            wire.queue_field(queue),
            extra,
        )
    )


class _Counts:
    """Counter increments per queue id, written in one statement."""

    def __init__(self) -> None:
        self.by_queue: dict[int, dict[str, int]] = {}

    def add(self, qid: int, name: str, n: int = 1) -> None:
        if n:
            c = self.by_queue.setdefault(qid, {})
            c[name] = c.get(name, 0) + n

    async def write(self, conn: asyncpg.Connection) -> None:
        if not self.by_queue:
            return
        ids = list(self.by_queue)
        shard = random.randrange(SHARDS)
        await conn.execute(
            sql.COUNTERS,
            ids,
            [shard] * len(ids),
            *([self.by_queue[i].get(name, 0) for i in ids] for name in _COUNTERS),
        )


def _parse_acks(ack_ids: Sequence[str]) -> tuple[list[int], list[Any], list[str]]:
    """Indexes of the parseable, distinct ack ids; their (queue, seq, copy, token) columns;
    and the ones that cannot count (unparseable, or repeated)."""
    index: list[int] = []
    cols: list[Any] = [[], [], [], []]
    failed: list[str] = []
    seen: set[str] = set()
    for i, ack_id in enumerate(ack_ids):
        parsed = parse_ack_id(ack_id) if ack_id not in seen else None
        token: int | None = None
        if parsed is not None:
            try:
                token = int(parsed[3], 16)
            except ValueError:
                token = None
        if parsed is None or token is None or token >= 1 << 64 or parsed[1] >= 1 << 63:
            failed.append(ack_id)
            continue
        seen.add(ack_id)
        index.append(i)
        cols[0].append(parsed[0])
        cols[1].append(parsed[1])
        cols[2].append(parsed[2])
        cols[3].append(db_token(token))
    return index, cols, failed


class PostgresStore(Store):
    """The ``Store`` verbs over one PostgreSQL database shared by every server."""

    def __init__(
        self,
        dsn: str,
        *,
        clock: Clock = time.time,
        max_payload_bytes: int = 1024 * 1024,
        run_timers: bool = True,
        pool_size: int = 10,
        sweep_s: float = 0.1,
        poll_s: float = 1.0,
        notify_s: float = 0.02,
        status_retention_s: float = 3600.0,
        at_rest: AtRest | None = None,
    ) -> None:
        self.dsn = dsn
        self.payloads = Payloads(at_rest or AtRest())
        """Encryption keys and the compression threshold, applied to payload rows."""
        self.clock = clock
        self.max_payload_bytes = max_payload_bytes
        self._run_timers = run_timers
        """False for tests that drive the clock and call ``run_due``."""
        self.pool_size = pool_size
        self.sweep_s = sweep_s
        self.poll_s = poll_s
        self.notify_s = notify_s
        self.status_retention_s = status_retention_s
        self.listener: Listener | None = None
        self.watched: dict[tuple[str, int], int] = {}
        self._pool: asyncpg.Pool | None = None
        self._last_due = 0.0
        self.trimmed_at = 0.0
        """When the leader last trimmed retained messages (``sweep``)."""
        self._available = True
        self._background: Any = None
        self.rates: dict[int, RateRing] = {}
        """Per queue id: samples of the database's counters, which count every server's
        traffic, taken once a second by this server (``sample_rates``)."""
        self.instance = f"{random.getrandbits(48):012x}"
        """Tags this server's notifications so it can ignore its own."""

    # -- life cycle ----------------------------------------------------------------------

    def listen(self, listener: Listener) -> None:
        self.listener = listener

    async def open(self) -> None:
        try:
            conn = await asyncpg.connect(self.dsn, timeout=10)
        except CONNECTION_ERRORS as exc:
            raise Unavailable(f"cannot reach the database: {exc}") from exc
        try:
            await schema.migrate(conn)
            await self.payloads.check_keys(conn)
        finally:
            await conn.close()
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=min(2, self.pool_size),
            max_size=self.pool_size,
            server_settings={
                "idle_in_transaction_session_timeout": "60000",
                "application_name": "conveyor",
                # Generic plans of the batch statements guess the arrays' sizes and pick
                # index scans over every leased unit; a plan per call costs ~0.5 ms and
                # always walks the primary key.
                "plan_cache_mode": "force_custom_plan",
            },
            timeout=10,
            reset=_keep_session,
        )
        self._last_due = self.clock()
        if self._run_timers:
            from broker.store.postgres.signals import Background

            self._background = Background(self)
            await self._background.start()

    async def close(self) -> None:
        if self._background is not None:
            await self._background.stop()
            self._background = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def wait_failed(self) -> BaseException:
        """A database outage is not final: it shows as ``available`` instead."""
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    @property
    def available(self) -> bool:
        return self._available

    def set_available(self, available: bool, why: str = "") -> None:
        if available != self._available:
            self._available = available
            if available:
                log.info("database reachable again")
            else:
                log.error("database unreachable: %s", why)
            if self._background is not None:
                self._background.availability_changed()

    async def availability_changed(self, available: bool) -> bool:
        """Returns the availability once it is no longer ``available``."""
        while self._available == available:
            if self._background is None:
                await asyncio.Event().wait()
            await self._background.wait_availability()
        return self._available

    @contextlib.asynccontextmanager
    async def _db(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; a lost database becomes ``Unavailable``."""
        if self._pool is None:
            raise Unavailable("the PostgreSQL store is not open")
        try:
            async with self._pool.acquire(timeout=10) as conn:
                yield conn
        except CONNECTION_ERRORS as exc:
            self.set_available(False, str(exc) or type(exc).__name__)
            raise Unavailable(
                f"the database is unreachable ({exc or type(exc).__name__}); retry, or use "
                "another server"
            ) from exc

    async def _fetch_queues(
        self, conn: asyncpg.Connection, names: Sequence[str]
    ) -> dict[str, QueueRow]:
        rows = await conn.fetch(sql.QUEUE, list(names))
        return {r["name"]: QueueRow(r) for r in rows}

    async def _queue(self, conn: asyncpg.Connection, name: str) -> QueueRow:
        found = await self._fetch_queues(conn, [name])
        q = found.get(name)
        if q is None:
            check_name("queue", name)
            raise NotFound(f"queue {name[:255]!r} does not exist; create it first")
        return q

    # -- signals -------------------------------------------------------------------------

    async def _report(self, signals: Signals) -> None:
        """After commit: tells this server's listener, and the other servers."""
        listener = self.listener
        if listener is not None:
            for queue, sub in signals.ready:
                listener.ready(queue, sub)
        if signals.watched:
            await self._report_watched(list(signals.watched))
        if self._background is not None:
            self._background.publish(signals)

    async def _report_watched(self, keys: list[tuple[str, int]]) -> None:
        local = [k for k in keys if k in self.watched]
        if not local or self.listener is None:
            return
        for status in await self._statuses(local):
            self.listener.changed(status)

    async def _statuses(self, keys: list[tuple[str, int]]) -> list[MessageStatus]:
        by_queue: dict[str, list[int]] = {}
        for queue, seq in keys:
            by_queue.setdefault(queue, []).append(seq)
        out: list[MessageStatus] = []
        async with self._db() as conn:
            for queue, seqs in by_queue.items():
                qid = await conn.fetchval("SELECT id FROM conveyor_queues WHERE name = $1", queue)
                if qid is None:
                    continue
                rows = await conn.fetch(sql.UNITS, qid, seqs)
                groups: dict[int, list[Any]] = {}
                for r in rows:
                    groups.setdefault(r["seq"], []).append(r)
                out += [status_from(queue, seq, groups[seq]) for seq in seqs if seq in groups]
        return out

    # -- queues, bindings, subscriptions -------------------------------------------------

    async def _check_dead_letter_target(
        self, conn: asyncpg.Connection, config: QueueConfig
    ) -> None:
        dlq = config.dead_letter_queue
        target = (
            await conn.fetchval("SELECT config::text FROM conveyor_queues WHERE name = $1", dlq)
            if dlq
            else None
        )
        if dlq and target is None:
            raise FailedPrecondition(
                f"dead-letter queue {dlq!r} of queue {config.name!r} does not exist; create it "
                "first"
            )
        check_sealing(
            config, bool(self.payloads.at_rest.keyring), config_from(target) if target else None
        )

    async def create_queue(self, config: QueueConfig) -> QueueConfig:
        config = config.replace(create_time=self.clock()).validate(self.max_payload_bytes)
        async with self._db() as conn:
            await self._check_dead_letter_target(conn, config)
            created = await conn.fetchval(
                "INSERT INTO conveyor_queues (name, config, create_time) VALUES ($1, $2, $3)"
                " ON CONFLICT (name) DO NOTHING RETURNING id",
                config.name,
                config_json(config),
                config.create_time,
            )
        if created is None:
            raise AlreadyExists(f"queue {config.name!r} already exists")
        # Its counters start at zero now: the rates of a new queue cover its lifetime.
        self.rates.setdefault(created, RateRing()).sample(config.create_time, Counters())
        return config

    async def update_queue(self, name: str, changes: dict[str, object]) -> QueueConfig:
        async with self._db() as conn, conn.transaction():
            q = await self._queue(conn, name)
            await conn.execute(sql.LOCK_QUEUES, [q.id])
            if (
                "kind" in changes
                and changes["kind"] != q.config.kind
                and await conn.fetchval(sql.DEPTH, q.id)
            ):
                raise FailedPrecondition(
                    f"queue {name!r} holds messages; its kind can only change while it is empty"
                )
            check_encryption_kept(q.config, changes)
            config = q.config.replace(**changes).validate(self.max_payload_bytes)
            await self._check_dead_letter_target(conn, config)
            await conn.execute(
                "UPDATE conveyor_queues SET config = $2 WHERE id = $1", q.id, config_json(config)
            )
            if q.config.retains:
                await retention.trim(conn, q.id, config, self.clock())
        return config

    async def delete_queue(self, name: str) -> int:
        signals = Signals()
        async with self._db() as conn, conn.transaction():
            q = await self._queue(conn, name)
            await conn.execute(sql.LOCK_QUEUES, [q.id])
            users = await conn.fetch(
                "SELECT name FROM conveyor_queues WHERE config->>'dead_letter_queue' = $1"
                " ORDER BY name",
                name,
            )
            if users:
                raise FailedPrecondition(
                    f"queue {name!r} is the dead-letter queue of {[u['name'] for u in users]}; "
                    "change their dead_letter_queue first"
                )
            rows = await conn.fetch(
                "UPDATE conveyor_units SET state = 2, final = $2, reason = $3, changed = $4"
                " WHERE queue_id = $1 AND state < 2 RETURNING seq, watched",
                q.id,
                _CANCELLED,
                REASON_QUEUE_DELETED,
                self.clock(),
            )
            await conn.execute("DELETE FROM conveyor_dedup WHERE queue_id = $1", q.id)
            await conn.execute("DELETE FROM conveyor_retained WHERE queue_id = $1", q.id)
            await conn.execute("DELETE FROM conveyor_queues WHERE id = $1", q.id)
        for r in rows:
            if r["watched"]:
                signals.watched[(name, r["seq"])] = None
        await self._report(signals)
        return len({r["seq"] for r in rows})

    async def get_queue(self, name: str) -> QueueConfig:
        async with self._db() as conn:
            return (await self._queue(conn, name)).config

    async def list_queues(self, prefix: str = "") -> list[QueueConfig]:
        async with self._db() as conn:
            rows = await conn.fetch(
                "SELECT config::text AS config FROM conveyor_queues"
                " WHERE starts_with(name, $1) ORDER BY name",
                prefix,
            )
        return [config_from(r["config"]) for r in rows]

    async def create_binding(self, pattern: str, queue: str) -> None:
        validate_pattern(pattern)
        async with self._db() as conn:
            q = await self._queue(conn, queue)
            done = await conn.fetchval(
                "INSERT INTO conveyor_bindings (pattern, queue_id) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING RETURNING 1",
                pattern,
                q.id,
            )
        if done is None:
            raise AlreadyExists(f"binding {pattern!r} -> {queue!r} already exists")

    async def delete_binding(self, pattern: str, queue: str) -> None:
        validate_pattern(pattern)
        async with self._db() as conn:
            done = await conn.fetchval(
                "DELETE FROM conveyor_bindings b USING conveyor_queues q"
                " WHERE b.queue_id = q.id AND q.name = $2 AND b.pattern = $1 RETURNING 1",
                pattern,
                queue,
            )
        if done is None:
            raise NotFound(f"binding {pattern!r} -> {queue!r} does not exist")

    async def list_bindings(self, queue: str = "") -> list[tuple[str, str]]:
        async with self._db() as conn:
            rows = await conn.fetch(
                "SELECT b.pattern, q.name FROM conveyor_bindings b"
                " JOIN conveyor_queues q ON q.id = b.queue_id"
                " WHERE $1 = '' OR q.name = $1 ORDER BY b.pattern, q.name",
                queue,
            )
        return sorted((r["pattern"], r["name"]) for r in rows)

    async def _sub_info(self, conn: asyncpg.Connection, q: QueueRow) -> list[SubscriptionInfo]:
        rows = await conn.fetch(
            "SELECT s.name, s.filter, s.create_time, (SELECT count(*) FROM conveyor_units u"
            "  WHERE u.queue_id = s.queue_id AND u.state = 1 AND u.sub = s.name) AS in_flight"
            " FROM conveyor_subscriptions s WHERE s.queue_id = $1 ORDER BY s.name",
            q.id,
        )
        return [
            SubscriptionInfo(q.name, r["name"], r["filter"], r["create_time"], r["in_flight"])
            for r in rows
        ]

    async def subscription(self, queue: str, name: str, filter_: str) -> SubscriptionInfo:
        return (await self._subscribe(queue, name, filter_))[0]

    async def _subscribe(
        self, queue: str, name: str, filter_: str
    ) -> tuple[SubscriptionInfo, bool]:
        """The subscription, made if need be; and whether this call made it."""
        created = False
        async with self._db() as conn:
            q = await self._queue(conn, queue)
            check_name("subscription", name)
            existing = dict(q.subs)
            if name not in existing:
                pattern = filter_ or "#"
                validate_pattern(pattern)
                created = bool(
                    await conn.fetchval(
                        "INSERT INTO conveyor_subscriptions (queue_id, name, filter, create_time)"
                        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1",
                        q.id,
                        name,
                        pattern,
                        self.clock(),
                    )
                )
            infos = {i.name: i for i in await self._sub_info(conn, q)}
        info = infos.get(name)
        if info is None:
            raise NotFound(f"queue {queue!r} was deleted")
        if filter_ and filter_ != info.filter:
            raise FailedPrecondition(
                f"subscription {name!r} exists with filter {info.filter!r}, not {filter_!r}; "
                "use a new subscription name or delete this one"
            )
        if name not in existing:
            signals = Signals()
            signals.ready[(queue, name)] = None
            await self._report(signals)
        return info, created

    async def list_subscriptions(self, queue: str) -> list[SubscriptionInfo]:
        async with self._db() as conn:
            return await self._sub_info(conn, await self._queue(conn, queue))

    async def delete_subscription(self, queue: str, name: str) -> None:
        now = self.clock()
        signals = Signals()
        async with self._db() as conn, conn.transaction():
            q = await self._queue(conn, queue)
            if name not in dict(q.subs):
                raise NotFound(f"subscription {name!r} of queue {queue!r} does not exist")
            cancelled = await conn.fetch(
                "UPDATE conveyor_units SET state = 2, final = $3, reason = $4, changed = $5"
                " WHERE queue_id = $1 AND fanout AND sub = $2 AND state < 2"
                " RETURNING seq, watched",
                q.id,
                name,
                _CANCELLED,
                REASON_SUBSCRIPTION_DELETED,
                now,
            )
            back = await conn.fetch(
                "UPDATE conveyor_units SET changed = $3,"
                " state = CASE WHEN guarantee = 1 THEN 2 ELSE 0 END,"
                " final = CASE WHEN guarantee = 1 THEN 3 ELSE 0 END, visible_at = $3"
                " WHERE queue_id = $1 AND NOT fanout AND sub = $2 AND state = 1"
                " RETURNING seq, watched, topic, state",
                q.id,
                name,
                now,
            )
            await conn.execute(
                "DELETE FROM conveyor_subscriptions WHERE queue_id = $1 AND name = $2", q.id, name
            )
        q.subs = [s for s in q.subs if s[0] != name]
        for r in (*cancelled, *back):
            if r["watched"]:
                signals.watched[(queue, r["seq"])] = None
        for r in back:
            if r["state"] == WAITING:
                signals.offer(q, False, None, r["topic"])
        await self._report(signals)

    # -- publish -------------------------------------------------------------------------

    async def publish(
        self, queue: str, batch: Sequence[NewMessage], *, watch: bool = False
    ) -> list[PublishResult]:
        now = self.clock()
        async with self._db() as conn:
            if queue:
                try:
                    named = await self._queue(conn, queue)
                except BrokerError as exc:
                    return [Outcome(error=exc) for _ in batch]
                queues = {queue: named}
                routes: PatternTrie[str] | None = None
            else:
                named = None
                routes = PatternTrie()
                names: set[str] = set()
                for r in await conn.fetch(
                    "SELECT b.pattern, q.name FROM conveyor_bindings b"
                    " JOIN conveyor_queues q ON q.id = b.queue_id"
                ):
                    routes.insert(r["pattern"], r["name"])
                    names.add(r["name"])
                queues = await self._fetch_queues(conn, sorted(names))
            plans: list[list[_Plan] | BrokerError] = []
            for item in batch:
                try:
                    if named is not None:
                        targets = [named]
                    else:
                        assert routes is not None
                        targets = _route(routes, queues, item.topic)
                    plans.append([_plan(q, item, now, self.max_payload_bytes) for q in targets])
                except BrokerError as exc:
                    plans.append(exc)
            used = {p.q.id: p.q for group in plans if isinstance(group, list) for p in group}
            careful = any(q.config.max_depth for q in used.values()) or any(
                p.dedup_id for group in plans if isinstance(group, list) for p in group
            )
            if careful:
                async with conn.transaction():
                    await conn.execute(sql.LOCK_QUEUES, sorted(used))
                    return await self._store(
                        conn, batch, plans, used, now, watch, True, named is None
                    )
            return await self._store(conn, batch, plans, used, now, watch, False, named is None)

    async def _store(
        self,
        conn: asyncpg.Connection,
        batch: Sequence[NewMessage],
        plans: list[list[_Plan] | BrokerError],
        used: dict[int, QueueRow],
        now: float,
        watch: bool,
        careful: bool,
        routed: bool,
    ) -> list[PublishResult]:
        units = _Units()
        counts = _Counts()
        signals = Signals()
        pt_field = wire.publish_time_field(now)
        dedup_seen: dict[tuple[int, str], int] = {}
        depth: dict[int, _Depth] = {}
        if careful:
            ids = sorted(
                {
                    (p.q.id, p.dedup_id)
                    for group in plans
                    if isinstance(group, list)
                    for p in group
                    if p.dedup_id
                }
            )
            if ids:
                for r in await conn.fetch(
                    "SELECT d.queue_id, d.dedup_id, d.seq FROM conveyor_dedup d"
                    " JOIN unnest($1::bigint[], $2::text[]) AS x (qid, did)"
                    " ON d.queue_id = x.qid AND d.dedup_id = x.did WHERE d.until > $3",
                    [i for i, _ in ids],
                    [d for _, d in ids],
                    now,
                ):
                    dedup_seen[(r["queue_id"], r["dedup_id"])] = -r["seq"] - 1
            for qid, q in used.items():
                if q.config.max_depth:
                    victims: list[int] = []
                    if q.config.overflow is Overflow.DROP_OLDEST:
                        victims = [
                            -r["seq"] - 1 for r in await conn.fetch(sql.DROPPABLE, qid, len(batch))
                        ]
                    depth[qid] = _Depth(await conn.fetchval(sql.DEPTH, qid), victims)
        # per message: (queue name, ord of the stored copy) or (queue name, -seq-1) for a
        # duplicate of a stored message
        decided: list[list[tuple[QueueRow, int, bool]] | BrokerError] = []
        dropped_db: dict[int, list[int]] = {}
        dropped_ords: set[int] = set()
        dedup_rows: list[tuple[int, str, int, float]] = []
        for item, group in zip(batch, plans, strict=True):
            if isinstance(group, BrokerError):
                decided.append(group)
                continue
            try:
                for plan in group:
                    dedup_key = (plan.q.id, plan.dedup_id)
                    plan.duplicate = dedup_seen.get(dedup_key) if plan.dedup_id else None
                    d = depth.get(plan.q.id)
                    if (
                        plan.duplicate is None
                        and d is not None
                        and d.live >= plan.q.config.max_depth
                    ):
                        config = plan.q.config
                        if config.overflow is Overflow.REJECT_NEW or not d.victims:
                            raise ResourceExhausted(
                                f"queue {plan.q.name!r} is full ({config.max_depth} messages); "
                                "consume or purge it, raise max_depth, or use overflow policy "
                                "DROP_OLDEST"
                            )
            except BrokerError as exc:
                decided.append(exc)
                continue
            out: list[tuple[QueueRow, int, bool]] = []
            for plan in group:
                q = plan.q
                if plan.duplicate is not None:
                    counts.add(q.id, "duplicates")
                    out.append((q, plan.duplicate, True))
                    continue
                d = depth.get(q.id)
                if d is not None:
                    if d.live >= q.config.max_depth:
                        victim = d.victims.pop(0)
                        counts.add(q.id, "dropped")
                        if victim < 0:
                            dropped_db.setdefault(q.id, []).append(-victim - 1)
                        else:
                            dropped_ords.add(victim)
                        d.live -= 1
                    d.live += 1
                ord_ = _add(units, q, item, plan, now, pt_field, watch)
                if d is not None and q.config.overflow is Overflow.DROP_OLDEST:
                    d.victims.append(ord_)
                if plan.dedup_id:
                    dedup_seen[(q.id, plan.dedup_id)] = ord_
                    dedup_rows.append((q.id, plan.dedup_id, ord_, now + q.config.dedup_window_s))
                out.append((q, ord_, False))
            decided.append(out)
        if dropped_ords:
            for i, ord_ in enumerate(units.cols[0]):
                if ord_ in dropped_ords:
                    units.cols[2][i] = DONE
                    units.cols[13][i] = int(MessageState.DROPPED)
                    units.cols[14][i] = REASON_DROPPED
        seqs = await units.insert(conn, now, self.payloads, counts)
        if dedup_rows:
            await conn.execute(
                "INSERT INTO conveyor_dedup AS d (queue_id, dedup_id, seq, until)"
                " SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::float8[])"
                " ON CONFLICT (queue_id, dedup_id) DO UPDATE"
                " SET seq = EXCLUDED.seq, until = EXCLUDED.until",
                [r[0] for r in dedup_rows],
                [r[1] for r in dedup_rows],
                [seqs.get(r[2], 0) for r in dedup_rows],
                [r[3] for r in dedup_rows],
            )
        for qid, victims in dropped_db.items():
            rows = await conn.fetch(
                "UPDATE conveyor_units SET state = 2, final = $3, reason = $4, changed = $5"
                " WHERE queue_id = $1 AND seq = ANY($2::bigint[]) AND state = 0"
                " RETURNING seq, watched",
                qid,
                victims,
                int(MessageState.DROPPED),
                REASON_DROPPED,
                now,
            )
            for r in rows:
                if r["watched"]:
                    signals.watched[(used[qid].name, r["seq"])] = None
        await counts.write(conn)
        results: list[PublishResult] = []
        for outcome in decided:
            if isinstance(outcome, BrokerError):
                results.append(Outcome(error=outcome))
                continue
            mids: list[str] = []
            dups: list[bool] = []
            error: BrokerError | None = None
            for q, ref, dup in outcome:
                seq = -ref - 1 if ref < 0 else seqs.get(ref)
                if seq is None:
                    error = NotFound(f"queue {q.name!r} was deleted while sending")
                    break
                mids.append(message_id(seq))
                dups.append(dup)
            if error is not None:
                results.append(Outcome(error=error))
            elif len(mids) == 1 and not dups[0] and not routed:
                results.append(mids[0])
            else:
                results.append(
                    Outcome(
                        message_id=mids[0] if mids else "",
                        duplicate=any(dups),
                        queues=[q.name for q, _, _ in outcome],
                        message_ids=mids,
                        duplicates=dups,
                    )
                )
        for i, ord_ in enumerate(units.cols[0]):
            seq = seqs.get(ord_)
            if seq is None:
                continue
            q = used[units.qid[ord_ - 1]]
            if watch:
                key = (q.name, seq)
                self.watched[key] = self.watched.get(key, 0) + 1
            if units.cols[2][i] == WAITING and units.cols[3][i] <= now:
                signals.offer(q, units.cols[4][i], units.cols[5][i], units.cols[10][i])
        await self._report(signals)
        return results

    # -- claims and settlements ----------------------------------------------------------

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
        now = self.clock()
        deadline = now + lease_s
        token = db_token(new_token())
        async with self._db() as conn:
            q = await self._queue(conn, queue)
            pattern = dict(q.subs).get(subscription)
            if pattern is None:
                raise NotFound(f"subscription {subscription!r} of queue {queue!r} does not exist")
            if max_messages <= 0 or q.paused:
                return Claim(deadline, [])
            rows = await conn.fetch(
                sql.CLAIM,
                q.id,
                queue,
                subscription,
                now,
                filter_regex(pattern),
                max_messages,
                max_bytes,
                oversized_first,
                deadline,
                token,
                random.randrange(SHARDS),
            )
        prefix = f"{queue}:"
        tok = ":" + token_hex(token)
        out = [
            (f"{prefix}{r['seq']:x}:{r['copy']}{tok}", r["data"], r["attempts"], r["size"])
            for r in rows
        ]
        if any(r["codec"] or r["key_id"] for r in rows):
            out = await self._opened(queue, rows, out)
        signals = Signals()
        for r in rows:
            if r["watched"]:
                signals.watched[(queue, r["seq"])] = None
        if signals.watched:
            await self._report(signals)
        return Claim(deadline, out)

    async def _opened(
        self, queue: str, rows: list[Any], out: list[tuple[str, bytes, int, int]]
    ) -> list[tuple[str, bytes, int, int]]:
        """Claimed deliveries with their rows opened; without a key they need, the claim is
        handed back (the leases end, the attempt is not counted as a failure) and refused."""
        try:
            opened = self.payloads.open_rows(queue, rows)
        except FailedPrecondition:
            await self.requeue([a for a, _, _, _ in out], 0.0, failure=False)
            raise
        return [
            (a, opened[r["seq"]], n, size) for (a, _, n, size), r in zip(out, rows, strict=True)
        ]

    async def settle(self, ack_ids: Sequence[str], *, sync: bool = True) -> list[str]:
        index, cols, failed = _parse_acks(ack_ids)
        if not index:
            return failed
        now = self.clock()
        async with self._db() as conn:
            rows = await conn.fetch(sql.SETTLE, *cols, now, random.randrange(SHARDS), _FNF)
            # Fan-out copies, after the acks committed (``sql.RETAIN``):
            await retention.retain(
                conn, [(r["queue_id"], r["seq"]) for r in rows if r["fanout_retains"]], now
            )
        done = {r["ord"] for r in rows}
        failed_set = set(failed)
        failed_set.update(ack_ids[i] for n, i in enumerate(index, 1) if n not in done)
        signals = Signals()
        for r in rows:
            if r["watched"]:
                signals.watched[(r["name"], r["seq"])] = None
            if r["fifo"] and r["sub"]:
                signals.ready[(r["name"], r["sub"])] = None
        await self._report(signals)
        return [a for a in ack_ids if a in failed_set] if failed_set else []

    async def _settle_with(
        self,
        ack_ids: Sequence[str],
        decide: Callable[[QueueRow, Any], tuple[str, float, str]],
        count: str | None,
        nack: str = "",
    ) -> list[str]:
        """Locks the leased units these ack ids name, then applies what ``decide`` says of
        each: ("back", visible_at, "") or ("done", final, reason) or ("dead", 0, reason)."""
        index, cols, failed = _parse_acks(ack_ids)
        if not index:
            return failed
        now = self.clock()
        signals = Signals()
        async with self._db() as conn:
            async with conn.transaction():
                rows = await conn.fetch(sql.LEASED, *cols, now)
                queues = await self._fetch_queues(conn, sorted({r["name"] for r in rows}))
                counts = _Counts()
                changes = _Changes()
                dead: list[tuple[QueueRow, Any, str]] = []
                ended: list[tuple[int, int]] = []
                for r in rows:
                    q = queues[r["name"]]
                    what, value, reason = decide(q, r)
                    if count:
                        counts.add(q.id, count)
                    changes.apply(q, r, what, value, reason, now, signals, dead, nack)
                    if what != "back" and q.config.retains:  # a quorum may be met already
                        ended.append((q.id, r["seq"]))
                await changes.write(conn, now)
                await self._dead_letters(conn, dead, now, counts, signals)
                await counts.write(conn)
            await retention.retain(conn, ended, now)  # after the commit (``sql.RETAIN``)
        done = {r["ord"] for r in rows}
        failed_set = set(failed)
        failed_set.update(ack_ids[i] for n, i in enumerate(index, 1) if n not in done)
        await self._report(signals)
        return [a for a in ack_ids if a in failed_set]

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
        now = self.clock()
        return await self._settle_with(
            ack_ids,
            lambda q, r: retry(q.config, r, delay_s, now, failure),
            "nacked" if failure else None,
            reason,
        )

    async def dead_letter(
        self, ack_ids: Sequence[str], reason: str, *, sync: bool = True
    ) -> list[str]:
        return await self._settle_with(
            ack_ids,
            lambda q, r: ("dead", float(DeadLetterReason.NACKED), reason or REASON_NACKED),
            "nacked",
        )

    async def extend(self, ack_ids: Sequence[str], lease_s: float) -> list[str]:
        check_duration("lease", lease_s)
        now = self.clock()
        if lease_s == 0:
            return await self._settle_with(
                ack_ids, lambda q, r: retry(q.config, r, 0.0, now, True), None
            )
        index, cols, failed = _parse_acks(ack_ids)
        if not index:
            return failed
        async with self._db() as conn:
            rows = await conn.fetch(sql.EXTEND, *cols, now, now + lease_s)
        done = {r["ord"] for r in rows}
        failed_set = set(failed)
        failed_set.update(ack_ids[i] for n, i in enumerate(index, 1) if n not in done)
        return [a for a in ack_ids if a in failed_set]

    async def _dead_letters(
        self,
        conn: asyncpg.Connection,
        dead: list[tuple[QueueRow, Any, str]],
        now: float,
        counts: _Counts,
        signals: Signals,
        *,
        expired: bool = False,
    ) -> None:
        """Copies each ``(queue, unit row, reason)`` into its queue's dead-letter queue (or
        drops it, counted, without one). For an expiry the row stands for the message
        (``attempts`` summed over its units) and ``expired`` is counted instead."""
        if not dead:
            return
        for q, _, _ in dead:
            counts.add(q.id, "expired" if expired else "dead_lettered")
        targets = {q.config.dead_letter_queue for q, _, _ in dead if q.config.dead_letter_queue}
        dlqs = await self._fetch_queues(conn, sorted(targets)) if targets else {}
        moving = [(q, r, reason) for q, r, reason in dead if q.config.dead_letter_queue in dlqs]
        if not moving:
            return
        source = {r["seq"]: q.name for q, r, _ in moving}
        data = {
            r["seq"]: self.payloads.open(
                source[r["seq"]], r["seq"], r["data"], r["codec"], r["key_id"]
            )
            for r in await conn.fetch(sql.DATA, sorted(source))
        }
        units = _Units()
        pt_field = wire.publish_time_field(now)
        for q, r, reason in moving:
            dlq = dlqs[q.config.dead_letter_queue]
            raw = content(data[r["seq"]]).SerializeToString()
            guarantee = _FNF if r["guarantee"] == _FNF else _ALO
            info = wire.dead_letter_field(
                source_queue=q.name,
                reason=reason,
                attempts=r["attempts"],
                time=now,
                subscription=(r["sub"] or "") if r["fanout"] and not expired else "",
                source_message_id=message_id(r["seq"]),
                reason_code=DeadLetterReason.EXPIRED if expired else r["code"],
                last_nack_reason=(r.get("nack") if not expired else "") or r["nack_reason"],
            )
            ord_ = units.message(dlq, raw, _tail(guarantee, 1, pt_field, dlq.name, info), r["size"])
            okey = r["okey"] if dlq.config.kind is QueueKind.FIFO else None
            prio = r["prio"] if dlq.config.kind is QueueKind.PRIORITY else 0
            units.unit(
                ord_,
                0,
                WAITING,
                now,
                False,
                None,
                guarantee,
                1,
                prio,
                None if okey is None else (r["okey"] or ""),
                r["topic"],
                r["size"],
                0.0,
                0,
                "",
                False,
            )
            signals.offer(dlq, False, None, r["topic"])
        await units.insert(conn, now, self.payloads, counts)

    async def cancel(self, queue: str, message_id_: str) -> MessageStatus:
        seq = parse_message_id(message_id_)
        signals = Signals()
        async with self._db() as conn, conn.transaction():
            q = await self._queue(conn, queue)
            rows = await conn.fetch(
                "SELECT state, watched FROM conveyor_units WHERE queue_id = $1 AND seq = $2"
                " FOR UPDATE",
                q.id,
                seq if seq is not None and seq < 1 << 63 else -1,
            )
            if not rows or all(r["state"] == DONE for r in rows):
                raise NotFound(f"message {message_id_!r} is not pending in queue {queue!r}")
            if any(r["state"] == LEASED for r in rows):
                raise FailedPrecondition(
                    f"message {message_id_} is in flight; it can be cancelled once its lease "
                    "ends or it is nacked"
                )
            await conn.execute(
                "UPDATE conveyor_units SET state = 2, final = $3, reason = $4, changed = $5"
                " WHERE queue_id = $1 AND seq = $2 AND state < 2",
                q.id,
                seq,
                _CANCELLED,
                REASON_CANCELLED,
                self.clock(),
            )
        assert seq is not None
        if any(r["watched"] for r in rows):
            signals.watched[(queue, seq)] = None
        await self._report(signals)
        return await self.status(queue, message_id_)

    async def purge(self, queue: str) -> int:
        signals = Signals()
        async with self._db() as conn, conn.transaction():
            q = await self._queue(conn, queue)
            rows = await conn.fetch(
                "UPDATE conveyor_units u SET state = 2, final = $2, reason = $3, changed = $4"
                " WHERE u.queue_id = $1 AND u.state = 0 AND NOT EXISTS (SELECT 1 FROM"
                " conveyor_units v WHERE v.seq = u.seq AND v.state = 1)"
                " RETURNING u.seq, u.watched",
                q.id,
                _CANCELLED,
                REASON_PURGED,
                self.clock(),
            )
        for r in rows:
            if r["watched"]:
                signals.watched[(queue, r["seq"])] = None
        await self._report(signals)
        return len({r["seq"] for r in rows})

    async def redrive(
        self,
        queue: str,
        destination: str,
        limit: int,
        *,
        reset_attempts: bool = False,
        message_ids: Sequence[str] = (),
    ) -> tuple[int, int]:
        now = self.clock()
        signals = Signals()
        counts = _Counts()
        async with self._db() as conn, conn.transaction():
            q = await self._queue(conn, queue)
            if destination:
                await self._queue(conn, destination)
            rows = await conn.fetch(
                "SELECT u.seq, u.state, u.guarantee, u.topic, u.size, u.prio, u.okey, m.data,"
                " m.codec, m.key_id"
                " FROM conveyor_units u JOIN conveyor_messages m ON m.seq = u.seq"
                " WHERE u.queue_id = $1 AND u.state < 2 ORDER BY u.seq, u.copy FOR UPDATE OF u",
                q.id,
            )
            messages: dict[int, list[Any]] = {}
            for r in rows:
                messages.setdefault(r["seq"], []).append(r)
            skipped = 0
            chosen = chosen_seqs(message_ids)
            if chosen is not None:
                wanted, unknown = chosen
                messages = {s: group for s, group in messages.items() if s in wanted}
                skipped = unknown + len(wanted) - len(messages)
            data = self.payloads.open_rows(queue, [group[0] for group in messages.values()])
            names = {destination} if destination else set()
            for group in messages.values():
                info = origin(data[group[0]["seq"]])
                if info is not None:
                    names.add(info.source_queue)
            targets = await self._fetch_queues(conn, sorted(n for n in names if n))
            depths: dict[int, int] = {}
            units = _Units()
            moved: list[int] = []
            kept: dict[int, int] = {}
            pt_field = wire.publish_time_field(now)
            for seq, group in messages.items():
                if limit and len(moved) >= limit:
                    break
                first = group[0]
                info = origin(data[seq])
                target = targets.get(destination or (info.source_queue if info else ""))
                full = False
                if target is not None and target.config.max_depth:
                    if target.id not in depths:
                        depths[target.id] = await conn.fetchval(sql.DEPTH, target.id)
                    full = depths[target.id] >= target.config.max_depth
                if (
                    info is None
                    or target is None
                    or target.id == q.id
                    or full
                    or any(r["state"] == LEASED for r in group)
                ):
                    skipped += 1
                    continue
                subs = dict(target.subs)
                one = info.subscription if not destination and info.subscription in subs else ""
                guarantee = first["guarantee"]
                raw = content(data[seq]).SerializeToString()
                ord_ = units.message(
                    target, raw, _tail(guarantee, 1, pt_field, target.name, b""), first["size"]
                )
                kind = target.config.kind
                units.unit(
                    ord_,
                    0,
                    WAITING,
                    now,
                    bool(one),
                    one or None,
                    guarantee,
                    1,
                    first["prio"] if kind is QueueKind.PRIORITY else 0,
                    (first["okey"] or "") if kind is QueueKind.FIFO else None,
                    first["topic"],
                    first["size"],
                    0.0,
                    0,
                    "",
                    False,
                )
                if target.id in depths:
                    depths[target.id] += 1
                signals.offer(target, bool(one), one, first["topic"])
                moved.append(seq)
                if not reset_attempts and info.attempts:
                    kept[ord_] = info.attempts
            seqs = await units.insert(conn, now, self.payloads, counts)
            if kept:  # the next delivery counts on from the attempts made before
                await conn.execute(
                    "UPDATE conveyor_units u SET attempts = x.attempts"
                    " FROM unnest($1::bigint[], $2::int[]) AS x (seq, attempts)"
                    " WHERE u.seq = x.seq AND u.copy = 0",
                    [seqs[o] for o in kept if o in seqs],
                    [n for o, n in kept.items() if o in seqs],
                )
            if moved:
                await conn.execute(
                    "UPDATE conveyor_units SET state = 2, final = $3, reason = $4, changed = $5"
                    " WHERE queue_id = $1 AND seq = ANY($2::bigint[]) AND state < 2",
                    q.id,
                    moved,
                    _DELIVERED,
                    REASON_REDRIVEN,
                    now,
                )
            await counts.write(conn)
        await self._report(signals)
        return len(moved), skipped

    # -- reads ---------------------------------------------------------------------------

    async def peek(self, queue: str, limit: int) -> list[Peeked]:
        now = self.clock()
        async with self._db() as conn:
            q = await self._queue(conn, queue)
            rows = await conn.fetch(sql.LIVE, q.id, now, limit)
            data = self.payloads.open_rows(
                queue, await conn.fetch(sql.DATA, [r["seq"] for r in rows])
            )
        out = []
        for r in rows:
            if r["guarantee"] == _FNF and r["attempts"]:
                state = MessageState.DELIVERED
            elif r["in_flight"]:
                state = MessageState.IN_FLIGHT
            else:
                state = MessageState.PENDING
            due = r["due"]
            out.append(
                Peeked(data[r["seq"]], state, r["attempts"], max(0.0, due - now) if due else 0.0)
            )
        return out

    async def dead_letters(
        self, queue: str, limit: int, *, where: DeadLetterFilter | None = None
    ) -> list[bytes]:
        async with self._db() as conn:
            q = await self._queue(conn, queue)
            rows = await conn.fetch(
                "SELECT m.seq, m.data, m.codec, m.key_id FROM conveyor_messages m"
                " WHERE m.seq IN (SELECT seq FROM"
                " conveyor_units WHERE queue_id = $1 AND state < 2) ORDER BY m.seq",
                q.id,
            )
        where = where or DeadLetterFilter()

        def wanted(data: bytes) -> bool:
            info = origin(data)
            return (
                info is not None
                and (not where.reason or int(info.reason_code) == int(where.reason))
                and (not where.source_queue or info.source_queue == where.source_queue)
                and (
                    not where.source_subscription or info.subscription == where.source_subscription
                )
            )

        opened = self.payloads.open_rows(queue, rows)
        found = [data for data in opened.values() if wanted(data)]
        return found[:limit] if limit else found

    async def stats(self, queue: str) -> QueueStats:
        now = self.clock()
        async with self._db() as conn:
            q = await self._queue(conn, queue)
            live = await conn.fetchrow(sql.STATS, q.id, now)
            c = await conn.fetchrow(sql.COUNTER_SUMS, q.id)
            groups = await conn.fetch(sql.LAG, q.id, now, LAG_GROUPS + 1) if q.subs else []
            retained, retained_bytes = await retention.counts(conn, q, now)
        oldest = live["oldest"]
        return QueueStats(
            ready=live["ready"],
            delayed=live["delayed"],
            in_flight=live["in_flight"],
            depth=live["depth"],
            oldest_age_s=max(0.0, now - oldest) if oldest is not None else 0.0,
            subscriptions=len(q.subs),
            sent=int(c["sent"]),
            delivered=int(c["delivered"]),
            acked=int(c["acked"]),
            nacked=int(c["nacked"]),
            redelivered=int(c["redelivered"]),
            dead_lettered=int(c["dead_lettered"]),
            expired=int(c["expired"]),
            dropped=int(c["dropped"]),
            duplicates=int(c["duplicates"]),
            queue=queue,
            kind=int(q.config.kind),
            paused=q.paused,
            lag=_lag(q, groups, now),
            rates_1m=self._rates_of(q.id, now, c, WINDOWS_S[0]),
            rates_5m=self._rates_of(q.id, now, c, WINDOWS_S[1]),
            retained=retained,
            retained_bytes=retained_bytes,
            compressed=int(c["compressed"]),
            compression_saved_bytes=int(c["compression_saved"]),
        )

    def _rates_of(self, qid: int, now: float, c: Any, window_s: float) -> Rates:
        ring = self.rates.get(qid)
        return ring.rates(now, _rated(c), window_s) if ring is not None else Rates()

    async def sample_rates(self, conn: asyncpg.Connection, now: float) -> None:
        """Adds a sample of every queue's counters to its ring (once a second)."""
        rows = await conn.fetch(sql.RATE_SAMPLE)
        live = {r["id"] for r in rows}
        for qid in [qid for qid in self.rates if qid not in live]:
            del self.rates[qid]
        for r in rows:
            self.rates.setdefault(r["id"], RateRing()).sample(now, _rated(r))

    async def status(self, queue: str, message_id_: str) -> MessageStatus:
        seq = parse_message_id(message_id_)
        async with self._db() as conn:
            q = await self._queue(conn, queue)
            rows = (
                await conn.fetch(sql.UNITS, q.id, [seq])
                if seq is not None and seq < 1 << 63
                else []
            )
        if not rows:
            raise NotFound(f"message {message_id_!r} is not in queue {queue!r} (or is long gone)")
        assert seq is not None
        return status_from(queue, seq, rows)

    async def watch(self, queue: str, message_id_: str) -> MessageStatus:
        status = await self.status(queue, message_id_)
        seq = parse_message_id(message_id_)
        if not settled(status) and seq is not None:
            key = (queue, seq)
            self.watched[key] = self.watched.get(key, 0) + 1
            async with self._db() as conn:
                await conn.execute(
                    "UPDATE conveyor_units SET watched = true WHERE seq = $1 AND NOT watched", seq
                )
            # A change made between the status read and the flag is not missed:
            status = await self.status(queue, message_id_)
        return status

    def unwatch(self, queue: str, message_id_: str) -> None:
        seq = parse_message_id(message_id_)
        if seq is None:
            return
        key = (queue, seq)
        left = self.watched.get(key, 0) - 1
        if left > 0:
            self.watched[key] = left
        else:
            self.watched.pop(key, None)

    # -- operating queues ----------------------------------------------------------------

    async def _set_paused(self, queue: str, paused: bool) -> bool:
        async with self._db() as conn:
            q = await self._queue(conn, queue)
            changed = await conn.fetchval(
                "UPDATE conveyor_queues SET paused = $2 WHERE id = $1 AND paused <> $2 RETURNING 1",
                q.id,
                paused,
            )
        if changed is None:
            return False
        if not paused:  # consumers left waiting, here and on other servers
            signals = Signals()
            for name, _ in q.subs:
                signals.ready[(queue, name)] = None
            await self._report(signals)
        return True

    async def pause(self, queue: str) -> bool:
        return await self._set_paused(queue, True)

    async def resume(self, queue: str) -> bool:
        return await self._set_paused(queue, False)

    # -- retention and replay (``retention``) --------------------------------------------

    async def start_subscription(
        self,
        queue: str,
        name: str,
        filter_: str,
        position: StartPosition,
        start_time: float = 0.0,
    ) -> SubscriptionInfo:
        if position is StartPosition.NEW:
            return await self.subscription(queue, name, filter_)
        if position is StartPosition.FROM_TIME and start_time <= 0:
            await self.get_queue(queue)  # an unknown queue is NOT_FOUND first
            raise InvalidArgument("start position FROM_TIME needs a start_time")
        info, created = await self._subscribe(queue, name, filter_)
        if created:
            since = start_time if position is StartPosition.FROM_TIME else None
            await self._move(queue, name, None, since)
        return info

    async def seek(self, queue: str, subscription: str, time: float) -> tuple[int, int]:
        return await self._move(queue, subscription, time, time)

    async def _move(
        self, queue: str, name: str, ack_before: float | None, since: float | None
    ) -> tuple[int, int]:
        """Acks the subscription's units published before ``ack_before`` (None: none), then
        replays retained messages published from ``since`` (None: all); (replayed, acked)."""
        now = self.clock()
        signals = Signals()
        acked: list[int] = []
        async with self._db() as conn:
            async with conn.transaction():
                q = await self._queue(conn, queue)
                pattern = dict(q.subs).get(name)
                if pattern is None:
                    raise NotFound(f"subscription {name[:255]!r} of queue {queue!r} does not exist")
                await conn.execute(retention.LOCK_QUEUE, q.id)
                if ack_before is not None:
                    acked = await retention.ack_before(
                        conn, q, name, pattern, ack_before, now, signals
                    )
                replayed = await retention.replay(conn, q, name, pattern, since, now, signals)
            if acked and q.config.retains:
                await retention.retain(conn, [(q.id, seq) for seq in acked], now)
        await self._report(signals)
        return replayed, len(acked)

    # -- time ----------------------------------------------------------------------------

    async def sweep(self) -> Signals:
        """Runs what fell due (the leader's job; tests call ``run_due``)."""
        from broker.store.postgres.sweep import sweep

        now = self.clock()
        async with self._db() as conn:
            signals = await sweep(self, conn, now, self._last_due)
        self._last_due = now
        await self._report(signals)
        return signals

    def run_due(self) -> None:
        """For tests on a fake clock, from synchronous code while no verb is running: runs
        the sweep on a connection of its own in a helper thread, then reports here."""
        from broker.store.postgres.sweep import sweep

        now = self.clock()
        result: list[Any] = []

        async def work() -> None:
            conn = await asyncpg.connect(self.dsn)
            try:
                signals = await sweep(self, conn, now, self._last_due)
                await self.sample_rates(conn, now)
                watched = [k for k in signals.watched if k in self.watched]
                statuses: list[MessageStatus] = []
                for queue, seq in watched:
                    qid = await conn.fetchval(
                        "SELECT id FROM conveyor_queues WHERE name = $1", queue
                    )
                    rows = await conn.fetch(sql.UNITS, qid, [seq]) if qid else []
                    if rows:
                        statuses.append(status_from(queue, seq, rows))
                result.append((signals, statuses))
            finally:
                await conn.close()

        thread = threading.Thread(target=lambda: asyncio.run(work()))
        thread.start()
        thread.join()
        self._last_due = now
        signals, statuses = result[0]
        if self.listener is not None:
            for queue, sub in signals.ready:
                self.listener.ready(queue, sub)
            for status in statuses:
                self.listener.changed(status)


def _rated(c: Any) -> Counters:
    return Counters(
        sent=int(c["sent"]),
        delivered=int(c["delivered"]),
        acked=int(c["acked"]),
        dead_lettered=int(c["dead_lettered"]),
    )


LAG_GROUPS = 10_000
"""(subscription, state, topic) groups read for the lag; past it the lag is ``partial``."""


def _lag(q: QueueRow, groups: list[Any], now: float) -> tuple[SubscriptionLag, ...]:
    """Per subscription: the ready, delayed and in-flight units it owns or may take, and the
    age of its oldest one (the rules of ``broker.store.memory.admin.lag``)."""
    if not q.subs:
        return ()
    names = {name for name, _ in q.subs}
    counts = {name: [0, 0, 0] for name in names}
    oldest: dict[str, float] = {}
    for g in groups[:LAG_GROUPS]:
        if g["state"] == LEASED or g["fanout"]:
            owners = [g["sub"]] if g["sub"] in names else []
        else:
            owners = matching(q.subs, g["topic"])
        column = 2 if g["state"] == LEASED else 1 if g["delayed"] else 0
        for name in owners:
            counts[name][column] += g["n"]
            oldest[name] = min(oldest.get(name, g["oldest"]), g["oldest"])
    partial = len(groups) > LAG_GROUPS
    return tuple(
        SubscriptionLag(
            name,
            c[0],
            c[1],
            c[2],
            max(0.0, now - oldest[name]) if name in oldest else 0.0,
            partial,
        )
        for name, c in sorted(counts.items())
    )


class _Plan:
    """Storing one message in one queue, decided before anything is stored."""

    __slots__ = ("dedup_id", "delay", "duplicate", "extra", "q", "required", "subs", "ttl")

    def __init__(self, q: QueueRow) -> None:
        self.q = q
        self.dedup_id = ""
        self.duplicate: int | None = None
        self.subs: list[str] | None = None
        self.required = 1
        self.delay = 0.0
        self.ttl = 0.0
        self.extra = b""


class _Depth:
    __slots__ = ("live", "victims")

    def __init__(self, live: int, victims: list[int]) -> None:
        self.live = live
        self.victims = victims
        """Oldest first: ``-seq-1`` for stored messages, then ords of this batch's."""


def _route(routes: PatternTrie[str], queues: dict[str, QueueRow], topic: str) -> list[QueueRow]:
    return [queues[n] for n in rules.routed(routes.match, topic) if n in queues]


def _plan(q: QueueRow, item: NewMessage, now: float, server_limit: int) -> _Plan:
    config = q.config
    plan = _Plan(q)
    if item.topic:
        validate_topic(item.topic)
    rules.check_payload(item, config.max_payload_bytes or server_limit, q.name)
    plan.dedup_id = item.dedup_id or (content_id(item) if config.dedup_by_content else "")
    plan.delay, plan.ttl, plan.extra = rules.timing(config, item)
    if item.guarantee in (Guarantee.BROADCAST, Guarantee.QUORUM):
        subs = matching(q.subs, item.topic)
        plan.required = rules.fanout_acks(item, subs, q.name)
        plan.subs = subs
    return plan


def _add(
    units: _Units,
    q: QueueRow,
    item: NewMessage,
    plan: _Plan,
    now: float,
    pt_field: bytes,
    watch: bool,
) -> int:
    guarantee = int(item.guarantee)
    ord_ = units.message(
        q, item.raw, _tail(guarantee, plan.required, pt_field, q.name, plan.extra), item.size
    )
    kind = q.config.kind
    prio = item.priority if kind is QueueKind.PRIORITY else 0
    okey = item.ordering_key if kind is QueueKind.FIFO else None
    expires = now + plan.ttl if plan.ttl else 0.0
    visible = now + plan.delay
    subs: list[str | None] = list(plan.subs) if plan.subs is not None else [None]
    for copy, sub in enumerate(subs):
        units.unit(
            ord_,
            copy,
            WAITING,
            visible,
            plan.subs is not None,
            sub,
            guarantee,
            plan.required,
            prio,
            okey,
            item.topic,
            item.size,
            expires,
            0,
            "",
            watch,
        )
    return ord_


def retry(
    config: QueueConfig, r: Any, delay: float | None, now: float, failure: bool
) -> tuple[str, float, str]:
    """After a nack, a lease that ran out or a consumer that went away: what becomes of a
    leased unit (the rules of ``broker.store.memory.lifecycle.retry``)."""
    if r["guarantee"] == _FNF:
        return "done", float(_DELIVERED), ""
    if failure and config.max_deliveries and r["attempts"] >= config.max_deliveries:
        return "dead", float(DeadLetterReason.MAX_DELIVERIES), REASON_MAX_DELIVERIES
    if delay is None:
        delay = retry_delay(config.backoff, r["attempts"])
    return "back", now + delay, ""


class _Changes:
    """Unit updates of one verb, column by column (``sql.APPLY``)."""

    def __init__(self) -> None:
        self.cols: list[list[Any]] = [[] for _ in range(6)]
        self.nacks: list[str] = []

    def apply(
        self,
        q: QueueRow,
        r: Any,
        what: str,
        value: float,
        reason: str,
        now: float,
        signals: Signals,
        dead: list[tuple[QueueRow, Any, str]],
        nack: str = "",
    ) -> None:
        """``value`` is the visible time for "back", the final state for "done", the
        dead-letter reason code for "dead"; ``nack`` a nack reason to keep."""
        self.nacks.append(nack)
        if what == "back":
            row = (r["seq"], r["copy"], WAITING, value, 0, "")
            if value <= now:
                signals.offer(q, r["fanout"], r["sub"], r["topic"])
        elif what == "dead":
            row = (r["seq"], r["copy"], DONE, now, _DEAD, reason)
            dead.append((q, {**dict(r), "code": int(value), "nack": nack}, reason))
        else:
            row = (r["seq"], r["copy"], DONE, now, int(value), reason)
        if r["okey"] is not None and what != "back":
            signals.offer(q, r["fanout"], r["sub"], r["topic"])
        for col, v in zip(self.cols, row, strict=True):
            col.append(v)
        if r["watched"]:
            signals.watched[(q.name, r["seq"])] = None

    async def write(self, conn: asyncpg.Connection, now: float) -> None:
        if self.cols[0]:
            await conn.execute(sql.APPLY, *self.cols, now, self.nacks)
