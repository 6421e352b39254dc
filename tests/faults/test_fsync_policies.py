"""fsync policies and graceful shutdown (SPEC §6, §8): with ``never`` or ``interval``, a clean
SIGTERM under load loses nothing - the store is flushed on drain - and leaves a log that
verifies clean (no torn tail for the next start to cut)."""

from __future__ import annotations

import pytest
from faults_helpers import Client, Ledger, Load, conveyor_cli, wal_dir
from rpc_helpers import wait_until
from server_helpers import start_server


@pytest.mark.parametrize(
    ("policy", "how"),
    [("never", "env"), ("interval", "env"), ("never", "flag"), ("interval", "flag")],
)
def test_sigterm_under_load_loses_nothing(tmp_path, policy, how):
    data = tmp_path / "data"
    queue = "work"
    ledger = Ledger()
    if how == "env":
        # A long interval: only the shutdown flush can have made the tail durable.
        args: tuple[str, ...] = ()
        env = {"CONVEYOR_FSYNC": policy, "CONVEYOR_FSYNC_INTERVAL_MS": "60000"}
    else:
        args, env = ("--fsync", policy), {}
    srv = start_server(data, *args, env=env)
    try:
        with Client(srv.address) as c:
            c.create_queue(queue, lease=3.0)
        load = Load(srv.address, queue, ledger, 0).start()
        wait_until(lambda: load.sent >= 1500 or ledger.unexpected, timeout=30, what="load")
        load.killing.set()  # from here on, UNAVAILABLE (draining) is expected
        code = srv.stop()
        load.join()
    finally:
        srv.kill()
    assert code == 0, "".join(srv.output)
    assert not any("Traceback" in line for line in srv.output), "".join(srv.output)
    assert not ledger.unexpected, ledger.unexpected[:10]
    verify = conveyor_cli("wal", "verify", "--data-dir", str(data))
    assert verify.returncode == 0, verify

    srv = start_server(data)
    try:
        assert not list(wal_dir(data).glob("*.broken*")), "a clean shutdown left a torn tail"
        with Client(srv.address) as c:
            drained = c.drain(queue, "workers", lease=30.0)
            ledger.record_seen(1, drained)
            for d in drained:
                ledger.acked_ok[d.message.id].append((1, d.attempt))
            assert c.stats(queue).depth == 0
    finally:
        srv.stop()
    counts = ledger.check()
    assert counts["sent_ok"] >= 1500, counts
