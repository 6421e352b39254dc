"""What operating queues leaves behind survives a SIGKILL of the real server: a pause (and a
resume), dead letters' explanations and kept attempt counts, content-dedup windows."""

from __future__ import annotations

from faults_helpers import Client, msg, text
from server_helpers import start_server

from conveyor.v1 import admin_pb2, types_pb2


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


def test_dead_letter_explanations_and_kept_attempts_survive_sigkill(tmp_path):
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            c.create_queue("dlq")
            c.create_queue("jobs", lease=30.0, max_deliveries=3, dead_letter_queue="dlq")
            c.send_ok("jobs", "slow", "redriven")
            for reason in ("first", "second"):
                got = c.pull("jobs", "s", max_messages=2, wait=5.0)
                assert len(got) == 2
                assert c.nack([d.ack_id for d in got], reason=reason) == []
    finally:
        srv.kill()
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            # The nack reasons came back with the messages (the log's REQUEUED records).
            got = c.pull("jobs", "s", max_messages=2, wait=5.0)
            assert sorted(d.attempt for d in got) == [3, 3]
            assert c.nack([d.ack_id for d in got]) == []
            letters = {text(m): m.dead_letter for m in c.dead_letters("dlq")}
            assert set(letters) == {"slow", "redriven"}
            assert {i.last_nack_reason for i in letters.values()} == {"second"}
            assert {i.reason_code for i in letters.values()} == {
                types_pb2.DEAD_LETTER_REASON_MAX_DELIVERIES
            }
            request = admin_pb2.RedriveDeadLettersRequest(queue="dlq", max_messages=1)
            assert c.admin.RedriveDeadLetters(request, timeout=10).redriven == 1
    finally:
        srv.kill()
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            (left,) = c.dead_letters("dlq")
            assert left.dead_letter.last_nack_reason == "second"
            (again,) = c.pull("jobs", "s", max_messages=10, wait=5.0)
            assert again.attempt == 4  # the redriven message kept its 3 attempts
    finally:
        srv.stop()


def test_a_content_dedup_window_survives_sigkill(tmp_path):
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            c.create_queue("payments", dedup_by_content=True, dedup_window=600.0)
            (first,) = c.send_ok("payments", msg("charge 42", topic="card"))
    finally:
        srv.kill()
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            assert c.get_queue("payments").dedup_by_content
            [again, other] = c.send("payments", [msg("charge 42", topic="card"), msg("charge 43")])
            assert (again.duplicate, again.message_id) == (True, first)
            assert not other.duplicate
            assert c.stats("payments").depth == 2
    finally:
        srv.stop()
