"""The PostgreSQL store's statements: each verb is one or a few of these per batch.

Batches travel as arrays (``unnest``), so a statement's text never depends on the batch and
asyncpg prepares each once per connection. Times are parameters (the store's clock), never
``now()``, so tests can drive time and every server agrees on what a number means.

Statements that name units by ack id test ``state::int`` rather than ``state``: no partial
index can then serve them, so the planner walks the primary key, one probe per ack id. With
plain ``state = 1`` it may scan every leased unit of the queue through ``conveyor_units_live``,
whose statistics lag far behind a busy queue (seen: 100+ ms and 200 buffers per ack).
"""

from __future__ import annotations

QUEUE = """
SELECT q.id, q.name, q.config::text AS config, q.paused,
       coalesce((SELECT array_agg(s.name ORDER BY s.name) FROM conveyor_subscriptions s
                 WHERE s.queue_id = q.id), '{}') AS subs,
       coalesce((SELECT array_agg(s.filter ORDER BY s.name) FROM conveyor_subscriptions s
                 WHERE s.queue_id = q.id), '{}') AS filters
FROM conveyor_queues q WHERE q.name = ANY($1::text[])
"""

LOCK_QUEUES = "SELECT id FROM conveyor_queues WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE"

INSERT = """
WITH q AS (
    SELECT id FROM conveyor_queues WHERE id = ANY($1::bigint[]) FOR KEY SHARE
), s AS (
    SELECT t.ord, coalesce(t.seq, nextval('conveyor_seq')) AS seq, t.qid, t.raw, t.tail,
           t.codec, t.key_id
    FROM unnest($2::bigint[], $3::bigint[], $4::bytea[], $5::bytea[], $25::smallint[],
                $26::text[])
         WITH ORDINALITY AS t (seq, qid, raw, tail, codec, key_id, ord)
    WHERE t.qid IN (SELECT id FROM q)
    ORDER BY t.ord
), m AS (
    -- A row without a tail was built whole, sealed or compressed (``payloads``).
    INSERT INTO conveyor_messages (seq, queue_id, data, codec, key_id)
    SELECT seq, qid,
           CASE WHEN tail IS NULL THEN raw
                ELSE raw || $6::bytea || set_byte('\\x00'::bytea, 0, length(to_hex(seq)))
                     || convert_to(to_hex(seq), 'UTF8') || tail END,
           coalesce(codec, 0), key_id
    FROM s
), u AS (
    INSERT INTO conveyor_units (seq, copy, queue_id, state, visible_at, fanout, sub,
        guarantee, required_acks, prio, okey, topic, size, publish_time, expires_at,
        final, reason, changed, watched)
    SELECT s.seq, x.copy, s.qid, x.state, x.visible_at, x.fanout, x.sub, x.guarantee,
        x.required_acks, x.prio, x.okey, x.topic, x.size, $7, x.expires_at, x.final,
        x.reason, $7, x.watched
    FROM unnest($8::int[], $9::int[], $10::smallint[], $11::float8[], $12::bool[],
                $13::text[], $14::smallint[], $15::int[], $16::int[], $17::text[],
                $18::text[], $19::int[], $20::float8[], $21::smallint[], $22::text[],
                $23::bool[])
         AS x (ord, copy, state, visible_at, fanout, sub, guarantee, required_acks, prio,
               okey, topic, size, expires_at, final, reason, watched)
    JOIN s ON s.ord = x.ord
), ln AS (
    -- Locks each keyed lane (even when its head stays), so the leader's lane sweep cannot
    -- drop a lane under units being added to it (``sweep.lanes``).
    INSERT INTO conveyor_lanes AS l (queue_id, okey, fanout, sub, head)
    SELECT s.qid, x.okey, x.fanout, CASE WHEN x.fanout THEN x.sub ELSE '' END, min(s.seq)
    FROM unnest($8::int[], $12::bool[], $13::text[], $17::text[]) AS x (ord, fanout, sub, okey)
    JOIN s ON s.ord = x.ord
    WHERE x.okey IS NOT NULL
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (queue_id, okey, fanout, sub) DO UPDATE SET head = EXCLUDED.head
    WHERE EXCLUDED.head < l.head
), cnt AS (
    INSERT INTO conveyor_counters AS k (queue_id, shard, sent)
    SELECT qid, $24, count(*) FROM s GROUP BY qid
    ON CONFLICT (queue_id, shard) DO UPDATE SET sent = k.sent + EXCLUDED.sent
)
SELECT ord, seq FROM s
"""

