"""The leader's sweeps: what falls due with time, as a few statements per batch.

- leases that ran out: retried after the backoff, dead-lettered at max deliveries, ended for
  fire-and-forget (the rules of ``retry``);
- messages whose TTL passed: dead-lettered with reason ``expired`` (or dropped and counted);
- units that became due since the last sweep: ready signals (visibility itself needs no
  sweep: a claim compares ``visible_at`` with its clock);
- housekeeping: FIFO lanes' heads and empty lanes (``lanes``), expired dedup ids, finished
  units past status retention, retained messages past their queue's retention (every
  ``TRIM_S``: reads apply the settings themselves), and payload partitions (``rotate``:
  two made ahead of the newest id, and whole ones dropped once nothing refers to them).

Rows are taken ``FOR UPDATE SKIP LOCKED`` and re-checked, so a second sweeper (a leader that
has not yet noticed it lost its lock) does no harm.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import asyncpg

from broker.model import MessageState
from broker.store.postgres import schema

if TYPE_CHECKING:
    from broker.store.postgres import PostgresStore, QueueRow, Signals

log = logging.getLogger(__name__)

BATCH = 10_000
"""Rows per sweep step; the rest waits for the next sweep."""

TRIM_S = 5.0
"""How often the leader deletes retained messages their queue no longer keeps: the byte
budget's trim reads all of a queue's retained rows."""

_EXPIRED_LEASES = """
SELECT u.seq, u.copy, u.queue_id, u.attempts, u.fanout, u.sub, u.guarantee, u.topic, u.size,
       u.prio, u.okey, u.watched, u.nack_reason
FROM conveyor_units u
WHERE u.queue_id = ANY($1::bigint[]) AND u.state = 1 AND u.visible_at <= $2
ORDER BY u.visible_at LIMIT $3
FOR UPDATE SKIP LOCKED
"""

_EXPIRING = """
SELECT DISTINCT seq FROM (
    SELECT seq FROM conveyor_units
    WHERE state < 2 AND expires_at > 0 AND expires_at <= $1
    LIMIT $2 FOR UPDATE SKIP LOCKED) AS x
"""

_EXPIRE = """
WITH ended AS (
    UPDATE conveyor_units SET state = 2, final = $2, reason = 'expired', changed = $3
    WHERE seq = ANY($1::bigint[]) AND state < 2
    RETURNING seq
)
SELECT u.seq, u.queue_id, sum(u.attempts)::int AS attempts, min(u.guarantee) AS guarantee,
       min(u.topic) AS topic, max(u.size) AS size, max(u.prio) AS prio, min(u.okey) AS okey,
       bool_or(u.watched) AS watched, false AS fanout, NULL::text AS sub,
       bool_or(u.okey IS NOT NULL) AS fifo,
       coalesce(max(u.nack_reason) FILTER (WHERE u.nack_reason <> ''), '') AS nack_reason
FROM conveyor_units u WHERE u.seq IN (SELECT seq FROM ended)
GROUP BY u.seq, u.queue_id
"""

_DUE = """
SELECT DISTINCT queue_id, fanout, sub, topic FROM conveyor_units
WHERE queue_id = ANY($1::bigint[]) AND state = 0 AND visible_at > $2 AND visible_at <= $3
"""

_STALE_LANES = """
SELECT l.queue_id, l.okey, l.fanout, l.sub FROM conveyor_lanes l
WHERE NOT EXISTS (
    SELECT 1 FROM conveyor_units u
    WHERE u.seq = l.head AND u.queue_id = l.queue_id AND u.okey = l.okey AND u.state < 2
      AND u.fanout = l.fanout AND (NOT l.fanout OR u.sub = l.sub))
LIMIT $1
FOR UPDATE SKIP LOCKED
"""

_ADVANCE_LANES = """
WITH k AS (
    SELECT k.*, (
        SELECT u.seq FROM conveyor_units u
        WHERE u.queue_id = k.queue_id AND u.okey = k.okey AND u.state < 2
          AND u.fanout = k.fanout AND (NOT k.fanout OR u.sub = k.sub)
        ORDER BY u.seq LIMIT 1) AS head
    FROM unnest($1::bigint[], $2::text[], $3::bool[], $4::text[]) AS k (queue_id, okey, fanout, sub)
), gone AS (
    DELETE FROM conveyor_lanes l USING k
    WHERE k.head IS NULL AND l.queue_id = k.queue_id AND l.okey = k.okey
      AND l.fanout = k.fanout AND l.sub = k.sub
)
UPDATE conveyor_lanes l SET head = k.head FROM k
WHERE k.head IS NOT NULL AND l.queue_id = k.queue_id AND l.okey = k.okey
  AND l.fanout = k.fanout AND l.sub = k.sub
