"""The CLI's retention and replay commands against a real server (the ``server`` fixture):
queue options, ``receive --start``, ``subscription seek``, and the stats they show."""

from __future__ import annotations

import json
import time

from test_cli_server import _Server, cli, ok, ok_json


def test_retain_replay_and_seek(server: _Server, qname: str) -> None:
    ok(server, "queue", "create", qname, "--retain-acked", "1h", "--retain-acked-bytes", "4096",
       "--compress-above-bytes", "0")  # fmt: skip
    queue = ok_json(server, "queue", "get", qname)
    assert (queue["retain_acked"], queue["retain_acked_bytes"]) == ("3600s", "4096")
    assert queue["compress_above_bytes"] == "0"
    ok(server, "receive", qname, "-s", "s", "--max", "1", "--wait", "0.2s")  # creates "s"
    ids = ok(server, "send", qname, "replay me", "--count", "2").split()
    got = ok(server, "receive", qname, "-s", "s", "--max", "2", "--wait", "10s")
    assert len(got.splitlines()) == 2
    stats = ok_json(server, "stats", qname)
    assert (stats["retained"], stats["retained_bytes"]) == (2, 18)

    replayed = ok(server, "receive", qname, "-s", "late", "--start", "all", "--max", "2",
                  "--wait", "10s", "--json")  # fmt: skip
    assert sorted(json.loads(line)["message"]["id"] for line in replayed.splitlines()) == sorted(
        ids
    )
    assert ok(server, "receive", qname, "-s", "new", "--start", "new", "--wait", "0.5s") == ""

    out = ok(server, "subscription", "seek", qname, "s", "--time", "1h")
    assert out.strip() == "replayed 2, acked 0"
    again = ok(server, "receive", qname, "-s", "s", "--max", "2", "--wait", "10s", "--json")
    assert sorted(json.loads(line)["message"]["id"] for line in again.splitlines()) == sorted(ids)
    iso = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 5))
    assert ok(server, "subscription", "seek", qname, "s", "--time", iso).startswith("replayed 0")


def test_seek_errors_are_reported(server: _Server, qname: str) -> None:
    ok(server, "queue", "create", qname)
    missing = cli("--server", server.address, "subscription", "seek", qname, "nobody",
                  "--time", "now")  # fmt: skip
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: NOT_FOUND: ")
    bad = cli("--server", server.address, "subscription", "seek", qname, "s", "--time", "soon")
    assert bad.returncode == 2
    assert "is not a time" in bad.stderr
    bad_start = cli("--server", server.address, "receive", qname, "-s", "x", "--start", "later")
    assert bad_start.returncode == 2
    assert "--start" in bad_start.stderr


def test_encrypted_queue_needs_a_server_key(server: _Server, qname: str) -> None:
    done = cli("--server", server.address, "queue", "create", qname, "--encrypted")
    assert done.returncode == 1
    assert done.stderr.startswith("error: FAILED_PRECONDITION: ")
    assert "encryption key" in done.stderr