COUNTERS = """
INSERT INTO conveyor_counters AS c (queue_id, shard, sent, delivered, acked, nacked,
    redelivered, dead_lettered, expired, dropped, duplicates, compressed, compression_saved)
SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[],
    $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],
    $12::bigint[], $13::bigint[])
ON CONFLICT (queue_id, shard) DO UPDATE SET
    sent = c.sent + EXCLUDED.sent, delivered = c.delivered + EXCLUDED.delivered,
    acked = c.acked + EXCLUDED.acked, nacked = c.nacked + EXCLUDED.nacked,
    redelivered = c.redelivered + EXCLUDED.redelivered,
    dead_lettered = c.dead_lettered + EXCLUDED.dead_lettered,
    expired = c.expired + EXCLUDED.expired, dropped = c.dropped + EXCLUDED.dropped,
    duplicates = c.duplicates + EXCLUDED.duplicates,
    compressed = c.compressed + EXCLUDED.compressed,
    compression_saved = c.compression_saved + EXCLUDED.compression_saved
"""

CLAIM = """
WITH sub AS (
    SELECT q.id FROM conveyor_queues q
    JOIN conveyor_subscriptions s ON s.queue_id = q.id AND s.name = $3
    WHERE q.id = $1 AND q.name = $2 AND NOT q.paused
), free AS (
    SELECT u.seq, u.copy, u.size, u.prio FROM conveyor_units u
    WHERE u.queue_id = (SELECT id FROM sub) AND u.state = 0 AND u.okey IS NULL
      AND u.visible_at <= $4
      AND (CASE WHEN u.fanout THEN u.sub = $3
                ELSE $5::text IS NULL OR ('.' || u.topic) ~ $5 END)
    ORDER BY u.prio DESC, u.seq
    LIMIT $6
    FOR UPDATE OF u SKIP LOCKED
), shared AS (
    -- Lanes in the order of their heads (FIFO queues have no priorities), so the walk stops
    -- after the first n claimable ones instead of visiting every lane of the queue: n from
    -- the lanes any subscription may take from, n from this subscription's own (fan-out).
    SELECT h.seq, h.copy FROM (
        SELECT * FROM conveyor_lanes
        WHERE queue_id = (SELECT id FROM sub) AND sub = '' AND NOT fanout ORDER BY head) l
    CROSS JOIN LATERAL (
        SELECT p.seq, p.copy, p.state, p.visible_at, p.topic FROM conveyor_units p
        WHERE p.queue_id = l.queue_id AND p.okey = l.okey AND p.state < 2 AND p.seq >= l.head
          AND p.fanout = l.fanout AND (NOT l.fanout OR p.sub = l.sub)
        ORDER BY p.seq LIMIT 1) h
    WHERE h.state = 0 AND h.visible_at <= $4
      AND ($5::text IS NULL OR ('.' || h.topic) ~ $5)
    LIMIT $6
), own AS (
    SELECT h.seq, h.copy FROM (
        SELECT * FROM conveyor_lanes
        WHERE queue_id = (SELECT id FROM sub) AND sub = $3 AND fanout ORDER BY head) l
    CROSS JOIN LATERAL (
        SELECT p.seq, p.copy, p.state, p.visible_at, p.topic FROM conveyor_units p
        WHERE p.queue_id = l.queue_id AND p.okey = l.okey AND p.state < 2 AND p.seq >= l.head
          AND p.fanout = l.fanout AND (NOT l.fanout OR p.sub = l.sub)
        ORDER BY p.seq LIMIT 1) h
    WHERE h.state = 0 AND h.visible_at <= $4
    LIMIT $6
), lane AS (
    -- The head's row lock is the lane's lock: a concurrent claim skips the lane, and one
    -- that saw an older head re-checks it here.
    SELECT u.seq, u.copy, u.size, u.prio FROM conveyor_units u
    WHERE (u.seq, u.copy) IN (SELECT seq, copy FROM shared UNION ALL SELECT seq, copy FROM own)
      AND u.state = 0
      AND u.visible_at <= $4
    FOR UPDATE OF u SKIP LOCKED
), c AS (
    (SELECT * FROM free) UNION ALL (SELECT * FROM lane)
    ORDER BY prio DESC, seq
    LIMIT $6
), b AS (
    SELECT seq, copy,
           sum(size) OVER (ORDER BY prio DESC, seq ROWS UNBOUNDED PRECEDING) AS total,
           row_number() OVER (ORDER BY prio DESC, seq) AS rn
    FROM c
), pick AS (
    SELECT seq, copy, rn FROM b WHERE $7 = 0 OR total <= $7 OR (rn = 1 AND $8)
), up AS (
    UPDATE conveyor_units u
    SET state = 1, visible_at = $9, token = $10, attempts = u.attempts + 1, changed = $4,
        sub = CASE WHEN u.fanout THEN u.sub ELSE $3 END
    FROM pick WHERE u.seq = pick.seq AND u.copy = pick.copy
    RETURNING u.seq, u.copy, u.attempts, u.size, u.watched, pick.rn
), cnt AS (
    INSERT INTO conveyor_counters AS k (queue_id, shard, delivered, redelivered)
    SELECT $1, $11, count(*), count(*) FILTER (WHERE attempts > 1) FROM up
    HAVING count(*) > 0
    ON CONFLICT (queue_id, shard) DO UPDATE SET
        delivered = k.delivered + EXCLUDED.delivered,
        redelivered = k.redelivered + EXCLUDED.redelivered
)
SELECT up.seq, up.copy, up.attempts, up.size, up.watched, m.data, m.codec, m.key_id
FROM up JOIN conveyor_messages m ON m.seq = up.seq
ORDER BY up.rn
"""

