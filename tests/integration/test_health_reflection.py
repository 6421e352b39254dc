"""The standard services (health, reflection), SendStream, and graceful shutdown on SIGTERM."""

from __future__ import annotations

import pathlib
import threading
import time

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.rpc import code_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from rpc_helpers import create_queue, dur, pull, send, stats
from server_helpers import start_server
from stream_helpers import BidiStream, StreamPump, collect_deliveries, numbered

from conveyor.v1 import admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2

SERVICES = ("", "conveyor.v1.Broker", "conveyor.v1.Admin")
SHUTDOWN_GRACE_S = 5.0

BROKER_METHODS = {
    "Send",
    "SendStream",
    "Receive",
    "StreamingReceive",
    "Pull",
    "Ack",
    "Nack",
    "ModifyLease",
    "GetMessageStatus",
    "WatchMessage",
    "CancelMessage",
}
ADMIN_METHODS = {
    "CreateQueue",
    "GetQueue",
    "ListQueues",
    "UpdateQueue",
    "DeleteQueue",
    "PurgeQueue",
    "CreateBinding",
    "DeleteBinding",
    "ListBindings",
    "ListSubscriptions",
    "DeleteSubscription",
    "GetQueueStats",
    "PeekMessages",
    "ListDeadLetters",
    "RedriveDeadLetters",
}


# -- health ---------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_health_check_serving_once_ready(channel, service):
    health = health_pb2_grpc.HealthStub(channel)
    resp = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_health_check_unknown_service_is_not_found(channel):
    health = health_pb2_grpc.HealthStub(channel)
    with pytest.raises(grpc.RpcError) as info:
        health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("service", SERVICES)
def test_health_watch_streams_serving(channel, service):
    health = health_pb2_grpc.HealthStub(channel)
    pump = StreamPump(health.Watch(health_pb2.HealthCheckRequest(service=service)))
    try:
        first = pump.next(5)
        assert first is not None, pump.error
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        # Watch stays open (it only answers again on a change).
        assert not pump.ended(0.2)
    finally:
        pump.cancel()


# -- reflection -----------------------------------------------------------------------------


def test_reflection_lists_services_and_methods(channel):
    db = ProtoReflectionDescriptorDatabase(channel)
    services = set(db.get_services())
    assert {"conveyor.v1.Broker", "conveyor.v1.Admin", "grpc.health.v1.Health"} <= services
    pool = descriptor_pool.DescriptorPool(db)
    broker = pool.FindServiceByName("conveyor.v1.Broker")
    admin = pool.FindServiceByName("conveyor.v1.Admin")
    assert {m.name for m in broker.methods} >= BROKER_METHODS
    assert {m.name for m in admin.methods} >= ADMIN_METHODS
    receive = broker.methods_by_name["Receive"]
    assert receive.server_streaming
    assert not receive.client_streaming
    streaming = broker.methods_by_name["StreamingReceive"]
    assert streaming.server_streaming
    assert streaming.client_streaming
    # Message types resolve through reflection too (grpcurl needs them).
    message = pool.FindMessageTypeByName("conveyor.v1.Message")
    assert {"id", "topic", "payload", "attributes", "guarantee", "required_acks"} <= set(
        message.fields_by_name
    )
    assert (
        pool.FindEnumTypeByName("conveyor.v1.Guarantee").values_by_name["GUARANTEE_QUORUM"].number
        == 4
    )


# -- SendStream -------------------------------------------------------------------------------


def test_send_stream_answers_each_batch_in_order(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, max_payload_bytes=100)
    batches = [
        (7, [types_pb2.Message(payload=b"a%d" % i) for i in range(3)]),
        (
            8,
            [
                types_pb2.Message(payload=b"b0"),
                types_pb2.Message(payload=b"x" * 101),  # too large: fails alone
                types_pb2.Message(topic="a..b", payload=b"b2"),  # bad topic: fails alone
                types_pb2.Message(payload=b"b3"),
            ],
        ),
        (9, [types_pb2.Message(payload=b"c0")]),
    ]
    stream = BidiStream(
        broker_stub.SendStream,
        broker_pb2.SendStreamRequest(queue=qname, messages=batches[0][1], sequence=batches[0][0]),
    )
    try:
        for seq, messages in batches[1:]:
            stream.send(broker_pb2.SendStreamRequest(queue=qname, messages=messages, sequence=seq))
        responses = [stream.pump.next(5) for _ in batches]
        stream.half_close()
        assert stream.pump.ended(5)
        assert stream.pump.error is None
    finally:
        stream.close()
    assert all(r is not None for r in responses)
    assert [r.sequence for r in responses] == [7, 8, 9]
    assert [len(r.results) for r in responses] == [3, 4, 1]
    codes = [
        [r.error.code if r.HasField("error") else 0 for r in resp.results] for resp in responses
    ]
    assert codes == [
        [0, 0, 0],
        [0, code_pb2.RESOURCE_EXHAUSTED, code_pb2.INVALID_ARGUMENT, 0],
        [0],
    ]
    ok_ids = [r.message_id for resp in responses for r in resp.results if not r.HasField("error")]
    assert len(set(ok_ids)) == 6
    assert stats(admin_stub, qname).sent == 6
    got = pull(broker_stub, qname, "s", max_messages=100)
    assert sorted(d.message.id for d in got) == sorted(ok_ids)
    assert sorted(d.message.payload for d in got) == [b"a0", b"a1", b"a2", b"b0", b"b3", b"c0"]


# -- graceful shutdown ------------------------------------------------------------------------


def test_sigterm_ends_streams_and_exits_zero(tmp_path: pathlib.Path, monkeypatch):
    monkeypatch.setenv("CONVEYOR_SHUTDOWN_GRACE_S", str(SHUTDOWN_GRACE_S))
    srv = start_server(tmp_path / "data")
    try:
        with grpc.insecure_channel(srv.address) as ch:
            broker = broker_pb2_grpc.BrokerStub(ch)
            admin = admin_pb2_grpc.AdminStub(ch)
            create_queue(admin, "shutdown-q")
            send(broker, "shutdown-q", *numbered(3))
            pump = StreamPump(
                broker.Receive(
                    broker_pb2.ReceiveRequest(queue="shutdown-q", subscription="s", lease=dur(30))
                )
            )
            got, _ = collect_deliveries(pump, 3, timeout=5)
            assert len(got) == 3
            # A second stream with nothing to deliver must end too.
            idle = StreamPump(
                broker.Receive(broker_pb2.ReceiveRequest(queue="shutdown-q", subscription="idle"))
            )
            assert not idle.ended(0.3)

            # One SIGTERM (ServerProcess.stop), while the streams are watched from here.
            codes: list[int] = []
            stopper = threading.Thread(
                target=lambda: codes.append(srv.stop(timeout=SHUTDOWN_GRACE_S + 5))
            )
            start = time.monotonic()
            stopper.start()
            assert pump.ended(SHUTDOWN_GRACE_S), "an open Receive stream hung on shutdown"
            assert idle.ended(SHUTDOWN_GRACE_S), "an idle Receive stream hung on shutdown"
            stopper.join(SHUTDOWN_GRACE_S + 10)
            elapsed = time.monotonic() - start
    finally:
        srv.kill()
    assert codes == [0], "".join(srv.output[-30:])
    assert elapsed < SHUTDOWN_GRACE_S + 1, f"shutdown took {elapsed:.1f}s"
    # The process said nothing alarming on the way out.
    assert not any("Traceback" in line for line in srv.output), "".join(srv.output[-40:])
