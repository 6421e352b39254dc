"""``conveyor bench --store``: servers on a fresh database per run, and the database's work
per message in the figures (smoke-sized; the figures themselves are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys

from pg_cluster import Cluster


def bench(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "broker", "bench", *args, "--runs", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_publish_and_e2e_over_two_servers_report_the_database_work(
    postgres_cluster: Cluster,
) -> None:
    store = postgres_cluster.dsn()
    published = bench("publish", "--store", store, "--servers", "2", "--messages", "2000")
    median = published["median"]["conveyor"]
    assert (median["sent"], median["failed"]) == (2000, 0)
    assert median["extra.servers"] == 2
    # A stored message is two rows: its payload and its one unit (plus a counter per batch).
    assert 2.0 <= median["extra.db_rows_written_per_msg"] < 2.5
    assert median["extra.db_transactions_per_msg"] < 0.2  # one per Send of 100, not per message
    e2e = bench("e2e", "--store", store, "--servers", "2", "--messages", "2000")
    median = e2e["median"]["conveyor"]
    assert (median["received"], median["missing"], median["duplicates"]) == (2000, 0, 0)
    # ... then its claim and its ack rewrite the unit.
    assert 4.0 <= median["extra.db_rows_written_per_msg"] < 5.0
    databases = postgres_cluster.sql(
        "SELECT count(*) FROM pg_database WHERE datname LIKE 'conveyor_bench_%'"
    )
    assert databases == "0"  # each run's database is dropped afterwards
