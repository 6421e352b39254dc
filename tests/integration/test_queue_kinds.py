"""Queue kinds (SPEC §4): standard order, FIFO per ordering key, priority."""

from __future__ import annotations

from integration_helpers import payloads
from rpc_helpers import ack, create_queue, message, nack, pull, send, status

from conveyor.v1 import types_pb2


def test_standard_queue_hands_out_in_publish_order(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, kind=types_pb2.QUEUE_KIND_STANDARD)
    send(broker_stub, qname, *[f"m{i}" for i in range(5)])
    send(broker_stub, qname, *[f"m{i}" for i in range(5, 10)])
    got = pull(broker_stub, qname, max_messages=20, wait=1)
    assert payloads(got) == [f"m{i}" for i in range(10)]
    assert ack(broker_stub, [d.ack_id for d in got]) == []


def test_fifo_keeps_order_per_key_and_runs_keys_in_parallel(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, kind=types_pb2.QUEUE_KIND_FIFO)
    send(
        broker_stub,
        qname,
        message("A1", ordering_key="A"),
        message("A2", ordering_key="A"),
        message("B1", ordering_key="B"),
        message("A3", ordering_key="A"),
        message("B2", ordering_key="B"),
    )
    # Only the head of each key is handed out; A and B go in parallel.
    first = pull(broker_stub, qname, max_messages=10, wait=1, lease=30)
    assert sorted(payloads(first)) == ["A1", "B1"]
    by = {d.message.payload.decode(): d for d in first}
    # Nothing more while both heads are in flight, not even to another consumer.
    assert pull(broker_stub, qname, max_messages=10, wait=0.2) == []

    # Finishing A1 releases A2 only; B2 still waits behind B1.
    assert ack(broker_stub, [by["A1"].ack_id]) == []
    second = pull(broker_stub, qname, max_messages=10, wait=1, lease=30)
    assert payloads(second) == ["A2"]

    # A nacked A2 comes back before A3.
    assert nack(broker_stub, [second[0].ack_id]) == []
    third = pull(broker_stub, qname, max_messages=10, wait=1, lease=30)
    assert payloads(third) == ["A2"]
    assert third[0].attempt == 2
    assert third[0].message.id == second[0].message.id

    assert ack(broker_stub, [third[0].ack_id, by["B1"].ack_id]) == []
    fourth = pull(broker_stub, qname, max_messages=10, wait=1, lease=30)
    assert sorted(payloads(fourth)) == ["A3", "B2"]
    assert ack(broker_stub, [d.ack_id for d in fourth]) == []
    assert pull(broker_stub, qname, max_messages=10, wait=0.1) == []


def test_fifo_expired_lease_redelivers_the_same_head(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, kind=types_pb2.QUEUE_KIND_FIFO)
    send(broker_stub, qname, message("K1", ordering_key="K"), message("K2", ordering_key="K"))
    first = pull(broker_stub, qname, max_messages=10, wait=1, lease=0.3)
    assert payloads(first) == ["K1"]
    again = pull(broker_stub, qname, max_messages=10, wait=2, lease=30)
    assert payloads(again) == ["K1"]
    assert again[0].attempt == 2
    assert ack(broker_stub, [again[0].ack_id]) == []
    assert payloads(pull(broker_stub, qname, max_messages=10, wait=1)) == ["K2"]


def test_priority_queue_higher_first_fifo_among_equal(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, kind=types_pb2.QUEUE_KIND_PRIORITY)
    prios = [1, 5, 3, 5, 1, 10, 3]
    ids = [
        r.message_id
        for r in send(
            broker_stub, qname, *[message(f"p{i}", priority=p) for i, p in enumerate(prios)]
        )
    ]
    got = pull(broker_stub, qname, max_messages=20, wait=1)
    assert payloads(got) == ["p5", "p1", "p3", "p2", "p6", "p0", "p4"]

    # A nacked high-priority message is again ahead of lower ones sent before it.
    by = {d.message.payload.decode(): d for d in got}
    assert ack(broker_stub, [d.ack_id for d in got if d.message.payload != b"p5"]) == []
    send(broker_stub, qname, message("low", priority=0))
    assert nack(broker_stub, [by["p5"].ack_id]) == []
    again = pull(broker_stub, qname, max_messages=20, wait=1)
    assert payloads(again) == ["p5", "low"]
    assert status(broker_stub, qname, ids[5]).attempts == 2
