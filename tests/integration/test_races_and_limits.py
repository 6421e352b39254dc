"""Defects the write-behind store let in (issue 6), each proven against the real server.

- two concurrent CreateQueue of one name: exactly one succeeds;
- a Send racing DeleteQueue: its messages never come back in a queue re-created under the
  same name, not even after a restart;
- a payload limit above what the log can frame is refused at start, not at the first Send;
- DROP_OLDEST makes room inside one batch too;
- a StreamingReceive whose log write fails ends with UNAVAILABLE, not UNKNOWN;
- a fire-and-forget message dead-lettered on its TTL stays unstored.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import grpc
from rpc_helpers import create_queue, dead_letters, dur, message, pull, send, stats, wait_until
from server_helpers import start_server
from stream_helpers import BidiStream, collect_deliveries

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2


def stubs(
    address: str,
) -> tuple[grpc.Channel, broker_pb2_grpc.BrokerStub, admin_pb2_grpc.AdminStub]:
    big = 64 * 1024 * 1024
    channel = grpc.insecure_channel(
        address,
        options=[("grpc.max_receive_message_length", big), ("grpc.max_send_message_length", big)],
    )
    return channel, broker_pb2_grpc.BrokerStub(channel), admin_pb2_grpc.AdminStub(channel)


def test_concurrent_creates_of_one_queue_let_exactly_one_succeed(admin_stub, qname):
    request = admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=qname))
    calls = [admin_stub.CreateQueue.future(request, timeout=10) for _ in range(8)]
    codes = []
    for call in calls:
        try:
            call.result()
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as exc:
            codes.append(exc.code())  # type: ignore[attr-defined]
    assert sorted(c.name for c in codes) == ["ALREADY_EXISTS"] * 7 + ["OK"]


def test_a_send_racing_delete_never_comes_back_in_the_recreated_queue(tmp_path):
    data = tmp_path / "data"
    srv = start_server(data)
    names = [f"race-{i}" for i in range(30)]
    try:
        channel, broker, admin = stubs(srv.address)
        with channel, ThreadPoolExecutor(4) as pool:
            for name in names:
                create_queue(admin, name)
                delete = admin.DeleteQueue.future(admin_pb2.DeleteQueueRequest(queue=name))
                sending = pool.submit(
                    lambda n=name: broker.Send(
                        broker_pb2.SendRequest(queue=n, messages=[message(b"old")] * 50),
                        timeout=10,
                    )
                )
                delete.result(10)
                with contextlib.suppress(grpc.RpcError):
                    sending.result()
                create_queue(admin, name)
            assert all(stats(admin, n).depth == 0 for n in names)
    finally:
        srv.kill()
    srv = start_server(data)
    try:
        channel, _, admin = stubs(srv.address)
        with channel:
            depths = {n: stats(admin, n).depth for n in names}
        assert set(depths.values()) == {0}, {n: d for n, d in depths.items() if d}
    finally:
        srv.stop()


def test_a_payload_limit_the_log_cannot_frame_is_refused_at_start(tmp_path):
    env = {**os.environ, "CONVEYOR_MAX_PAYLOAD_BYTES": str(17 * 1024 * 1024)}
    cmd = [sys.executable, "-m", "broker", "serve", "--listen", "127.0.0.1:0"]
    cmd += ["--data-dir", str(tmp_path / "data")]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError("the server started with a payload limit it cannot log") from None
    assert done.returncode == 2, done.stderr
    assert "max_payload_bytes" in done.stderr
    assert "write-ahead log" in done.stderr


def test_a_batch_over_the_log_record_size_is_stored_whole(tmp_path):
    env = {"CONVEYOR_MAX_PAYLOAD_BYTES": str(8 * 1024 * 1024)}
    data = tmp_path / "data"
    srv = start_server(data, env=env)
    big = os.urandom(8 * 1024 * 1024)
    try:
        channel, broker, admin = stubs(srv.address)
        with channel:
            create_queue(admin, "big")
            results = send(broker, "big", big, big, b"small", big[:-1])
            assert len({r.message_id for r in results}) == 4
    finally:
        assert srv.stop() == 0  # a clean stop: flushed and unlocked
    srv = start_server(data, env=env)
    try:
        channel, broker, _ = stubs(srv.address)
        with channel:
            got = pull(broker, "big", max_messages=10, lease=30)
            assert sorted(len(d.message.payload) for d in got) == [
                5,
                len(big) - 1,
                len(big),
                len(big),
            ]
    finally:
        srv.stop()


def test_drop_oldest_keeps_the_newest_of_one_oversized_batch(broker_stub, admin_stub, qname):
    create_queue(
        admin_stub, qname, max_depth=2, overflow_policy=types_pb2.OVERFLOW_POLICY_DROP_OLDEST
    )
    results = send(broker_stub, qname, b"1", b"2", b"3")
    assert all(not r.HasField("error") for r in results)
    got = pull(broker_stub, qname, max_messages=10)
    assert sorted(d.message.payload for d in got) == [b"2", b"3"]
    assert stats(admin_stub, qname).dropped == 1


def test_a_stream_whose_log_write_fails_ends_unavailable(tmp_path):
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        channel, broker, admin = stubs(srv.address)
        with channel:
            create_queue(admin, "q")
            assert pull(broker, "q", "s") == []  # the subscription exists before the fault
            send(broker, "q", b"a", b"b")
    finally:
        assert srv.stop() == 0
    srv = start_server(data, env={"CONVEYOR_FAILPOINT": "wal-fsync-fails-after:0"})
    try:
        channel, broker, _ = stubs(srv.address)
        with channel:
            stream = BidiStream(
                broker.StreamingReceive,
                broker_pb2.StreamingReceiveRequest(queue="q", subscription="s"),
            )
            try:
                # The claim's record reached the file before its fsync failed, so the first
                # deliveries may go out (SIGKILL would not lose them); then the stream ends.
                collect_deliveries(stream.pump, 3, timeout=10)
                assert stream.pump.ended(10)
                assert isinstance(stream.pump.error, grpc.RpcError)
                assert stream.pump.error.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
            finally:
                stream.close()
    finally:
        srv.kill()


def test_a_fire_and_forget_dead_letter_is_not_stored(tmp_path):
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        channel, broker, admin = stubs(srv.address)
        with channel:
            create_queue(admin, "dlq")
            create_queue(admin, "q", dead_letter_queue="dlq")
            ttl = message(b"brief", guarantee=types_pb2.GUARANTEE_FIRE_AND_FORGET)
            ttl.ttl.CopyFrom(dur(0.2))
            send(broker, "q", ttl, message(b"kept"))
            wait_until(lambda: len(dead_letters(admin, "dlq")) == 1, what="the TTL dead letter")
            (letter,) = dead_letters(admin, "dlq")
            assert letter.guarantee == types_pb2.GUARANTEE_FIRE_AND_FORGET
    finally:
        assert srv.stop() == 0
    srv = start_server(data)
    try:
        channel, broker, admin = stubs(srv.address)
        with channel:
            assert dead_letters(admin, "dlq") == []  # fire-and-forget: never in the log
            assert [d.message.payload for d in pull(broker, "q")] == [b"kept"]
    finally:
        srv.stop()
