"""What operating queues leaves behind survives a SIGKILL of the real server: a pause (and a
resume), dead letters' explanations and kept attempt counts, content-dedup windows."""

from __future__ import annotations

from faults_helpers import Client, text
from server_helpers import start_server

from conveyor.v1 import admin_pb2


def _pause(c: Client, queue: str) -> bool:
    request = admin_pb2.PauseQueueRequest(queue=queue)
    return c.admin.PauseQueue(request, timeout=10).changed


def _resume(c: Client, queue: str) -> bool:
    request = admin_pb2.ResumeQueueRequest(queue=queue)
    return c.admin.ResumeQueue(request, timeout=10).changed


def test_a_pause_survives_sigkill_and_so_does_a_resume(tmp_path):
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            c.create_queue("held", lease=30.0)
            c.create_queue("resumed", lease=30.0)
            for name in ("held", "resumed"):
                assert c.pull(name, "s") == []
                assert _pause(c, name)
                c.send_ok(name, "a", "b")
            assert _resume(c, "resumed")
            (leased,) = c.pull("resumed", "s", max_messages=1, wait=5.0)
            assert c.ack([leased.ack_id]) == []
    finally:
        srv.kill()
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            assert c.stats("held").paused
            assert (c.stats("held").ready, c.stats("resumed").paused) == (2, False)
            assert c.pull("held", "s", max_messages=10, wait=0.5) == []
            (left,) = c.pull("resumed", "s", max_messages=10, wait=5.0)
            assert text(left) in {"a", "b"}
            assert _resume(c, "held")
    finally:
        srv.kill()
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            assert not c.stats("held").paused
            got = c.pull("held", "s", max_messages=10, wait=5.0)
            assert sorted(text(d) for d in got) == ["a", "b"]
    finally:
        srv.stop()
