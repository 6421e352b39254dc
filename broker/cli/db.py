"""``conveyor db migrate|status``: the PostgreSQL store's schema, for operators who migrate
apart from starting servers (a server migrates at start too).

``broker.store.postgres`` is imported only when one of the commands runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from broker.cli.common import _fail

STORE_OPTION = click.option(
    "--store",
    envvar="CONVEYOR_STORE",
    required=True,
    metavar="URL",
    help="postgresql://USER@HOST:PORT/DB (env CONVEYOR_STORE).",
)


@click.group()
def db() -> None:
    """Migrate or inspect a PostgreSQL store's schema."""


async def _run(store: str, work: Any) -> Any:
    import asyncpg

    try:
        conn = await asyncpg.connect(store, timeout=10)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        _fail("UNAVAILABLE", f"cannot connect to {store}: {exc}")
    try:
        return await work(conn)
    finally:
        await conn.close()


@db.command("migrate")
@STORE_OPTION
def db_migrate(store: str) -> None:
    """Bring the schema to this version of Conveyor (refused if the database is newer)."""
    from broker.errors import BrokerError
    from broker.store.postgres import schema

    try:
        before, after = asyncio.run(_run(store, schema.migrate))
    except BrokerError as exc:
        _fail("FAILED_PRECONDITION", str(exc))
    if before == after:
        click.echo(f"schema version {after}: up to date")
    else:
        click.echo(f"schema version {before} -> {after}: migrated")


@db.command("status")
@STORE_OPTION
def db_status(store: str) -> None:
    """Print the database's schema version and what this Conveyor knows. Exit 1 when the
    database needs migrating or is newer than this Conveyor."""
    from broker.store.postgres import schema

    found = asyncio.run(_run(store, schema.current_version))
    click.echo(f"database schema version: {found}")
    click.echo(f"this Conveyor's version: {schema.VERSION}")
    if found < schema.VERSION:
        click.echo(f"pending migrations: {schema.VERSION - found} (run: conveyor db migrate)")
        raise SystemExit(1)
    if found > schema.VERSION:
        _fail(
            "FAILED_PRECONDITION",
            f"the database is at version {found}, newer than this Conveyor ({schema.VERSION})",
        )
    click.echo("up to date")
