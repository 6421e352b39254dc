"""The Broker servicer in process: checks, status codes, and frames built from bytes."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from service_limits import MAX_BATCH, MAX_WINDOW

from broker.delivery.broker import Broker
from broker.model import QueueConfig
from broker.service.broker_servicer import Gate
from conveyor.v1 import broker_pb2, types_pb2


def msg(payload: bytes = b"x", **fields: object) -> types_pb2.Message:
    return types_pb2.Message(payload=payload, **fields)  # type: ignore[arg-type]


async def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call  # type: ignore[misc]
    return info.value.code()


@pytest.fixture
async def queue(broker: Broker) -> str:
    await broker.create_queue(QueueConfig(name="q"))
    return "q"


async def test_send_answers_one_result_per_message_in_order(grpc_aio_stub, queue) -> None:
    async with grpc_aio_stub() as stub:
        bad_attrs = msg(attributes={f"k{i}": "v" for i in range(65)})
        reply = await stub.Send(
            broker_pb2.SendRequest(
                queue=queue, messages=[msg(b"a"), msg(guarantee=99), bad_attrs, msg(b"d")]
            )
        )
    ok1, bad_guarantee, bad_attributes, ok2 = reply.results
    assert ok1.message_id
    assert ok2.message_id
    assert ok1.message_id != ok2.message_id
    assert (list(ok1.queues), list(ok1.message_ids)) == ([queue], [ok1.message_id])
    assert bad_guarantee.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "unknown guarantee 99" in bad_guarantee.error.message
    assert "attributes exceed" in bad_attributes.error.message
    assert not ok1.HasField("error")


async def test_send_refuses_empty_oversized_and_closed(grpc_aio_stub, queue, gate: Gate) -> None:
    async with grpc_aio_stub() as stub:
        assert await code_of(stub.Send(broker_pb2.SendRequest(queue=queue))) == (
            grpc.StatusCode.INVALID_ARGUMENT
        )
        many = broker_pb2.SendRequest(queue=queue, messages=[msg()] * (MAX_BATCH + 1))
        assert await code_of(stub.Send(many)) == grpc.StatusCode.INVALID_ARGUMENT
        gate.open = False
        one = broker_pb2.SendRequest(queue=queue, messages=[msg()])
        assert await code_of(stub.Send(one)) == grpc.StatusCode.UNAVAILABLE


async def test_a_missing_queue_is_a_per_message_not_found(grpc_aio_stub) -> None:
    async with grpc_aio_stub() as stub:
        reply = await stub.Send(broker_pb2.SendRequest(queue="nowhere", messages=[msg(), msg()]))
    assert [r.error.code for r in reply.results] == [grpc.StatusCode.NOT_FOUND.value[0]] * 2


async def test_a_sender_cannot_forge_server_fields_or_a_dead_letter_origin(
    grpc_aio_stub, queue
) -> None:
    forged = msg(b"p", id="forged", queue="elsewhere", required_acks=7, topic="a.b")
    forged.dead_letter.source_queue = "fake"
    forged.publish_time.FromSeconds(5)
    async with grpc_aio_stub() as stub:
        (result,) = (
            await stub.Send(broker_pb2.SendRequest(queue=queue, messages=[forged]))
        ).results
        pulled = await stub.Pull(broker_pb2.PullRequest(queue=queue, subscription="s"))
    (d,) = pulled.deliveries
    m = d.message
    assert (m.id, m.queue, m.required_acks, m.payload, m.topic) == (
        result.message_id,
        queue,
        1,
        b"p",
        "a.b",
    )
    assert not m.HasField("dead_letter")
    assert m.publish_time.seconds > 5
    assert m.guarantee == types_pb2.GUARANTEE_AT_LEAST_ONCE


async def test_pull_frames_carry_ack_id_attempt_lease_and_subscription(
    grpc_aio_stub, queue
) -> None:
    async with grpc_aio_stub() as stub:
        await stub.Send(broker_pb2.SendRequest(queue=queue, messages=[msg(), msg()]))
        request = broker_pb2.PullRequest(queue=queue, subscription="s", max_messages=5)
        request.lease.FromSeconds(60)
        reply = await stub.Pull(request)
        assert len(reply.deliveries) == 2
        for d in reply.deliveries:
            assert (d.attempt, d.subscription) == (1, "s")
            assert d.ack_id.startswith(f"{queue}:")
            assert d.lease_deadline.seconds > d.message.publish_time.seconds + 50
        acked = await stub.Ack(broker_pb2.AckRequest(ack_ids=[reply.deliveries[0].ack_id, "junk"]))
        assert list(acked.failed_ack_ids) == ["junk"]


async def test_streaming_receive_reports_failed_acks_and_refuses_late_flow_control(
    grpc_aio_stub, queue
) -> None:
    async with grpc_aio_stub() as stub:
        await stub.Send(broker_pb2.SendRequest(queue=queue, messages=[msg()]))
        outbox: asyncio.Queue[broker_pb2.StreamingReceiveRequest | None] = asyncio.Queue()
        outbox.put_nowait(
            broker_pb2.StreamingReceiveRequest(queue=queue, subscription="s", ack_ids=["stale"])
        )

        async def requests():
            while (r := await outbox.get()) is not None:
                yield r

        call = stub.StreamingReceive(requests())
        frames = []
        async for frame in call:
            frames.append(frame)
            if sum(len(f.deliveries) for f in frames) and any(f.failed_ack_ids for f in frames):
                break
        assert ["stale"] in [list(f.failed_ack_ids) for f in frames]
        outbox.put_nowait(broker_pb2.StreamingReceiveRequest(max_outstanding_messages=5))
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for _ in call:
                pass
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "only be set on the first request" in (info.value.details() or "")


async def test_a_window_above_the_servers_limit_is_refused(grpc_aio_stub, queue) -> None:
    async with grpc_aio_stub() as stub:
        call = stub.Receive(
            broker_pb2.ReceiveRequest(
                queue=queue, subscription="s", max_outstanding_messages=MAX_WINDOW + 1
            )
        )
        assert await code_of(call.read()) == grpc.StatusCode.INVALID_ARGUMENT


async def test_status_and_cancel_map_errors(grpc_aio_stub, queue) -> None:
    async with grpc_aio_stub() as stub:
        missing = broker_pb2.GetMessageStatusRequest(queue=queue, message_id="nope")
        assert await code_of(stub.GetMessageStatus(missing)) == grpc.StatusCode.NOT_FOUND
        bad_queue = broker_pb2.GetMessageStatusRequest(queue="bad name!", message_id="1")
        assert await code_of(stub.GetMessageStatus(bad_queue)) == grpc.StatusCode.INVALID_ARGUMENT
        watch = stub.WatchMessage(broker_pb2.WatchMessageRequest(queue=queue, message_id="1"))
        assert await code_of(watch.read()) == grpc.StatusCode.NOT_FOUND


async def test_send_stream_answers_every_request_in_order(grpc_aio_stub, queue) -> None:
    async def requests():
        for n in range(1, 41):
            yield broker_pb2.SendStreamRequest(queue=queue, messages=[msg(b"%d" % n)], sequence=n)

    async with grpc_aio_stub() as stub:
        answers = [a async for a in stub.SendStream(requests())]
        assert [a.sequence for a in answers] == list(range(1, 41))
        assert all(len(a.results) == 1 and a.results[0].message_id for a in answers)
        pulled = await stub.Pull(
            broker_pb2.PullRequest(queue=queue, subscription="s", max_messages=100)
        )
    assert [d.message.payload for d in pulled.deliveries] == [b"%d" % n for n in range(1, 41)]


async def test_a_bad_request_ends_a_send_stream_with_its_status(grpc_aio_stub, queue) -> None:
    async def requests():
        yield broker_pb2.SendStreamRequest(queue=queue, messages=[msg()], sequence=1)
        yield broker_pb2.SendStreamRequest(queue=queue, sequence=2)  # no messages

    async with grpc_aio_stub() as stub:
        call = stub.SendStream(requests())
        first = await call.read()
        assert first.sequence == 1
        assert await code_of(call.read()) == grpc.StatusCode.INVALID_ARGUMENT