"""


async def lanes(conn: asyncpg.Connection) -> None:
    """Moves FIFO lanes' heads up to their first open unit and drops lanes with none left.

    The lanes are locked first, and their units read by the next statement, which sees every
    commit made before the locks were taken; a publisher adding to a lane locks its row, so it
    either commits before (and is seen) or waits and then finds the lane's new head (lowering
    it if need be) or no lane (and makes it again)."""
    async with conn.transaction():
        rows = await conn.fetch(_STALE_LANES, BATCH)
        if rows:
            await conn.execute(
                _ADVANCE_LANES,
                [r["queue_id"] for r in rows],
                [r["okey"] for r in rows],
                [r["fanout"] for r in rows],
                [r["sub"] for r in rows],
            )


async def sweep(store: PostgresStore, conn: asyncpg.Connection, now: float, last: float) -> Signals:
    from broker.store.postgres import Signals, _Changes, _Counts, retention, retry

    signals = Signals()
    names = [r["name"] for r in await conn.fetch("SELECT name FROM conveyor_queues")]
    queues: dict[int, QueueRow] = {
        q.id: q for q in (await store._fetch_queues(conn, names)).values()
    }
    ids = list(queues)
    if not ids:
        return signals
    async with conn.transaction():
        counts = _Counts()
        changes = _Changes()
        dead: list[tuple[QueueRow, Any, str]] = []
        ended: list[tuple[int, int]] = []
        for r in await conn.fetch(_EXPIRED_LEASES, ids, now, BATCH):
            q = queues[r["queue_id"]]
            what, value, reason = retry(q.config, r, None, now, True)
            changes.apply(q, r, what, value, reason, now, signals, dead)
            if what != "back" and q.config.retains:  # a quorum may be met already
                ended.append((q.id, r["seq"]))
        await changes.write(conn, now)
        await store._dead_letters(conn, dead, now, counts, signals)
        expiring = [r["seq"] for r in await conn.fetch(_EXPIRING, now, BATCH)]
        if expiring:
            expired: list[tuple[QueueRow, Any, str]] = []
            for r in await conn.fetch(_EXPIRE, expiring, int(MessageState.EXPIRED), now):
                owner = queues.get(r["queue_id"])
                if owner is None:
                    continue
                expired.append((owner, r, "expired"))
                if r["watched"]:
                    signals.watched[(owner.name, r["seq"])] = None
                if r["fifo"]:
                    signals.offer(owner, False, None, r["topic"])
            await store._dead_letters(conn, expired, now, counts, signals, expired=True)
        await counts.write(conn)
    await retention.retain(conn, ended, now)
    if now - store.trimmed_at >= TRIM_S or now < store.trimmed_at:
        store.trimmed_at = now
        for q in queues.values():
            if q.config.retains:
                await retention.trim(conn, q.id, q.config, now)
    for r in await conn.fetch(_DUE, ids, last, now):
        signals.offer(queues[r["queue_id"]], r["fanout"], r["sub"], r["topic"])
    await conn.execute("DELETE FROM conveyor_dedup WHERE until <= $1", now)
    await conn.execute(
        "DELETE FROM conveyor_units WHERE ctid = ANY(ARRAY(SELECT ctid FROM conveyor_units"
        " WHERE state = 2 AND changed < $1 LIMIT $2))",
        now - store.status_retention_s,
        BATCH,
    )
    await lanes(conn)
    return signals


async def rotate(conn: asyncpg.Connection) -> None:
    """Makes the next two payload partitions and drops the ones no unit refers to."""
    newest = await conn.fetchval("SELECT last_value FROM conveyor_seq")
    size = schema.PARTITION_SEQS
    base = newest // size * size
    for ahead in (base + size, base + 2 * size):
        try:
            await conn.execute(schema.partition_ddl(ahead))
        except asyncpg.PostgresError as exc:  # rows in the default partition: left there
            log.warning("cannot make payload partition at %d: %s", ahead, exc)
    rows = await conn.fetch(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'conveyor_messages'::regclass AND c.relname <> "
        "'conveyor_messages_default'"
    )
    for r in rows:
        low = int(r["relname"].rsplit("_", 1)[1], 16)
        if low + size > base:  # the newest partition, or one ahead of it
            continue
        used = await conn.fetchval(
            "SELECT 1 FROM conveyor_units WHERE seq >= $1 AND seq < $2"
            " UNION ALL SELECT 1 FROM conveyor_retained WHERE seq >= $1 AND seq < $2 LIMIT 1",
            low,
            low + size,
        )
        if not used:
            await conn.execute(f'DROP TABLE IF EXISTS "{r["relname"]}"')
            log.info("dropped payload partition %s", r["relname"])
