"""Retention and replay in the PostgreSQL store: the rules of ``broker.store.memory.retention``
as statements over ``conveyor_retained``.

A message of a retaining queue is retained once every unit of it is done and its guarantee
was met: by the ack statement for a message of one unit, else by ``sql.RETAIN`` run after the
acks that finished it committed. Which retained rows count is decided at read time from the
queue's settings (``sql.RETAINED``: ack time within ``retain_acked_s``, newest first within
``retain_acked_bytes``), so reads are exact; the leader deletes the rest now and then
(``trim``), and at once when a queue's settings change.

Replaying a retained message to a subscription makes it live again under its own id as a
fan-out copy for that subscription (its finished units, mere history, are replaced); one
still live from an earlier replay to another subscription gets a copy more. Seek acks first
(the subscription's units published before the time), then replays (retained ones published
at or after it). Both run under the queue row's ``FOR NO KEY UPDATE`` lock, which orders
replays of one queue against each other and not against publishes (``FOR KEY SHARE``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import asyncpg

from broker.model import Guarantee, MessageState, QueueConfig
from broker.store.postgres import sql
from broker.store.postgres.rows import DONE, filter_regex

if TYPE_CHECKING:
    from broker.store.postgres import QueueRow, Signals

_FNF = int(Guarantee.FIRE_AND_FORGET)
_DELIVERED = int(MessageState.DELIVERED)

LOCK_QUEUE = "SELECT id FROM conveyor_queues WHERE id = $1 FOR NO KEY UPDATE"


def _settings(config: QueueConfig, now: float) -> tuple[float, float, int]:
    """The parameters $2-$4 of ``sql.RETAINED``."""
    return config.retain_acked_s, now, config.retain_acked_bytes


async def retain(conn: asyncpg.Connection, finished: Iterable[tuple[int, int]], now: float) -> None:
    """Retains those of the ``(queue id, seq)`` just finished (on retaining queues) whose
    guarantee was met; call it after the statements that finished them committed."""
    pairs = sorted(set(finished))
    if pairs:
        await conn.execute(
            sql.RETAIN,
            [seq for _, seq in pairs],
            now,
            sorted({qid for qid, _ in pairs}),
            _FNF,
            _DELIVERED,
        )


async def trim(conn: asyncpg.Connection, qid: int, config: QueueConfig, now: float) -> None:
    """Deletes what the queue's settings no longer keep (everything when it retains nothing)."""
    if not config.retains:
        await conn.execute("DELETE FROM conveyor_retained WHERE queue_id = $1", qid)
        return
    if config.retain_acked_s:
        await conn.execute(
            "DELETE FROM conveyor_retained WHERE queue_id = $1 AND acked_at <= $2",
            qid,
            now - config.retain_acked_s,
        )
    if config.retain_acked_bytes:
        cut = await conn.fetchrow(sql.BUDGET_CUT, qid, config.retain_acked_bytes)
        if cut is not None:
            await conn.execute(
                "DELETE FROM conveyor_retained WHERE queue_id = $1 AND (acked_at, seq) <= ($2, $3)",
                qid,
                cut["acked_at"],
                cut["seq"],
            )


async def counts(conn: asyncpg.Connection, q: QueueRow, now: float) -> tuple[int, int]:
    """(retained messages, their payload bytes)."""
    if not q.config.retains:
        return 0, 0
    row = await conn.fetchrow(sql.RETAINED_STATS, q.id, *_settings(q.config, now))
    return int(row["n"]), int(row["bytes"])


async def ack_before(
    conn: asyncpg.Connection,
    q: QueueRow,
    sub: str,
    pattern: str,
    before: float,
    now: float,
    signals: Signals,
) -> list[int]:
    """Seek forwards (inside the caller's transaction): returns the seqs acked."""
    rows = await conn.fetch(
        sql.ACK_BEFORE, q.id, sub, before, filter_regex(pattern), _DELIVERED, now
    )
    for r in rows:
        if r["watched"]:
            signals.watched[(q.name, r["seq"])] = None
    if any(r["fifo"] for r in rows):  # lanes whose head was acked may move on
        for name, _ in q.subs:
            signals.ready[(q.name, name)] = None
    return [r["seq"] for r in rows]


async def replay(
    conn: asyncpg.Connection,
    q: QueueRow,
    sub: str,
    pattern: str,
    since: float | None,
    now: float,
    signals: Signals,
) -> int:
    """Makes the retained messages published at or after ``since`` (None: all) that ``sub``
    matches deliverable to it again (inside the caller's transaction, holding
    ``LOCK_QUEUE``); returns how many."""
    if not q.config.retains:
        return 0
    rows = await conn.fetch(
        sql.REPLAYABLE, q.id, *_settings(q.config, now), since, filter_regex(pattern)
    )
    if not rows:
        return 0
    units: dict[int, list[Any]] = {}
    for u in await conn.fetch(sql.UNITS_OF, q.id, [r["seq"] for r in rows]):
        units.setdefault(u["seq"], []).append(u)
    history: list[int] = []
    cols: list[list[Any]] = [[] for _ in range(9)]
    for r in rows:
        existing = units.get(r["seq"], [])
        live = [u for u in existing if u["state"] != DONE]
        if not live:
            if existing:
                history.append(r["seq"])
            copy, required = 0, 1
        elif all(u["fanout"] for u in live) and not any(u["sub"] == sub for u in live):
            copy, required = max(u["copy"] for u in existing) + 1, len(existing) + 1
        else:
            continue  # still live for a subscription that may take it, or already on its way
        values = (r["seq"], copy, required, r["guarantee"], r["prio"], r["okey"], r["topic"],
                  r["size"], r["publish_time"])  # fmt: skip
        for col, value in zip(cols, values, strict=True):
            col.append(value)
    if history:
        await conn.execute(
            "DELETE FROM conveyor_units WHERE queue_id = $1 AND seq = ANY($2::bigint[])"
            " AND state = 2",
            q.id,
            history,
        )
    if cols[0]:
        await conn.execute(sql.REPLAY, *cols, q.id, now, sub)
        signals.ready[(q.name, sub)] = None
    return len(cols[0])
