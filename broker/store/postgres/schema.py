"""The PostgreSQL store's schema: versioned migrations, applied under an advisory lock.

``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1``. ``migrate`` applies the
missing ones in one transaction while holding ``MIGRATION_LOCK`` (so servers starting together
do not race), and refuses a database whose version is newer than this code knows: an older
server must not write to a schema it does not understand.

The tables (see ``docs/store.md``):

- ``conveyor_messages``: payloads, written once and never updated, partitioned by ranges of
  the sequence number (which grows with time), so the leader drops whole partitions once
  every message in one is finished and past status retention; a default partition catches
  anything ahead of the partitions made so far.
- ``conveyor_units``: the narrow, churning table: one row per (message, copy) with its state,
  visibility time (due time, or lease deadline while leased), lease token and attempts.
- ``conveyor_retained``: acked messages a retaining queue keeps for replay (their payloads
  stay in ``conveyor_messages``, whose partitions are kept while either table refers to them).
- queues (configuration as JSON), per-shard counters, bindings, subscriptions, dedup ids.
"""

from __future__ import annotations

import time

import asyncpg

from broker.errors import FailedPrecondition

MIGRATION_LOCK = 0x636F6E76_0001
"""``pg_advisory_xact_lock`` key held while migrating ("conv" + 1)."""

PARTITION_SEQS = 1 << 22
"""Sequence numbers (messages) per payload partition. Ids start from the clock and grow by
one per message, so partitions follow arrival time; the leader keeps two ahead of the
newest id and drops the ones no unit refers to any more (``sweep.rotate``)."""


def partition_ddl(base: int) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS conveyor_messages_{base:x} PARTITION OF conveyor_messages"
        f" FOR VALUES FROM ({base}) TO ({base + PARTITION_SEQS})"
    )


def _v1(start_seq: int) -> str:
    return f"""
CREATE SEQUENCE conveyor_seq START WITH {start_seq};
CREATE TABLE conveyor_queues (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    config jsonb NOT NULL,
    create_time float8 NOT NULL
);
CREATE TABLE conveyor_counters (
    queue_id bigint NOT NULL REFERENCES conveyor_queues (id) ON DELETE CASCADE,
    shard int NOT NULL,
    sent bigint NOT NULL DEFAULT 0,
    delivered bigint NOT NULL DEFAULT 0,
    acked bigint NOT NULL DEFAULT 0,
    nacked bigint NOT NULL DEFAULT 0,
    redelivered bigint NOT NULL DEFAULT 0,
    dead_lettered bigint NOT NULL DEFAULT 0,
    expired bigint NOT NULL DEFAULT 0,
    dropped bigint NOT NULL DEFAULT 0,
    duplicates bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (queue_id, shard)
);
CREATE TABLE conveyor_bindings (
    pattern text NOT NULL,
    queue_id bigint NOT NULL REFERENCES conveyor_queues (id) ON DELETE CASCADE,
    PRIMARY KEY (pattern, queue_id)
);
CREATE TABLE conveyor_subscriptions (
    queue_id bigint NOT NULL REFERENCES conveyor_queues (id) ON DELETE CASCADE,
    name text NOT NULL,
    filter text NOT NULL,
    create_time float8 NOT NULL,
    PRIMARY KEY (queue_id, name)
);
CREATE TABLE conveyor_dedup (
    queue_id bigint NOT NULL,
    dedup_id text NOT NULL,
    seq bigint NOT NULL,
    until float8 NOT NULL,
    PRIMARY KEY (queue_id, dedup_id)
);
CREATE INDEX conveyor_dedup_until ON conveyor_dedup (until);
CREATE TABLE conveyor_messages (
    seq bigint NOT NULL,
    queue_id bigint NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (seq)
) PARTITION BY RANGE (seq);
CREATE TABLE conveyor_messages_default PARTITION OF conveyor_messages DEFAULT;
{partition_ddl(start_seq // PARTITION_SEQS * PARTITION_SEQS)};
{partition_ddl((start_seq // PARTITION_SEQS + 1) * PARTITION_SEQS)};
CREATE TABLE conveyor_units (
    seq bigint NOT NULL,
    copy int NOT NULL,
    queue_id bigint NOT NULL,
    state smallint NOT NULL,
    visible_at float8 NOT NULL,
    token bigint NOT NULL DEFAULT 0,
    attempts int NOT NULL DEFAULT 0,
    fanout bool NOT NULL,
    sub text,
    guarantee smallint NOT NULL,
    required_acks int NOT NULL,
    prio int NOT NULL,
    okey text,
    topic text NOT NULL,
    size int NOT NULL,
    publish_time float8 NOT NULL,
    expires_at float8 NOT NULL,
    final smallint NOT NULL DEFAULT 0,
    reason text NOT NULL DEFAULT '',
    changed float8 NOT NULL,
    watched bool NOT NULL DEFAULT false,
    PRIMARY KEY (seq, copy)
) WITH (fillfactor = 80);
CREATE INDEX conveyor_units_ready ON conveyor_units (queue_id, prio DESC, seq) WHERE state = 0;
CREATE INDEX conveyor_units_live ON conveyor_units (queue_id, state, visible_at) WHERE state < 2;
CREATE INDEX conveyor_units_lanes ON conveyor_units (queue_id, okey, seq)
    WHERE state < 2 AND okey IS NOT NULL;
CREATE INDEX conveyor_units_expiry ON conveyor_units (expires_at)
    WHERE state < 2 AND expires_at > 0;
CREATE INDEX conveyor_units_done ON conveyor_units (changed) WHERE state = 2;
-- Every claim and ack leaves a dead row version here: vacuum it early and fast, or claims
-- walk ever more dead index entries.
ALTER TABLE conveyor_units SET (
    autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.05,
    autovacuum_vacuum_cost_limit = 2000, autovacuum_vacuum_cost_delay = 0);
"""


