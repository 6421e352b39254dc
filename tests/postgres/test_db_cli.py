"""``conveyor db migrate|status`` and ``conveyor serve --store``: the schema's versions as an
operator sees them, a database newer than the server refused, a bad URL refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pg_cluster import Cluster
from server_helpers import start_server

from broker.store.postgres.schema import VERSION


def conveyor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "broker", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_migrate_then_status(postgres_cluster: Cluster) -> None:
    store = postgres_cluster.database()
    before = conveyor("db", "status", "--store", store)
    assert before.returncode == 1
    assert "database schema version: 0" in before.stdout
    assert f"pending migrations: {VERSION}" in before.stdout
    migrated = conveyor("db", "migrate", env={"CONVEYOR_STORE": store})
    assert migrated.returncode == 0, migrated.stderr
    assert f"0 -> {VERSION}: migrated" in migrated.stdout
    assert "up to date" in conveyor("db", "migrate", "--store", store).stdout
    after = conveyor("db", "status", "--store", store)
    assert (after.returncode, after.stdout.splitlines()[-1]) == (0, "up to date")


def test_a_database_newer_than_the_server_is_refused(
    postgres_cluster: Cluster, tmp_path: Path
) -> None:
    store = postgres_cluster.database()
    assert conveyor("db", "migrate", "--store", store).returncode == 0
    postgres_cluster.sql("INSERT INTO conveyor_schema (version) VALUES (99)", store.rsplit("/")[-1])
    status = conveyor("db", "status", "--store", store)
    assert status.returncode == 1
    assert "newer than this Conveyor" in status.stderr
    assert conveyor("db", "migrate", "--store", store).returncode == 1
    served = conveyor("serve", "--listen", "127.0.0.1:0", "--store", store)
    assert served.returncode == 1
    assert f"schema is version 99, newer than this server's {VERSION}" in served.stderr


def test_a_server_migrates_an_empty_database_at_start(
    postgres_cluster: Cluster, tmp_path: Path
) -> None:
    store = postgres_cluster.database()
    srv = start_server(tmp_path, store=store)
    try:
        assert "up to date" in conveyor("db", "status", "--store", store).stdout
    finally:
        srv.stop()


def test_a_store_that_is_not_a_postgresql_url_is_refused() -> None:
    done = conveyor("serve", "--store", "mysql://x@y/z")
    assert done.returncode == 2
    assert "expected a postgresql://" in done.stderr
    unreachable = conveyor("db", "status", "--store", "postgresql://nobody@127.0.0.1:1/none")
    assert unreachable.returncode == 1
    assert "UNAVAILABLE" in unreachable.stderr


def test_a_database_at_an_older_version_is_migrated_forward(postgres_cluster: Cluster) -> None:
    store = postgres_cluster.database()
    name = store.rsplit("/")[-1]
    assert conveyor("db", "migrate", "--store", store).returncode == 0
    # Back to version 1, as a database made by the first PostgreSQL store was.
    postgres_cluster.sql(
        "ALTER TABLE conveyor_queues DROP COLUMN paused;"
        " ALTER TABLE conveyor_units DROP COLUMN nack_reason;"
        " DELETE FROM conveyor_schema WHERE version > 1",
        name,
    )
    status = conveyor("db", "status", "--store", store)
    assert (status.returncode, "database schema version: 1") == (1, status.stdout.splitlines()[0])
    migrated = conveyor("db", "migrate", "--store", store)
    assert f"1 -> {VERSION}: migrated" in migrated.stdout
    assert (
        postgres_cluster.sql(
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'paused'", name
        )
        == "1"
    )
