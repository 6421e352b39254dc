"""A failing disk, through the WAL's fault seam (``CONVEYOR_FAILPOINT``, SPEC §6, §8).

Once a write or fsync of the log fails, nothing more can be made durable: Sends get
UNAVAILABLE for the whole call and keep getting it (the error is sticky, never retried into a
false OK), health goes NOT_SERVING, and after a SIGKILL and a restart on a healthy disk every
message whose Send returned OK is there. A Send that failed was never acknowledged: its
messages may or may not be there, but nothing else is, and nothing twice.
"""

from __future__ import annotations

import threading

import grpc
import pytest
from faults_helpers import Client, text
from grpc_health.v1 import health_pb2
from rpc_helpers import rpc_code, wait_until
from server_helpers import start_server

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
BROKER_SERVICE = "conveyor.v1.Broker"
OK_SENDS = 3
"""The failpoint lets this many writes (fsyncs) through: one per Send, sent one at a time."""


@pytest.mark.parametrize("failpoint", ["wal-fsync-fails-after", "wal-write-fails-after"])
def test_failing_disk_refuses_sends_and_keeps_what_was_acknowledged(tmp_path, failpoint):
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            c.create_queue("q", lease=30.0)
            before = [f"before-{i}" for i in range(10)]
            c.send_ok("q", *before)
    finally:
        assert srv.stop() == 0

    srv = start_server(data, env={"CONVEYOR_FAILPOINT": f"{failpoint}:{OK_SENDS}"})
    ok: dict[str, str] = {}
    failed: set[str] = set()
    try:
        with Client(srv.address) as c:
            assert c.health_status() == SERVING
            first_failure = None
            code = grpc.StatusCode.OK
            for n in range(20):
                payloads = [f"s{n}-{i}" for i in range(5)]
                try:
                    ids = c.send_ok("q", *payloads)
                except grpc.RpcError as exc:
                    code = exc.code()  # type: ignore[attr-defined]
                    failed.update(payloads)
                    first_failure = n
                    break
                ok.update(zip(ids, payloads, strict=True))
            assert first_failure is not None, "the failpoint never made a Send fail"
            assert code == grpc.StatusCode.UNAVAILABLE, f"a failed disk gave {code}"
            assert ok, "no Send succeeded before the failpoint fired"
            # Sticky: the next Sends fail too, whole, though the disk "might" work again.
            for n in range(3):
                payloads = [f"after-{n}-{i}" for i in range(5)]
                assert rpc_code(c.send_ok, "q", *payloads) == grpc.StatusCode.UNAVAILABLE
                failed.update(payloads)
            wait_until(
                lambda: c.health_status() == NOT_SERVING, what="health NOT_SERVING after failure"
            )
            assert c.health_status(BROKER_SERVICE) == NOT_SERVING
            assert rpc_code(c.send_ok, "q", "late") == grpc.StatusCode.UNAVAILABLE
            failed.add("late")
    finally:
        srv.kill()

    srv = start_server(data)  # a healthy disk again
    try:
        with Client(srv.address) as c:
            assert c.health_status() == SERVING
            drained = c.drain("q")
            got = [text(d) for d in drained]
            assert len(got) == len(set(got)), "a message was stored twice"
            assert set(before) <= set(got), "messages from before the failpoint were lost"
            lost = set(ok.values()) - set(got)
            assert not lost, f"Sends that returned OK were lost: {sorted(lost)}"
            made_up = set(got) - set(before) - set(ok.values()) - failed
            assert not made_up, made_up
            ids = {d.message.id: text(d) for d in drained}
            for message_id, payload in ok.items():
                assert ids.get(message_id) == payload
            # The restarted server writes again.
            c.send_ok("q", "fine")
    finally:
        srv.stop()


def test_failing_fsync_under_concurrent_sends_acknowledges_only_what_is_durable(tmp_path):
    """Group commit: Sends sharing the fsync that fails all fail; every OK one survives."""
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            c.create_queue("q", lease=30.0)
    finally:
        assert srv.stop() == 0

    srv = start_server(data, env={"CONVEYOR_FAILPOINT": "wal-fsync-fails-after:40"})
    ok: dict[str, str] = {}
    attempted: set[str] = set()
    codes: list[grpc.StatusCode] = []
    lock = threading.Lock()

    def produce(n: int) -> None:
        with Client(srv.address) as c:
            for b in range(200):
                payloads = [f"p{n}-{b}-{i}" for i in range(10)]
                with lock:
                    attempted.update(payloads)
                try:
                    ids = c.send_ok("q", *payloads)
                except grpc.RpcError as exc:
                    with lock:
                        codes.append(exc.code())
                    if len(codes) > 30:
                        return
                    continue
                with lock:
                    ok.update(zip(ids, payloads, strict=True))

    try:
        threads = [threading.Thread(target=produce, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
        assert codes, "the failpoint never made a Send fail"
        assert set(codes) == {grpc.StatusCode.UNAVAILABLE}, set(codes)
        assert len(ok) >= 10
    finally:
        srv.kill()

    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            drained = c.drain("q")
            got = {d.message.id: text(d) for d in drained}
            assert len(got) == len(drained), "a message was delivered twice"
            lost = {i: p for i, p in ok.items() if got.get(i) != p}
            assert not lost, f"{len(lost)} Sends that returned OK were lost, e.g. {list(lost)[:5]}"
            assert set(got.values()) <= attempted
    finally:
        srv.stop()
