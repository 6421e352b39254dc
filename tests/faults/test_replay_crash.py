"""Retention, start positions, seek and finished statuses across SIGKILL and restart.

Through the real server's gRPC API only: acked messages of a queue with ``retain_acked`` are
replayed to new subscriptions (ALL, FROM_TIME; NEW gets nothing) and by SeekSubscription
(backwards replays, forwards acks), and all of it - the retained messages, a replay not yet
acked, what a forward seek acked, the status of a message acked before the crash - is the same
after the process is killed and started again, from the log and from a snapshot.
"""

from __future__ import annotations

import base64
import os
import random
import time

import grpc
import pytest
import rpc_helpers as rpc
from faults_helpers import Client, Ledger, Load, msg, text
from rpc_helpers import dur, wait_until
from server_helpers import start_server

from conveyor.v1 import admin_pb2, types_pb2


def _texts(deliveries: list[types_pb2.Delivery]) -> list[str]:
    return sorted(text(d) for d in deliveries)


@pytest.mark.parametrize("checkpoint", [False, True])
def test_replay_and_seek_survive_sigkill(tmp_path, checkpoint):
    data = tmp_path / "data"
    # A tiny checkpoint threshold makes the server snapshot (retained messages, statuses)
    # while it runs, so the restart reads them back from a snapshot rather than the log.
    env = {"CONVEYOR_CHECKPOINT_BYTES": "2048"} if checkpoint else {}
    srv = start_server(data, env=env)
    try:
        with Client(srv.address) as c:
            c.create_queue("r", retain_acked=dur(3600))
            rpc.pull_from(c.broker, "r", "s")  # the subscription exists before the sends
            early = c.send_ok("r", *[msg(f"early-{i}") for i in range(3)])
            time.sleep(0.05)
            middle = time.time()
            time.sleep(0.05)
            late = c.send_ok("r", *[msg(f"late-{i}") for i in range(3)])
            got = rpc.pull_from(c.broker, "r", "s")
            assert len(got) == 6
            assert c.ack([d.ack_id for d in got]) == []
            assert c.status("r", early[0]).state == types_pb2.MESSAGE_STATE_DELIVERED
            if checkpoint:
                # Filler traffic on another queue until a snapshot has been written.
                c.create_queue("filler")
                wal = data / "wal"
                for _ in range(200):
                    c.send_ok("filler", msg("f" * 200))
                    if any(p.suffix == ".snap" for p in wal.iterdir()):
                        break
                assert any(p.suffix == ".snap" for p in wal.iterdir()), list(wal.iterdir())
        srv.kill()

        srv = start_server(data, env=env)
        with Client(srv.address) as c:
            # The publisher polling across the restart tells "acked" from "never stored".
            status = c.status("r", early[0])
            assert status.state == types_pb2.MESSAGE_STATE_DELIVERED
            with pytest.raises(grpc.RpcError) as missing:
                c.status("r", "ffffffffffff")
            assert missing.value.code() == grpc.StatusCode.NOT_FOUND
            stats = c.stats("r")
            assert (stats.retained, stats.depth) == (6, 0)
            assert stats.retained_bytes == 3 * len("early-0") + 3 * len("late-0")

            # Start positions of new subscriptions.
            every = rpc.pull_from(c.broker, "r", "all", types_pb2.START_POSITION_ALL)
            assert sorted(d.message.id for d in every) == sorted(early + late)
            assert all(d.attempt == 1 for d in every)
            recent = rpc.pull_from(
                c.broker, "r", "from", types_pb2.START_POSITION_FROM_TIME, middle
            )
            assert _texts(recent) == [f"late-{i}" for i in range(3)]
            assert rpc.pull_from(c.broker, "r", "new", types_pb2.START_POSITION_NEW) == []
            c.ack([d.ack_id for d in every + recent])

            # Seek backwards: the late ones again, to "s" only; killed before they are acked.
            assert rpc.seek(c.admin, "r", "s", middle) == (3, 0)
        srv.kill()

        srv = start_server(data, env=env)
        with Client(srv.address) as c:
            again = rpc.pull_from(c.broker, "r", "s")
            assert sorted(d.message.id for d in again) == sorted(late)
            assert rpc.pull_from(c.broker, "r", "all") == []
            c.ack([d.ack_id for d in again])
            # Seek forwards: what "s" has not acked before now becomes acked.
            pending = c.send_ok("r", msg("pending-0"), msg("pending-1"))
            time.sleep(0.02)
            assert rpc.seek(c.admin, "r", "s", time.time()) == (0, 2)
            assert c.status("r", pending[0]).state == types_pb2.MESSAGE_STATE_DELIVERED
        srv.kill()

        srv = start_server(data, env=env)
        with Client(srv.address) as c:
            assert rpc.pull_from(c.broker, "r", "s") == []
            assert c.stats("r").retained == 8
            assert c.status("r", pending[1]).state == types_pb2.MESSAGE_STATE_DELIVERED
    finally:
        srv.kill()


