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


_UNDO_V5 = (
    "DROP TABLE conveyor_retained, conveyor_keys;"
    " ALTER TABLE conveyor_messages DROP COLUMN codec, DROP COLUMN key_id;"
    " ALTER TABLE conveyor_counters DROP COLUMN compressed, DROP COLUMN compression_saved;"
)
"""What migration v5 added (retention, payloads at rest), for tests that go back before it."""


def test_a_database_at_an_older_version_is_migrated_forward(postgres_cluster: Cluster) -> None:
    store = postgres_cluster.database()
    name = store.rsplit("/")[-1]
    assert conveyor("db", "migrate", "--store", store).returncode == 0
    # Back to version 1, as a database made by the first PostgreSQL store was.
    postgres_cluster.sql(
        "ALTER TABLE conveyor_queues DROP COLUMN paused;"
        " ALTER TABLE conveyor_units DROP COLUMN nack_reason;"
        " DROP TABLE conveyor_lanes; DROP INDEX conveyor_units_ready;"
        " CREATE INDEX conveyor_units_ready ON conveyor_units (queue_id, prio DESC, seq)"
        " WHERE state = 0;"
        f"{_UNDO_V5} DELETE FROM conveyor_schema WHERE version > 1",
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


def test_fifo_backlogs_of_a_version_3_database_keep_their_order_after_migrating(
    postgres_cluster: Cluster, tmp_path: Path
) -> None:
    import rpc_helpers as rpc
    from pg_helpers import Client

    from conveyor.v1 import types_pb2

    store = postgres_cluster.database()
    name = store.rsplit("/")[-1]
    srv = start_server(tmp_path / "a", store=store)
    client = Client(srv.address)
    try:
        rpc.create_queue(client.admin, "q", kind=types_pb2.QUEUE_KIND_FIFO, lease=30)
        for i in range(5):
            rpc.send(client.broker, "q", *(rpc.message(f"{k}{i}", ordering_key=k) for k in "ab"))
        [held] = rpc.pull(client.broker, "q", "workers", max_messages=1)  # a0 stays leased
    finally:
        client.close()
        srv.stop()
    # Back to version 3: no lanes, the ready index over keyed units too.
    postgres_cluster.sql(
        "DROP TABLE conveyor_lanes; DROP INDEX conveyor_units_ready;"
        " CREATE INDEX conveyor_units_ready ON conveyor_units (queue_id, prio DESC, seq)"
        f" WHERE state = 0; {_UNDO_V5} DELETE FROM conveyor_schema WHERE version > 3",
        name,
    )
    srv = start_server(tmp_path / "b", store=store)  # migrates to the lanes at start
    client = Client(srv.address)
    try:
        assert "up to date" in conveyor("db", "status", "--store", store).stdout
        # a0 is still leased: only b's head may go.
        first = rpc.pull(client.broker, "q", "workers", max_messages=10)
        assert [d.message.payload for d in first] == [b"b0"]
        assert rpc.ack(client.broker, [held.ack_id, first[0].ack_id]) == []
        order: dict[str, list[str]] = {"a": ["a0"], "b": ["b0"]}
        for _ in range(20):
            ds = rpc.pull(client.broker, "q", "workers", max_messages=10)
            keys = [d.message.ordering_key for d in ds]
            assert len(keys) == len(set(keys)), f"two of one key in flight at once: {keys}"
            for d in ds:
                order[d.message.ordering_key].append(d.message.payload.decode())
            if ds:
                assert rpc.ack(client.broker, [d.ack_id for d in ds]) == []
            if len(order["a"]) + len(order["b"]) == 10:
                break
        assert order == {k: [f"{k}{i}" for i in range(5)] for k in "ab"}
    finally:
        client.close()
        srv.stop()