SETTLE = """
WITH a AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bigint[])
        WITH ORDINALITY AS a (qname, seq, copy, token, ord)
), up AS (
    UPDATE conveyor_units u
    SET state = 2, final = 3, reason = '', changed = $5
    FROM a JOIN conveyor_queues q ON q.name = a.qname
    WHERE u.seq = a.seq AND u.copy = a.copy AND u.token = a.token AND u.queue_id = q.id
      AND u.state::int = 1 AND u.visible_at > $5
    RETURNING a.ord, u.queue_id, u.seq, u.watched, u.okey IS NOT NULL AS fifo, u.sub, q.name,
        u.fanout, u.guarantee, u.publish_time, u.size, u.topic, u.prio, u.okey,
        (q.config->>'retain_acked_s')::float8 > 0
            OR (q.config->>'retain_acked_bytes')::bigint > 0 AS retains
), ret AS (
    -- A message of one unit is done with its ack: retained here (``RETAIN`` for the others).
    INSERT INTO conveyor_retained AS r (queue_id, seq, acked_at, publish_time, size, topic,
        guarantee, prio, okey)
    SELECT queue_id, seq, $5, publish_time, size, topic, guarantee, prio, okey FROM up
    WHERE retains AND NOT fanout AND guarantee <> $7
    ORDER BY seq
    ON CONFLICT (seq) DO UPDATE SET acked_at = EXCLUDED.acked_at
), cnt AS (
    INSERT INTO conveyor_counters AS k (queue_id, shard, acked)
    SELECT queue_id, $6, count(*) FROM up GROUP BY queue_id
    ON CONFLICT (queue_id, shard) DO UPDATE SET acked = k.acked + EXCLUDED.acked
)
SELECT ord, queue_id, seq, watched, fifo, sub, name, retains AND fanout AS fanout_retains FROM up
"""

LEASED = """
SELECT a.ord, u.seq, u.copy, u.queue_id, q.name, u.attempts, u.fanout, u.sub, u.guarantee,
       u.topic, u.size, u.prio, u.okey, u.watched, u.nack_reason
FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bigint[])
     WITH ORDINALITY AS a (qname, seq, copy, token, ord)
JOIN conveyor_queues q ON q.name = a.qname
JOIN conveyor_units u ON u.seq = a.seq AND u.copy = a.copy AND u.queue_id = q.id
WHERE u.token = a.token AND u.state::int = 1 AND u.visible_at > $5
ORDER BY u.seq, u.copy
FOR UPDATE OF u
"""

EXTEND = """
UPDATE conveyor_units u SET visible_at = $6
FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bigint[])
     WITH ORDINALITY AS a (qname, seq, copy, token, ord)
JOIN conveyor_queues q ON q.name = a.qname
WHERE u.seq = a.seq AND u.copy = a.copy AND u.queue_id = q.id AND u.token = a.token
  AND u.state::int = 1 AND u.visible_at > $5
RETURNING a.ord
"""

