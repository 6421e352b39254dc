"""Every server limit hit on a real server: the right status, a message naming the limit,
and nothing lost (what was stored before stays, counts unchanged, other calls carry on)."""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator

import grpc
import pytest
from rpc_helpers import create_queue, peek, pull, send, stats
from server_helpers import ServerProcess, start_server

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2

LIMITS = {
    "CONVEYOR_MAX_PAYLOAD_BYTES": "1000",
    "CONVEYOR_MAX_BATCH_MESSAGES": "10",
    "CONVEYOR_MAX_RECEIVE_WINDOW": "50",
    "CONVEYOR_MAX_REQUEST_BYTES": "6000",
    "CONVEYOR_MAX_STREAMS": "4",
    "CONVEYOR_MAX_STREAMS_PER_CONNECTION": "2",
}
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]
"""Channels of one process share TCP connections unless told not to."""


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = start_server(tmp_path_factory.mktemp("limits"), "--storage", "memory", env=LIMITS)
    yield srv
    srv.stop()


@pytest.fixture
def stubs(
    limited: ServerProcess,
) -> Iterator[tuple[broker_pb2_grpc.BrokerStub, admin_pb2_grpc.AdminStub]]:
    with grpc.insecure_channel(limited.address, options=OWN_CONNECTION) as ch:
        yield broker_pb2_grpc.BrokerStub(ch), admin_pb2_grpc.AdminStub(ch)


def _state(admin: admin_pb2_grpc.AdminStub, queue: str) -> tuple[object, ...]:
    s = stats(admin, queue)
    contents = [(p.message.id, p.message.payload, p.state) for p in peek(admin, queue, 100)]
    return s.sent, s.ready, s.in_flight, s.depth, tuple(contents)


def _counts(admin: admin_pb2_grpc.AdminStub, queue: str) -> tuple[int, ...]:
    s = stats(admin, queue)
    return s.sent, s.ready, s.in_flight, s.depth, s.dropped, s.dead_lettered


def _error(call) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    try:
        call()
    except grpc.RpcError as exc:
        return exc
    raise AssertionError("the call succeeded; a limit should have refused it")


def test_payload_over_the_server_limit_fails_alone(stubs, qname) -> None:
    broker, admin = stubs
    create_queue(admin, qname)
    reply = broker.Send(
        broker_pb2.SendRequest(
            queue=qname,
            messages=[
                types_pb2.Message(payload=b"a" * 1000),
                types_pb2.Message(payload=b"b" * 1001),
                types_pb2.Message(payload=b"c"),
            ],
        ),
        timeout=10,
    )
    ok, big, last = reply.results
    assert not ok.HasField("error")
    assert not last.HasField("error")
    assert big.error.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert "max_payload_bytes" in big.error.message
    assert "1000" in big.error.message
    assert [p.message.payload for p in peek(admin, qname, 10)] == [b"a" * 1000, b"c"]