def test_retention_expires_and_stays_expired_after_a_restart(tmp_path):
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            c.create_queue("short", retain_acked=dur(1.0))
            c.create_queue("budget", retain_acked_bytes=10)
            for queue in ("short", "budget"):
                rpc.pull_from(c.broker, queue, "s")
                c.send_ok(queue, *[msg(f"m{i}-abcd") for i in range(3)])  # 7 bytes each
                c.ack([d.ack_id for d in rpc.pull_from(c.broker, queue, "s")])
            assert c.stats("short").retained == 3
            assert (c.stats("budget").retained, c.stats("budget").retained_bytes) == (1, 7)
            wait_until(lambda: c.stats("short").retained == 0, timeout=10, what="expiry")
            assert rpc.pull_from(c.broker, "short", "late", types_pb2.START_POSITION_ALL) == []
        srv.kill()
        srv = start_server(data)
        with Client(srv.address) as c:
            assert c.stats("short").retained == 0
            assert c.stats("budget").retained == 1
            (only,) = rpc.pull_from(c.broker, "budget", "late", types_pb2.START_POSITION_ALL)
            assert text(only) == "m2-abcd"
    finally:
        srv.kill()


def test_bad_seek_and_start_requests_are_refused(tmp_path):
    srv = start_server(tmp_path / "data")
    try:
        with Client(srv.address) as c:
            c.create_queue("q", retain_acked=dur(60))
            with pytest.raises(grpc.RpcError) as nobody:
                rpc.seek(c.admin, "q", "nobody", time.time())
            assert nobody.value.code() == grpc.StatusCode.NOT_FOUND
            with pytest.raises(grpc.RpcError) as no_time:
                rpc.pull_from(c.broker, "q", "x", types_pb2.START_POSITION_FROM_TIME)
            assert no_time.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            with pytest.raises(grpc.RpcError) as bad:
                rpc.pull_from(c.broker, "q", "x", 99)
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            rpc.pull_from(c.broker, "q", "s")
            req = admin_pb2.SeekSubscriptionRequest(queue="q", subscription="s")
            with pytest.raises(grpc.RpcError) as untimed:
                c.admin.SeekSubscription(req, timeout=rpc.RPC_TIMEOUT)
            assert untimed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        srv.kill()


def test_sealed_compressed_retention_under_load_survives_sigkill(tmp_path):
    """Producers and consumers on an encrypted, compressed, retaining queue; SIGKILL mid-load.
    After the restart every message whose Ack returned OK reads DELIVERED and is retained,
    every message whose Send returned OK is replayed to a new START_POSITION_ALL subscription
    (retained or still pending), and no payload is in the data directory in the clear."""
    data = tmp_path / "data"
    env = {
        "CONVEYOR_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "CONVEYOR_CHECKPOINT_BYTES": str(64 * 1024),  # snapshots while loaded, too
    }
    ledger = Ledger()
    srv = start_server(data, "--compress-above", "32", env=env)
    try:
        with Client(srv.address) as c:
            c.create_queue("vault", retain_acked=dur(3600), encrypted=True, lease=dur(3.0))
        load = Load(srv.address, "vault", ledger, 0, lease=3.0, payload_bytes=96).start()
        target = random.Random(20261202).randint(600, 1200)
        wait_until(lambda: load.sent >= target or ledger.unexpected, timeout=30, what="load")
        load.killing.set()
        srv.kill()
        load.join()
        assert not ledger.unexpected, ledger.unexpected[:10]
        assert ledger.acked_ok, "the load acked nothing before the kill"
        disk = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
        assert b"L0-p" not in disk  # payloads are "L0-p{n}-{i}-xxx...": sealed on disk

        srv = start_server(data, "--compress-above", "32", env=env)
        with Client(srv.address) as c:
            for mid in ledger.acked_ok:
                assert c.status("vault", mid).state == types_pb2.MESSAGE_STATE_DELIVERED, mid
            stats = c.stats("vault")
            assert stats.retained >= len(ledger.acked_ok)
            replayed: dict[str, str] = {}
            for _ in range(100):
                batch = rpc.pull_from(c.broker, "vault", "audit", types_pb2.START_POSITION_ALL)
                if not batch:
                    break
                replayed.update((d.message.id, text(d)) for d in batch)
                c.ack([d.ack_id for d in batch])
            missing = set(ledger.sent_ok) - set(replayed)
            assert not missing, f"{len(missing)} sent messages not replayed"
            assert all(replayed[m] == ledger.sent_ok[m] for m in ledger.sent_ok)
    finally:
        srv.kill()