APPLY = """
UPDATE conveyor_units u
SET state = x.state, visible_at = x.visible_at, final = x.final, reason = x.reason,
    changed = $7,
    nack_reason = CASE WHEN x.nack <> '' THEN x.nack ELSE u.nack_reason END
FROM unnest($1::bigint[], $2::int[], $3::smallint[], $4::float8[], $5::smallint[],
            $6::text[], $8::text[]) AS x (seq, copy, state, visible_at, final, reason, nack)
WHERE u.seq = x.seq AND u.copy = x.copy
"""

UNITS = """
SELECT seq, copy, sub, state, final, attempts, reason, changed, guarantee, required_acks, fanout
FROM conveyor_units WHERE queue_id = $1 AND seq = ANY($2::bigint[])
ORDER BY seq, copy
"""

DATA = "SELECT seq, data, codec, key_id FROM conveyor_messages WHERE seq = ANY($1::bigint[])"

STATS = """
SELECT count(*) FILTER (WHERE state = 0 AND visible_at <= $2) AS ready,
       count(*) FILTER (WHERE state = 0 AND visible_at > $2) AS delayed,
       count(*) FILTER (WHERE state = 1) AS in_flight,
       count(DISTINCT seq) AS depth,
       min(publish_time) AS oldest
FROM conveyor_units WHERE queue_id = $1 AND state < 2
"""

COUNTER_SUMS = """
SELECT coalesce(sum(sent), 0) AS sent, coalesce(sum(delivered), 0) AS delivered,
       coalesce(sum(acked), 0) AS acked, coalesce(sum(nacked), 0) AS nacked,
       coalesce(sum(redelivered), 0) AS redelivered,
       coalesce(sum(dead_lettered), 0) AS dead_lettered,
       coalesce(sum(expired), 0) AS expired, coalesce(sum(dropped), 0) AS dropped,
       coalesce(sum(duplicates), 0) AS duplicates,
       coalesce(sum(compressed), 0) AS compressed,
       coalesce(sum(compression_saved), 0) AS compression_saved
FROM conveyor_counters WHERE queue_id = $1
"""

DEPTH = "SELECT count(DISTINCT seq) FROM conveyor_units WHERE queue_id = $1 AND state < 2"

DROPPABLE = """
SELECT seq FROM conveyor_units WHERE queue_id = $1 AND state < 2
GROUP BY seq HAVING bool_and(state = 0) ORDER BY seq LIMIT $2
"""

LIVE = """
SELECT seq, bool_or(state = 1) AS in_flight, sum(attempts)::int AS attempts,
       max(CASE WHEN state = 0 AND visible_at > $2 THEN visible_at END) AS due,
       max(prio) AS prio, min(guarantee) AS guarantee
FROM conveyor_units WHERE queue_id = $1 AND state < 2
GROUP BY seq ORDER BY max(prio) DESC, seq LIMIT $3
"""

LAG = """
SELECT fanout, sub, state, state = 0 AND visible_at > $2 AS delayed, topic,
       count(*) AS n, min(publish_time) AS oldest
FROM conveyor_units WHERE queue_id = $1 AND state < 2
GROUP BY fanout, sub, state, state = 0 AND visible_at > $2, topic
LIMIT $3
"""

RATE_SAMPLE = """
SELECT q.id, coalesce(sum(c.sent), 0) AS sent, coalesce(sum(c.delivered), 0) AS delivered,
       coalesce(sum(c.acked), 0) AS acked, coalesce(sum(c.dead_lettered), 0) AS dead_lettered
FROM conveyor_queues q LEFT JOIN conveyor_counters c ON c.queue_id = q.id
GROUP BY q.id
"""
"""Every queue's rated counters (summed over every server's shards) for this server's rate
rings: one statement a second, none per message."""

# -- retention and replay ---------------------------------------------------------------

RETAIN = """
INSERT INTO conveyor_retained AS r (queue_id, seq, acked_at, publish_time, size, topic,
    guarantee, prio, okey)
SELECT u.queue_id, u.seq, $2, min(u.publish_time), max(u.size), min(u.topic),
       min(u.guarantee), max(u.prio), min(u.okey)
FROM conveyor_units u
WHERE u.seq = ANY($1::bigint[]) AND u.queue_id = ANY($3::bigint[])
GROUP BY u.queue_id, u.seq
HAVING bool_and(u.state = 2) AND min(u.guarantee) <> $4
   AND count(*) FILTER (WHERE u.final = $5) >= max(u.required_acks)
ORDER BY u.queue_id, u.seq
ON CONFLICT (seq) DO UPDATE SET acked_at = EXCLUDED.acked_at
"""
"""Retains those of the named messages (of retaining queues) whose every unit is done and
whose guarantee was met, as the memory store's ``retained.retainable`` does; a replayed one
acked again gets a new ack time. Run after the acks committed, by whoever made them: of two
servers acking the last two copies at once, the one checking last sees both. (``SETTLE``
retains messages of one unit itself.)"""

