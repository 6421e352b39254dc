"""Retention, start positions and seek, encryption and compression at rest, on the PostgreSQL
store through real servers sharing one database.

- Acked messages of a retaining queue are replayed by any server to new subscriptions (ALL,
  FROM_TIME; NEW gets nothing) and by SeekSubscription (backwards replays, forwards acks);
  a server SIGKILLed in between loses none of it; the byte budget and expiry hold.
- An encrypted queue's payloads and attributes appear nowhere in the database's files (its
  tables and the server's write-ahead log) while a plain queue's marker does; a server
  without a key that stored rows need refuses to start, naming the key; keys rotate.
- Payloads at or above the compression threshold are stored compressed and delivered as
  sent (0 B, 1 KiB, 1 MiB), with the saving in stats.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
import rpc_helpers as rpc
from pg_helpers import Client
from rpc_helpers import wait_until
from server_helpers import ServerProcess, start_server

from conveyor.v1 import types_pb2

MARKER = b"PGMARKER-c0nvey0r-secret-51be"
ATTR_MARKER = "PGATTRMARK-90ac1f"
PLAIN_MARKER = b"PGPLAINMARK-visible-7d02"


def _ids(deliveries: list[types_pb2.Delivery]) -> list[str]:
    return sorted(d.message.id for d in deliveries)


def _send(c: Client, queue: str, *payloads: bytes, **fields: object) -> list[str]:
    results = rpc.send(c.broker, queue, *(rpc.message(p, **fields) for p in payloads))
    return [r.message_id for r in results]


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _start(tmp: Path, name: str, store: str, keys: str = "", *extra: str) -> ServerProcess:
    env = {"CONVEYOR_ENCRYPTION_KEYS": keys} if keys else {}
    return start_server(tmp / name, *extra, env=env, store=store)


def _fails_to_start(tmp: Path, store: str, keys: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CONVEYOR_ENCRYPTION_KEYS"}
    if keys:
        env["CONVEYOR_ENCRYPTION_KEYS"] = keys
    cmd = [sys.executable, "-m", "broker", "serve", "--listen", "127.0.0.1:0"]
    done = subprocess.run(
        [*cmd, "--data-dir", str(tmp / "refused"), "--store", store],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0, done.stdout + done.stderr
    return done.stdout + done.stderr


# -- retention and replay ----------------------------------------------------------------------


def test_replay_and_seek_across_servers_and_a_sigkill(
    postgres_cluster: object, tmp_path: Path
) -> None:
    store = postgres_cluster.database()  # type: ignore[attr-defined]
    a = _start(tmp_path, "a", store)
    b = _start(tmp_path, "b", store)
    try:
        ca, cb = Client(a.address), Client(b.address)
        rpc.create_queue(ca.admin, "r", retain_acked=rpc.dur(3600))
        rpc.pull_from(ca.broker, "r", "s")  # the subscription exists before the sends
        early = _send(ca, "r", *(b"early-%d" % i for i in range(3)))
        time.sleep(0.05)
        middle = time.time()
        time.sleep(0.05)
        late = _send(ca, "r", *(b"late-%d" % i for i in range(3)))
        got = rpc.pull_from(cb.broker, "r", "s")  # consumed and acked through the other server
        assert len(got) == 6
        assert rpc.ack(cb.broker, [d.ack_id for d in got]) == []
        ca.close()
        a.kill()

        stats = rpc.stats(cb.admin, "r")
        assert (stats.retained, stats.depth) == (6, 0)
        assert stats.retained_bytes == 3 * len("early-0") + 3 * len("late-0")
        every = rpc.pull_from(cb.broker, "r", "all", types_pb2.START_POSITION_ALL)
        assert _ids(every) == sorted(early + late)
        assert all(d.attempt == 1 for d in every)
        recent = rpc.pull_from(cb.broker, "r", "from", types_pb2.START_POSITION_FROM_TIME, middle)
        assert sorted(d.message.payload for d in recent) == [b"late-%d" % i for i in range(3)]
        assert rpc.pull_from(cb.broker, "r", "new", types_pb2.START_POSITION_NEW) == []
        assert rpc.ack(cb.broker, [d.ack_id for d in every + recent]) == []
        # Seek backwards: the late ones again, to "s" only; this server is then killed too.
        assert rpc.seek(cb.admin, "r", "s", middle) == (3, 0)
        cb.close()
        b.kill()

        a = _start(tmp_path, "a2", store)
        ca = Client(a.address)
        again = rpc.pull_from(ca.broker, "r", "s")
        assert _ids(again) == sorted(late)
        assert rpc.pull_from(ca.broker, "r", "all") == []
        assert rpc.ack(ca.broker, [d.ack_id for d in again]) == []
        # Seek forwards: what "s" has not acked before now becomes acked.
        pending = _send(ca, "r", b"pending-0", b"pending-1")
        time.sleep(0.02)
        assert rpc.seek(ca.admin, "r", "s", time.time()) == (0, 2)
        assert rpc.status(ca.broker, "r", pending[0]).state == types_pb2.MESSAGE_STATE_DELIVERED
        assert rpc.pull_from(ca.broker, "r", "s") == []
        assert rpc.stats(ca.admin, "r").retained == 8
        ca.close()
    finally:
        a.kill()
        b.kill()


def test_retention_expires_and_the_budget_keeps_the_newest(
    postgres_cluster: object, tmp_path: Path
) -> None:
    store = postgres_cluster.database()  # type: ignore[attr-defined]
    srv = _start(tmp_path, "a", store)
    try:
        c = Client(srv.address)
        rpc.create_queue(c.admin, "short", retain_acked=rpc.dur(1.0))
        rpc.create_queue(c.admin, "budget", retain_acked_bytes=10)
        for queue in ("short", "budget"):
            rpc.pull_from(c.broker, queue, "s")
            _send(c, queue, *(b"m%d-abcd" % i for i in range(3)))  # 7 bytes each
            assert rpc.ack(c.broker, [d.ack_id for d in rpc.pull_from(c.broker, queue, "s")]) == []
        assert rpc.stats(c.admin, "short").retained == 3
        budget = rpc.stats(c.admin, "budget")
        assert (budget.retained, budget.retained_bytes) == (1, 7)
        wait_until(lambda: rpc.stats(c.admin, "short").retained == 0, timeout=10, what="expiry")
        assert rpc.pull_from(c.broker, "short", "late", types_pb2.START_POSITION_ALL) == []
        (only,) = rpc.pull_from(c.broker, "budget", "late", types_pb2.START_POSITION_ALL)
        assert only.message.payload == b"m2-abcd"
        # The leader deletes what neither queue keeps (reads apply the settings themselves).
        kept = (
            "SELECT string_agg(q.name || ':' || n, ',' ORDER BY q.name) FROM (SELECT queue_id,"
            " count(*) AS n FROM conveyor_retained GROUP BY queue_id) r"
            " JOIN conveyor_queues q ON q.id = r.queue_id"
        )
        name = store.rsplit("/", 1)[-1]
        wait_until(
            lambda: postgres_cluster.sql(kept, name) == "budget:1",  # type: ignore[attr-defined]
            timeout=15,
            what="the leader's trim",
        )
        c.close()
    finally:
        srv.kill()


# -- encryption --------------------------------------------------------------------------------


def _database_files(cluster: object, store: str) -> bytes:
    """The bytes of the database's own files and of the cluster's write-ahead log, after a
    checkpoint wrote every dirty page out."""
    name = store.rsplit("/", 1)[-1]
    cluster.sql("CHECKPOINT")  # type: ignore[attr-defined]
    oid = cluster.sql(f"SELECT oid FROM pg_database WHERE datname = '{name}'")  # type: ignore[attr-defined]
    data: Path = cluster.data  # type: ignore[attr-defined]
    files = [*sorted((data / "base" / oid).rglob("*")), *sorted((data / "pg_wal").glob("0*"))]
    return b"".join(p.read_bytes() for p in files if p.is_file())


def test_encrypted_rows_hold_no_clear_text(postgres_cluster: object, tmp_path: Path) -> None:
    store = postgres_cluster.database()  # type: ignore[attr-defined]
    keys = f"k1:{_key()}"
    a = _start(tmp_path, "a", store, keys)
    b = _start(tmp_path, "b", store, keys)
    try:
        ca, cb = Client(a.address), Client(b.address)
        rpc.create_queue(ca.admin, "secret-dlq", encrypted=True)
        rpc.create_queue(
            ca.admin, "secret", encrypted=True, dead_letter_queue="secret-dlq", max_deliveries=1
        )
        rpc.create_queue(ca.admin, "plain")
        for queue in ("secret", "plain"):
            rpc.pull_from(ca.broker, queue, "s")
        sent = _send(ca, "secret", MARKER, attributes={"note": ATTR_MARKER})
        _send(ca, "secret", MARKER + b"-dead")
        _send(ca, "plain", PLAIN_MARKER)
        files = _database_files(postgres_cluster, store)
        assert PLAIN_MARKER in files  # the search finds what is there
        assert MARKER not in files
        assert ATTR_MARKER.encode() not in files
        # Delivered as sent through the other server; the second one dead-lettered.
        got = {d.message.payload: d for d in rpc.pull_from(cb.broker, "secret", "s")}
        assert got[MARKER].message.id == sent[0]
        assert got[MARKER].message.attributes["note"] == ATTR_MARKER
        assert rpc.ack(cb.broker, [got[MARKER].ack_id]) == []
        rpc.nack(cb.broker, [got[MARKER + b"-dead"].ack_id], dead_letter=True)
        (dead,) = rpc.dead_letters(ca.admin, "secret-dlq")
        assert dead.payload == MARKER + b"-dead"
        assert [p.message.payload for p in rpc.peek(cb.admin, "secret-dlq")] == [MARKER + b"-dead"]
        files = _database_files(postgres_cluster, store)
        assert MARKER not in files
        assert ATTR_MARKER.encode() not in files
        with pytest.raises(grpc.RpcError) as leak:
            rpc.create_queue(ca.admin, "secret2", encrypted=True, dead_letter_queue="plain")
        assert leak.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        ca.close()
        cb.close()
    finally:
        a.kill()
        b.kill()


def test_keys_rotate_and_a_server_missing_one_is_refused(
    postgres_cluster: object, tmp_path: Path
) -> None:
    store = postgres_cluster.database()  # type: ignore[attr-defined]
    k1, k2 = f"k1:{_key()}", f"k2:{_key()}"
    srv = _start(tmp_path, "a", store, k1)
    try:
        c = Client(srv.address)
        rpc.create_queue(c.admin, "secret", encrypted=True)
        rpc.pull_from(c.broker, "secret", "s")
        _send(c, "secret", b"sealed-with-k1")
        c.close()
        srv.kill()
        srv = _start(tmp_path, "b", store, f"{k1},{k2}")  # k2 added: newest, seals from now on
        c = Client(srv.address)
        _send(c, "secret", b"sealed-with-k2")
        c.close()
        # Without k1 the rows it sealed cannot be read: refused, naming the key.
        out = _fails_to_start(tmp_path, store, k2)
        assert "'k1'" in out, out
        assert "CONVEYOR_ENCRYPTION_KEYS" in out, out
        out = _fails_to_start(tmp_path, store, "")
        assert "['secret']" in out, out
        assert "no encryption key" in out, out
        # The server with both keys opens both.
        c = Client(srv.address)
        got = rpc.pull_from(c.broker, "secret", "s")
        assert sorted(d.message.payload for d in got) == [b"sealed-with-k1", b"sealed-with-k2"]
        assert rpc.ack(c.broker, [d.ack_id for d in got]) == []
        c.close()
        srv.kill()
        # Once nothing live needs k1, a server with k2 alone starts.
        srv = _start(tmp_path, "c", store, k2)
        c = Client(srv.address)
        _send(c, "secret", b"after")
        assert [d.message.payload for d in rpc.pull_from(c.broker, "secret", "s")] == [b"after"]
        c.close()
    finally:
        srv.kill()


def test_a_server_without_a_key_cannot_make_an_encrypted_queue(
    postgres_cluster: object, tmp_path: Path
) -> None:
    srv = _start(tmp_path, "a", postgres_cluster.database())  # type: ignore[attr-defined]
    try:
        c = Client(srv.address)
        with pytest.raises(grpc.RpcError) as refused:
            rpc.create_queue(c.admin, "secret", encrypted=True)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "encryption key" in (refused.value.details() or "")
        c.close()
    finally:
        srv.kill()


# -- compression -------------------------------------------------------------------------------

_SIZES = (0, 1024, 1024 * 1024)


def _compressible(size: int) -> bytes:
    return (b"conveyor compresses this line well. " * (size // 36 + 1))[:size]


def test_compression_round_trip_and_saving(postgres_cluster: object, tmp_path: Path) -> None:
    store = postgres_cluster.database()  # type: ignore[attr-defined]
    srv = _start(tmp_path, "a", store, "", "--compress-above", "1024")
    try:
        c = Client(srv.address)
        rpc.create_queue(c.admin, "z")
        rpc.create_queue(c.admin, "never", compress_above_bytes=0)
        for queue in ("z", "never"):
            rpc.pull_from(c.broker, queue, "s")
        sent = {size: _compressible(size) for size in _SIZES}
        noise = os.urandom(4096)
        ids = _send(c, "z", *sent.values(), noise)  # the noise does not shrink: kept as is
        _send(c, "never", sent[1024 * 1024])
        stats = rpc.stats(c.admin, "z")
        assert stats.compressed == 2  # 1 KiB and 1 MiB; not 0 B, not the noise
        assert stats.compression_saved_bytes > 1024 * 1024 * 0.9
        assert rpc.stats(c.admin, "never").compressed == 0
        got = []
        while batch := rpc.pull_from(c.broker, "z", "s"):
            got += batch
            rpc.ack(c.broker, [d.ack_id for d in batch])
        assert sorted((d.message.id, d.message.payload) for d in got) == sorted(
            zip(ids, [*sent.values(), noise], strict=True)
        )
        (big,) = rpc.pull_from(c.broker, "never", "s")
        assert big.message.payload == sent[1024 * 1024]
        c.close()
    finally:
        srv.kill()
