"""Benchmarks over the PostgreSQL store: several servers on a fresh database per run, and
what the database did per message.

``conveyor bench publish|e2e --store postgresql://... --servers N`` starts N servers on a
database made for the run next to the one the URL names (``CREATE DATABASE``, dropped
afterwards, so the user's own database is never touched), spreads producers and consumers
over them, and reads the database's own counters before and after: statements (from
``pg_stat_statements`` when the server preloads it), transactions and rows written (from
``pg_stat_database``), per message sent. When the database runs on this machine its
processes' CPU is read too (``/proc``), since on one box it competes with the servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from broker.bench import procfs
from broker.bench.server import BenchServer, ServerError

_DB_COUNTERS = """
SELECT xact_commit + xact_rollback AS transactions,
       tup_inserted + tup_updated + tup_deleted AS rows_written,
       tup_returned + tup_fetched AS rows_read
FROM pg_stat_database WHERE datname = current_database()
"""
_STATEMENTS = """
SELECT coalesce(sum(calls), 0) AS statements, coalesce(sum(rows), 0) AS rows
FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database
                                      WHERE datname = current_database())
"""


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@contextlib.contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new database beside the one ``url`` names, dropped afterwards; yields its URL."""
    import asyncpg

    name = f"conveyor_bench_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f"CREATE DATABASE {name}"))
    except Exception as exc:
        raise ServerError(f"cannot create a database for the run through {url}: {exc}") from exc
    try:
        yield with_database(url, name)
    finally:
        with contextlib.suppress(Exception):
            asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def database_counters(url: str) -> dict[str, float]:
    """The database's counters now (statements only where pg_stat_statements is there)."""
    import asyncpg

    async def read() -> dict[str, float]:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            await conn.execute("SELECT pg_stat_clear_snapshot()")
            out = {k: float(v) for k, v in (await conn.fetchrow(_DB_COUNTERS)).items()}
            with contextlib.suppress(asyncpg.PostgresError):
                await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                row = await conn.fetchrow(_STATEMENTS)
                out["statements"] = float(row["statements"])
                out["statement_rows"] = float(row["rows"])
            return out
        finally:
            await conn.close()

    return asyncio.run(read())


def database_cpu_seconds() -> float:
    """CPU seconds of this machine's PostgreSQL processes (0 when there are none)."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            if comm.startswith(("postgres", "postmaster")):
                # with reaped children: the postmaster's include its exited backends
                total += procfs._own_ticks(int(pid), with_reaped=True) / procfs.CLOCK_TICKS
        except (OSError, ValueError, procfs.ProcessGone):
            continue
    return total


@dataclass
class ServerGroup:
    """Several Conveyor servers on one database, measured as one (CPU and memory summed)."""

    servers: list[BenchServer]
    kind: str = "conveyor"

    @property
    def address(self) -> str:
        return self.servers[0].address

    @property
    def addresses(self) -> list[str]:
        return [s.address for s in self.servers]

    @property
    def running(self) -> bool:
        return all(s.running for s in self.servers)

    def start(self) -> ServerGroup:
        for s in self.servers:
            s.start()
        return self

    def stop(self, sig: int) -> int:
        codes = [s.stop(sig) for s in self.servers]
        return next((c for c in codes if c), 0)

    def kill(self) -> None:
        for s in self.servers:
            s.kill()

    def cpu_seconds(self) -> float:
        return sum(s.cpu_seconds() for s in self.servers)

    def memory(self) -> procfs.Memory:
        found = [s.memory() for s in self.servers]
        return procfs.Memory(rss=sum(m.rss for m in found), peak=sum(m.peak for m in found))

    def count(self, pattern: Any) -> int:
        return sum(s.count(pattern) for s in self.servers)

    def output(self) -> str:
        return "".join(s.output() for s in self.servers)

    def wal_stats(self) -> None:
        return None


def per_message(before: dict[str, float], after: dict[str, float], sent: int) -> dict[str, float]:
    """The counters' growth per message sent, as ``Figures.extra`` entries."""
    out: dict[str, float] = {}
    for key in ("statements", "transactions", "rows_written", "rows_read"):
        if key in before and key in after and sent:
            out[f"db_{key}_per_msg"] = (after[key] - before[key]) / sent
    return out
