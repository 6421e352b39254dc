"""The hand-made wire encoding: what it builds parses as the contract's messages, and fields
the server appends override whatever a sender put in the same fields."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from broker import wire
from conveyor.v1 import broker_pb2, types_pb2


@settings(max_examples=200, deadline=None)
@given(
    sender_id=st.text(max_size=20),
    sender_queue=st.text(max_size=20),
    sender_seconds=st.integers(0, 2**40),
    sender_nanos=st.integers(0, 999_999_999),
    sender_acks=st.integers(0, 2**32 - 1),
    payload=st.binary(max_size=300),
    seconds=st.floats(0, 4e9),
)
def test_appended_server_fields_override_the_senders(
    sender_id: str,
    sender_queue: str,
    sender_seconds: int,
    sender_nanos: int,
    sender_acks: int,
    payload: bytes,
    seconds: float,
) -> None:
    sent = types_pb2.Message(
        id=sender_id, queue=sender_queue, payload=payload, required_acks=sender_acks
    )
    sent.publish_time.seconds, sent.publish_time.nanos = sender_seconds, sender_nanos
    data = sent.SerializeToString() + wire.message_fields(
        "abc123", 3, 2, wire.publish_time_field(seconds), wire.queue_field("orders")
    )
    got = types_pb2.Message.FromString(data)
    assert (got.id, got.queue, got.guarantee, got.required_acks, got.payload) == (
        "abc123",
        "orders",
        3,
        2,
        payload,
    )
    ns = round(seconds * 1e9)
    assert (got.publish_time.seconds, got.publish_time.nanos) == divmod(ns, 1_000_000_000)


@given(st.integers(0, 2**64 - 1))
def test_varint_matches_protobuf(n: int) -> None:
    assert types_pb2.Delivery.FromString(wire.D_ATTEMPT + wire.varint(n & 0xFFFFFFFF)).attempt == (
        n & 0xFFFFFFFF
    )


def test_a_delivery_batch_parses_as_every_response_that_carries_deliveries() -> None:
    data = [
        types_pb2.Message(id=f"m{i}", payload=b"p" * (i * 70)).SerializeToString() for i in range(5)
    ]
    batch = [(f"q:{i:x}:0:ff", d, i + 1, 0) for i, d in enumerate(data)]
    body = wire.deliveries_field(batch, wire.delivery_tail(1_800_000_000.5, "sub"))
    for response in (
        broker_pb2.ReceiveResponse,
        broker_pb2.StreamingReceiveResponse,
        broker_pb2.PullResponse,
    ):
        parsed = response.FromString(body)
        assert [d.ack_id for d in parsed.deliveries] == [a for a, _, _, _ in batch]
        assert [d.attempt for d in parsed.deliveries] == [1, 2, 3, 4, 5]
        assert [d.message.payload for d in parsed.deliveries] == [b"p" * (i * 70) for i in range(5)]
        assert {d.subscription for d in parsed.deliveries} == {"sub"}
        assert {d.lease_deadline.nanos for d in parsed.deliveries} == {500_000_000}