RETAINED = """
SELECT r.* FROM (
    SELECT r.*, sum(r.size) OVER (ORDER BY r.acked_at DESC, r.seq DESC) AS newer
    FROM conveyor_retained r
    WHERE r.queue_id = $1 AND ($2::float8 = 0 OR r.acked_at + $2 > $3)
) r WHERE $4::bigint = 0 OR r.newer <= $4
"""
"""A queue's retained messages under its settings ($2 retain_acked_s, $4 retain_acked_bytes)
at $3: those acked within the time, and of them the newest that fit the byte budget. Reads
use it, so they are exact between the leader's trims."""

BUDGET_CUT = """
SELECT acked_at, seq FROM (
    SELECT acked_at, seq, sum(size) OVER (ORDER BY acked_at DESC, seq DESC) AS newer
    FROM conveyor_retained WHERE queue_id = $1
    ORDER BY acked_at DESC, seq DESC
) x WHERE newer > $2 LIMIT 1
"""
"""The newest retained message past the byte budget $2 (it and everything older go): walks
the queue's retained rows newest first, only as far as the budget reaches."""

RETAINED_STATS = f"SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM ({RETAINED}) k"

REPLAYABLE = f"""
SELECT k.seq, k.publish_time, k.size, k.topic, k.guarantee, k.prio, k.okey FROM ({RETAINED}) k
WHERE ($5::float8 IS NULL OR k.publish_time >= $5)
  AND ($6::text IS NULL OR ('.' || k.topic) ~ $6)
ORDER BY k.seq
"""

UNITS_OF = """
SELECT seq, copy, state, fanout, sub FROM conveyor_units
WHERE queue_id = $1 AND seq = ANY($2::bigint[])
ORDER BY seq, copy
FOR UPDATE
"""

REPLAY = """
WITH x AS (
    SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], $4::smallint[], $5::int[],
                         $6::text[], $7::text[], $8::int[], $9::float8[])
        AS x (seq, copy, required_acks, guarantee, prio, okey, topic, size, publish_time)
), u AS (
    INSERT INTO conveyor_units (seq, copy, queue_id, state, visible_at, fanout, sub,
        guarantee, required_acks, prio, okey, topic, size, publish_time, expires_at,
        final, reason, changed, watched)
    SELECT seq, copy, $10, 0, $11, true, $12, guarantee, required_acks, prio, okey, topic,
        size, publish_time, 0, 0, '', $11, false
    FROM x
), widen AS (
    UPDATE conveyor_units v SET required_acks = x.required_acks
    FROM x WHERE v.seq = x.seq AND v.copy < x.copy
)
INSERT INTO conveyor_lanes AS l (queue_id, okey, fanout, sub, head)
SELECT $10, okey, true, $12, min(seq) FROM x WHERE okey IS NOT NULL
GROUP BY okey ORDER BY okey
ON CONFLICT (queue_id, okey, fanout, sub) DO UPDATE SET head = EXCLUDED.head
WHERE EXCLUDED.head < l.head
"""
"""Replayed messages become live again under their own ids as fan-out copies for one
subscription ($12); a message still live from an earlier replay gets one copy more, and
every copy of it then counts towards ``required_acks``."""

ACK_BEFORE = """
UPDATE conveyor_units u
SET state = 2, final = $5, reason = '', changed = $6,
    sub = CASE WHEN u.fanout THEN u.sub ELSE $2 END
WHERE u.queue_id = $1 AND u.state < 2 AND u.publish_time < $3
  AND (CASE WHEN u.fanout THEN u.sub = $2
            ELSE (u.state = 0 OR u.sub = $2) AND ($4::text IS NULL OR ('.' || u.topic) ~ $4)
       END)
RETURNING u.seq, u.watched, u.okey IS NOT NULL AS fifo
"""
"""Seek forwards: the subscription's own copies, and the shared units it could take that no
other subscription holds leased, published before $3, end acked by it."""
