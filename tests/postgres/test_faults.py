"""Faults with several servers on one database: a server SIGKILLed under load, and the
database itself restarted under load (SPEC §6, §11).

Judged only by what callers were told (``pg_helpers.Ledger``): no message whose Send returned
OK is lost, no message whose Ack returned OK is delivered again, no attempt handed out twice.
"""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest
import rpc_helpers as rpc
from grpc_health.v1 import health_pb2
from pg_cluster import Cluster
from pg_helpers import Client, Ledger, Load, drain, servers

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def test_a_server_killed_under_load_loses_nothing(postgres_cluster: Cluster, tmp_path: Path):
    store = postgres_cluster.database()
    with servers(tmp_path, store) as three:
        addresses = [s.address for s in three]
        survivor = Client(addresses[1])
        try:
            rpc.create_queue(survivor.admin, "work", lease=2.0)
            ledger = Ledger()
            load = Load(addresses, "work", ledger, max_sent=3000, lease=2.0).start()
            rpc.wait_until(lambda: load.sent >= 800, timeout=60, what="800 sent")
            victim = Client(addresses[0])
            held = rpc.pull(victim.broker, "work", "workers", max_messages=20, lease=2.0)
            victim.close()
            assert held
            ledger.seen += [(d.message.id, d.attempt, d.message.payload.decode()) for d in held]
            load.expect_errors.set()  # calls to the killed server fail: they move on
            load.down.add(addresses[0])
            three[0].kill()  # with leases held through it, never to be acked
            time.sleep(1.0)
            load.expect_errors.clear()
            rpc.wait_until(lambda: load.sent >= 3000, timeout=90, what="3000 sent")
            load.join()
            assert not [e for e in ledger.errors if addresses[0] not in e], ledger.errors[:5]
            ledger.errors.clear()
            drain(survivor, "work", ledger)  # what the dead server's consumers held comes back
            counts = ledger.check()
            print("killed server:", counts)
            assert counts["sent"] >= 3000
            # The killed server's leases ran out and other servers delivered those again.
            assert all(ledger.acked_ok[d.message.id] >= 2 for d in held)
            assert rpc.stats(survivor.admin, "work").depth == 0
        finally:
            survivor.close()


def test_the_database_restarted_under_load(tmp_path: Path):
    cluster = Cluster(durable=True)  # its own: the session's cluster stays up for others
    try:
        store = cluster.database()
        with servers(tmp_path, store) as three:
            addresses = [s.address for s in three]
            clients = [Client(a) for a in addresses]
            try:
                rpc.create_queue(clients[0].admin, "work", lease=5.0)
                ledger = Ledger()
                load = Load(addresses, "work", ledger, max_sent=50_000, lease=5.0).start()
                rpc.wait_until(lambda: load.sent >= 600, timeout=60, what="600 sent")
                load.expect_errors.set()
                cluster.stop("immediate")  # like a crash of the database server
                for c in clients:
                    rpc.wait_until(
                        lambda c=c: c.health_status() == NOT_SERVING,
                        timeout=15,
                        what="NOT_SERVING while the database is down",
                    )
                with pytest.raises(grpc.RpcError) as refused:
                    rpc.send(clients[1].broker, "work", b"while down")
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
                cluster.start()
                for c in clients:
                    rpc.wait_until(
                        lambda c=c: c.health_status() == SERVING,
                        timeout=30,
                        what="SERVING once the database is back",
                    )
                time.sleep(1.0)  # calls that were under way at the outage end
                with ledger.lock:
                    ledger.errors.clear()  # the outage's: every later error fails the test
                load.expect_errors.clear()
                sent_before = load.sent
                rpc.wait_until(
                    lambda: load.sent >= sent_before + 600 or ledger.errors,
                    timeout=60,
                    what=f"load resumed (from {sent_before} sent)",
                )
                assert not ledger.errors, ledger.errors[:5]
                load.join()
                drain(clients[2], "work", ledger)
                counts = ledger.check()
                print("database restart:", counts)
                assert counts["sent"] > sent_before
            finally:
                for c in clients:
                    c.close()
    finally:
        cluster.destroy()