def test_a_queues_own_payload_limit_is_lower(stubs, qname) -> None:
    broker, admin = stubs
    create_queue(admin, qname, max_payload_bytes=10)
    [r] = broker.Send(
        broker_pb2.SendRequest(queue=qname, messages=[types_pb2.Message(payload=b"x" * 11)]),
        timeout=10,
    ).results
    assert r.error.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert "max_payload_bytes" in r.error.message
    assert "limit of 10 bytes" in r.error.message
    assert stats(admin, qname).sent == 0
    # A queue may not lift the server's ceiling.
    err = _error(lambda: create_queue(admin, qname + "-big", max_payload_bytes=2000))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_too_many_messages_per_batch_stores_none(stubs, qname) -> None:
    broker, admin = stubs
    create_queue(admin, qname)
    send(broker, qname, b"before")
    before = _state(admin, qname)
    many = [types_pb2.Message(payload=b"m") for _ in range(11)]
    err = _error(
        lambda: broker.Send(broker_pb2.SendRequest(queue=qname, messages=many), timeout=10)
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "max_batch_messages" in (err.details() or "")
    assert _state(admin, qname) == before
    broker.Send(broker_pb2.SendRequest(queue=qname, messages=many[:10]), timeout=10)
    assert stats(admin, qname).ready == 11


def test_a_request_over_the_size_limit_is_refused_whole(stubs, qname) -> None:
    broker, admin = stubs
    create_queue(admin, qname)
    send(broker, qname, b"before")
    before = _state(admin, qname)
    big = [types_pb2.Message(payload=b"p" * 1000) for _ in range(7)]  # > 6000 bytes in all
    err = _error(lambda: broker.Send(broker_pb2.SendRequest(queue=qname, messages=big), timeout=10))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in (err.details() or "")
    assert "6000" in (err.details() or "")
    assert _state(admin, qname) == before


def test_a_window_over_the_limit_is_refused(stubs, qname) -> None:
    broker, admin = stubs
    create_queue(admin, qname)
    send(broker, qname, b"kept")
    before = _state(admin, qname)
    call = broker.Receive(
        broker_pb2.ReceiveRequest(queue=qname, subscription="s", max_outstanding_messages=51),
        timeout=10,
    )
    err = _error(lambda: next(call))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "max_receive_window" in (err.details() or "")
    assert _state(admin, qname) == before


def _open(broker: broker_pb2_grpc.BrokerStub, admin, queue: str, sub: str):  # type: ignore[no-untyped-def]
    """A Receive stream, returned once the server lists its subscription (it is open)."""
    call = broker.Receive(broker_pb2.ReceiveRequest(queue=queue, subscription=sub))
    deadline = time.monotonic() + 10
    while sub not in {
        s.name
        for s in admin.ListSubscriptions(
            admin_pb2.ListSubscriptionsRequest(queue=queue), timeout=5
        ).subscriptions
    }:
        assert time.monotonic() < deadline, f"stream {sub} did not open"
        if call.done():
            next(call)  # raises its error
        time.sleep(0.02)
    return call


def _refused_stream(broker: broker_pb2_grpc.BrokerStub, queue: str) -> grpc.RpcError:
    call = broker.Receive(broker_pb2.ReceiveRequest(queue=queue, subscription="over"), timeout=10)
    return _error(lambda: next(call))


def test_streams_per_connection_and_in_all_are_capped(limited: ServerProcess, qname) -> None:
    channels = [grpc.insecure_channel(limited.address, options=OWN_CONNECTION) for _ in range(3)]
    try:
        (b1, b2, b3) = (broker_pb2_grpc.BrokerStub(c) for c in channels)
        admin = admin_pb2_grpc.AdminStub(channels[0])
        create_queue(admin, qname)
        send(b1, qname, b"for everyone")
        before = stats(admin, qname)
        first = [_open(b1, admin, qname, f"c1-{i}") for i in range(2)]
        err = _refused_stream(b1, qname)
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "max_streams_per_connection" in (err.details() or "")
        second = [_open(b2, admin, qname, f"c2-{i}") for i in range(2)]
        err = _refused_stream(b3, qname)  # a fresh connection, but 4 streams are open in all
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "max_streams reached" in (err.details() or "")
        # Unary calls are not streams: they carry on.
        create_queue(admin, qname + "-unary")
        send(b3, qname + "-unary", b"unary")
        assert len(pull(b3, qname + "-unary", "unary")) == 1
        # Closing streams frees their places.
        for call in first + second:
            call.cancel()
        deadline = time.monotonic() + 10
        while True:
            try:
                again = _open(b1, admin, qname, "after")
                break
            except grpc.RpcError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        again.cancel()
        after = stats(admin, qname)
        assert after.sent == before.sent
        assert after.depth == before.depth
    finally:
        for c in channels:
            c.close()


def test_max_memory_refuses_sends_and_keeps_what_is_stored(tmp_path: pathlib.Path) -> None:
    srv = start_server(tmp_path, "--max-memory", "20KiB")
    try:
        with grpc.insecure_channel(srv.address) as ch:
            broker, admin = broker_pb2_grpc.BrokerStub(ch), admin_pb2_grpc.AdminStub(ch)
            create_queue(admin, "mem-a")
            create_queue(admin, "mem-b")
            accepted: list[bytes] = []
            refused = None
            for i in range(100):
                payload = f"{i:04d}".encode() * 100
                [r] = broker.Send(
                    broker_pb2.SendRequest(
                        queue="mem-a" if i % 2 else "mem-b",
                        messages=[types_pb2.Message(payload=payload)],
                    ),
                    timeout=10,
                ).results
                if r.HasField("error"):
                    refused = r.error
                    break
                accepted.append(payload)
            assert refused is not None, "20 KiB held 100 messages of 400 bytes?"
            assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
            assert "max_memory" in refused.message
            assert 20 <= len(accepted) <= 51  # 400 B payloads and their overheads in 20 KiB
            held = {p.message.payload for q in ("mem-a", "mem-b") for p in peek(admin, q, 100)}
            assert held == set(accepted)
            before = (_counts(admin, "mem-a"), _counts(admin, "mem-b"))
            # Refused again, through routing too; nothing changes.
            admin.CreateBinding(admin_pb2.CreateBindingRequest(pattern="mem.#", queue="mem-a"))
            [r] = broker.Send(
                broker_pb2.SendRequest(
                    messages=[types_pb2.Message(topic="mem.x", payload=b"y" * 400)]
                ),
                timeout=10,
            ).results
            assert r.error.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
            assert (_counts(admin, "mem-a"), _counts(admin, "mem-b")) == before
        # Stored bytes are counted again after a restart.
        srv.stop()
        srv = start_server(tmp_path, "--max-memory", "20KiB")
        with grpc.insecure_channel(srv.address) as ch:
            broker, admin = broker_pb2_grpc.BrokerStub(ch), admin_pb2_grpc.AdminStub(ch)
            [r] = broker.Send(
                broker_pb2.SendRequest(
                    queue="mem-a", messages=[types_pb2.Message(payload=b"z" * 400)]
                ),
                timeout=10,
            ).results
            assert "max_memory" in r.error.message
            # Consuming makes room.
            deliveries = pull(broker, "mem-b", "s", max_messages=10)
            broker.Ack(broker_pb2.AckRequest(ack_ids=[d.ack_id for d in deliveries]), timeout=10)
            admin.PurgeQueue(admin_pb2.PurgeQueueRequest(queue="mem-a"), timeout=10)
            [r] = broker.Send(
                broker_pb2.SendRequest(
                    queue="mem-a", messages=[types_pb2.Message(payload=b"z" * 400)]
                ),
                timeout=10,
            ).results
            assert not r.HasField("error"), r.error.message
    finally:
        srv.stop()


def test_max_queues_refuses_one_more(tmp_path: pathlib.Path) -> None:
    srv = start_server(tmp_path, "--storage", "memory", "--max-queues", "3")
    try:
        with grpc.insecure_channel(srv.address) as ch:
            admin = admin_pb2_grpc.AdminStub(ch)
            for name in ("q1", "q2", "q3"):
                create_queue(admin, name)
            err = _error(lambda: create_queue(admin, "q4"))
            assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "max_queues" in (err.details() or "")
            names = [q.name for q in admin.ListQueues(admin_pb2.ListQueuesRequest()).queues]
            assert names == ["q1", "q2", "q3"]
            admin.DeleteQueue(admin_pb2.DeleteQueueRequest(queue="q2"), timeout=10)
            create_queue(admin, "q4")
    finally:
        srv.stop()


def _fill(broker: broker_pb2_grpc.BrokerStub, queue: str, **fields: object) -> int:
    """Sends 400-byte messages one by one until max_memory refuses one; how many went in."""
    for n in range(1000):
        [r] = broker.Send(
            broker_pb2.SendRequest(
                queue=queue, messages=[types_pb2.Message(payload=b"f" * 400, **fields)]
            ),
            timeout=10,
        ).results
        if r.HasField("error"):
            assert "max_memory" in r.error.message
            return n
    raise AssertionError("max_memory never refused a send")


def test_max_memory_is_given_back_by_acks_purges_deletes_and_broadcast_copies(
    tmp_path: pathlib.Path,
) -> None:
    srv = start_server(tmp_path, "--storage", "memory", "--max-memory", "30KiB")
    try:
        with grpc.insecure_channel(srv.address) as ch:
            broker, admin = broker_pb2_grpc.BrokerStub(ch), admin_pb2_grpc.AdminStub(ch)
            create_queue(admin, "plain")
            first = _fill(broker, "plain")
            # Acked half, purged the rest: all of it is given back.
            got = pull(broker, "plain", "s", max_messages=first // 2)
            broker.Ack(broker_pb2.AckRequest(ack_ids=[d.ack_id for d in got]), timeout=10)
            admin.PurgeQueue(admin_pb2.PurgeQueueRequest(queue="plain"), timeout=10)
            assert stats(admin, "plain").depth == 0
            # Broadcast copies count too: fewer fit; deleting the queue gives them back.
            create_queue(admin, "fan")
            for sub in ("s1", "s2", "s3"):
                pull(broker, "fan", sub)
            copies = _fill(broker, "fan", guarantee=types_pb2.GUARANTEE_BROADCAST)
            assert 0 < copies < first
            admin.DeleteQueue(admin_pb2.DeleteQueueRequest(queue="fan"), timeout=10)
            assert _fill(broker, "plain") == first
    finally:
        srv.stop()