_V2 = """
ALTER TABLE conveyor_queues ADD COLUMN paused bool NOT NULL DEFAULT false;
"""
"""Pause and resume (PauseQueue / ResumeQueue): a paused queue stores, and hands out nothing."""

_V3 = """
ALTER TABLE conveyor_units ADD COLUMN nack_reason text NOT NULL DEFAULT '';
"""
"""A unit's last nack reason, which its dead letter shows."""

_V4 = """
CREATE TABLE conveyor_lanes (
    queue_id bigint NOT NULL REFERENCES conveyor_queues (id) ON DELETE CASCADE,
    okey text NOT NULL,
    fanout bool NOT NULL,
    sub text NOT NULL,
    head bigint NOT NULL,
    PRIMARY KEY (queue_id, okey, fanout, sub)
);
CREATE INDEX conveyor_lanes_head ON conveyor_lanes (queue_id, sub, head);
INSERT INTO conveyor_lanes (queue_id, okey, fanout, sub, head)
SELECT queue_id, okey, fanout, CASE WHEN fanout THEN sub ELSE '' END, min(seq)
FROM conveyor_units WHERE state < 2 AND okey IS NOT NULL
GROUP BY 1, 2, 3, 4;
DROP INDEX conveyor_units_ready;
CREATE INDEX conveyor_units_ready ON conveyor_units (queue_id, prio DESC, seq)
    WHERE state = 0 AND okey IS NULL;
"""
"""FIFO lanes: one row per (queue, ordering key, and subscription for fan-out copies) while
the lane has open units, ``head`` a lower bound of their ids. Claims take lane heads from here
and units without a key from the ready index, which no longer holds keyed units, so a claim
never walks a key's backlog."""

_V5 = """
CREATE TABLE conveyor_retained (
    queue_id bigint NOT NULL,
    seq bigint NOT NULL,
    acked_at float8 NOT NULL,
    publish_time float8 NOT NULL,
    size int NOT NULL,
    topic text NOT NULL,
    guarantee smallint NOT NULL,
    prio int NOT NULL,
    okey text,
    PRIMARY KEY (seq)
);
CREATE INDEX conveyor_retained_acked ON conveyor_retained (queue_id, acked_at, seq);
ALTER TABLE conveyor_messages ADD COLUMN codec smallint NOT NULL DEFAULT 0,
    ADD COLUMN key_id text;
CREATE INDEX conveyor_messages_sealed ON conveyor_messages (key_id) WHERE key_id IS NOT NULL;
CREATE TABLE conveyor_keys (
    key_id text PRIMARY KEY,
    first_used float8 NOT NULL
);
ALTER TABLE conveyor_counters ADD COLUMN compressed bigint NOT NULL DEFAULT 0,
    ADD COLUMN compression_saved bigint NOT NULL DEFAULT 0;
"""
"""Retention and replay, and payloads at rest: ``conveyor_retained`` holds the acked messages
a retaining queue keeps (what a replay needs besides the payload, which stays in
``conveyor_messages``), by ack time for expiry and the byte budget (no foreign key: its check
cost a third of a retained ack; ``delete_queue`` deletes a queue's rows); a payload row says how
it is stored (``codec``: zstd or none; ``key_id``: the key that sealed it, NULL in clear),
and ``conveyor_keys`` every key id that ever sealed one, so a server missing a key still in
use refuses to start; counters add messages stored compressed and the bytes that saved."""

MIGRATIONS: list[str] = ["v1", "v2", "v3", "v4", "v5"]
"""Names of the migrations, in order; ``_sql`` turns each into its statements."""

VERSION = len(MIGRATIONS)


def _sql(name: str) -> str:
    if name == "v1":
        return _v1(int(time.time() * 1000) << 16)
    if name == "v2":
        return _V2
    if name == "v3":
        return _V3
    if name == "v4":
        return _V4
    if name == "v5":
        return _V5
    raise AssertionError(name)


async def current_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('conveyor_schema') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM conveyor_schema"))


def _refuse_newer(found: int) -> None:
    if found > VERSION:
        raise FailedPrecondition(
            f"the database's Conveyor schema is version {found}, newer than this server's "
            f"{VERSION}: upgrade this server (or point it at another database)"
        )


async def migrate(conn: asyncpg.Connection) -> tuple[int, int]:
    """Brings the schema to ``VERSION``; returns (version before, version after)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS conveyor_schema ("
            " version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        before = await current_version(conn)
        _refuse_newer(before)
        for version in range(before, VERSION):
            await conn.execute(_sql(MIGRATIONS[version]))
            await conn.execute("INSERT INTO conveyor_schema (version) VALUES ($1)", version + 1)
    return before, VERSION


async def check(conn: asyncpg.Connection) -> int:
    """The database's version, refusing one newer than this code."""
    found = await current_version(conn)
    _refuse_newer(found)
    return found
