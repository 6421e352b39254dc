"""Receive, StreamingReceive and Pull against the real server: flow control, batching, acks on
the stream, long polling, competing consumers, broadcast fan-out, subscription filters."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from rpc_helpers import ack, create_queue, dur, pull, rpc_code, send, stats, wait_until
from stream_helpers import BidiStream, StreamPump, collect_deliveries, numbered

from conveyor.v1 import admin_pb2, broker_pb2, types_pb2

LONG_LEASE = 30.0
"""Long enough that no lease expires during a test, so only acks free flow-control room."""


def receive(broker_stub, queue, subscription="s", **fields) -> StreamPump:
    fields.setdefault("lease", dur(LONG_LEASE))
    return StreamPump(
        broker_stub.Receive(
            broker_pb2.ReceiveRequest(queue=queue, subscription=subscription, **fields)
        )
    )


def streaming_receive(broker_stub, queue, subscription="s", **fields) -> BidiStream:
    fields.setdefault("lease", dur(LONG_LEASE))
    return BidiStream(
        broker_stub.StreamingReceive,
        broker_pb2.StreamingReceiveRequest(queue=queue, subscription=subscription, **fields),
    )


def ids(deliveries) -> list[str]:
    return [d.message.id for d in deliveries]


# -- 1. flow control on Receive -------------------------------------------------------------


def test_receive_never_exceeds_max_outstanding_messages(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    sent = {r.message_id for r in send(broker_stub, qname, *numbered(10))}
    window = 3
    pump = receive(broker_stub, qname, max_outstanding_messages=window)
    try:
        first, _ = collect_deliveries(pump, window, timeout=5)
        assert len(first) == window
        # More are ready, but the window is full: nothing else may arrive.
        extra = pump.frames_for(0.5)
        assert sum(len(f.deliveries) for f in extra) == 0
        assert stats(admin_stub, qname).in_flight == window
        assert _in_flight(admin_stub, qname) == [("s", window)]

        # Acking two frees exactly two slots.
        assert ack(broker_stub, [d.ack_id for d in first[:2]]) == []
        second, _ = collect_deliveries(pump, 2, timeout=5)
        assert len(second) == 2
        extra = pump.frames_for(0.3)
        assert sum(len(f.deliveries) for f in extra) == 0

        # Drain the rest, acking as we go; outstanding never exceeds the window.
        got = first + second
        outstanding = {d.ack_id for d in first[2:] + second}
        deadline = time.monotonic() + 10
        while len(got) < 10 and time.monotonic() < deadline:
            assert ack(broker_stub, sorted(outstanding)) == []
            outstanding.clear()
            frame = pump.next(deadline - time.monotonic())
            assert frame is not None, "no more deliveries after acking"
            assert len(frame.deliveries) <= window
            outstanding.update(d.ack_id for d in frame.deliveries)
            got.extend(frame.deliveries)
        assert len(got) == 10
        assert set(ids(got)) == sent
        assert all(d.attempt == 1 for d in got)
        assert ack(broker_stub, sorted(outstanding)) == []
        assert wait_until(lambda: stats(admin_stub, qname).acked == 10)
        # Every lease is settled: nothing in flight, for the queue and for the subscription.
        assert stats(admin_stub, qname).in_flight == 0
        assert _in_flight(admin_stub, qname) == [("s", 0)]
    finally:
        pump.cancel()


def test_nack_with_delay_frees_the_window_at_once(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    first_id, second_id = (r.message_id for r in send(broker_stub, qname, *numbered(2)))
    pump = receive(broker_stub, qname, max_outstanding_messages=1)
    try:
        [d1], _ = collect_deliveries(pump, 1, timeout=5)
        assert d1.message.id == first_id
        assert sum(len(f.deliveries) for f in pump.frames_for(0.3)) == 0
        start = time.monotonic()
        failed = broker_stub.Nack(
            broker_pb2.NackRequest(ack_ids=[d1.ack_id], delay=dur(5)), timeout=5
        ).failed_ack_ids
        assert list(failed) == []
        # The nacked message waits 5 s, but its slot is free now: the next one comes at once.
        got, _ = collect_deliveries(pump, 1, timeout=3)
        assert ids(got) == [second_id]
        assert time.monotonic() - start < 2
        s = stats(admin_stub, qname)
        assert (s.delayed, s.in_flight, s.nacked) == (1, 1, 1)
    finally:
        pump.cancel()


def test_receive_never_exceeds_max_outstanding_bytes(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    send(broker_stub, qname, *[bytes([65 + i]) * 100 for i in range(6)])
    # 100-byte payloads, 250-byte window: two fit, the third would not. The message window
    # (100) is far away, so the byte window is what binds.
    pump = receive(broker_stub, qname, max_outstanding_messages=100, max_outstanding_bytes=250)
    try:
        first, _ = collect_deliveries(pump, 2, timeout=5)
        assert len(first) == 2
        assert sum(len(f.deliveries) for f in pump.frames_for(0.5)) == 0

        assert ack(broker_stub, [first[0].ack_id]) == []
        second, _ = collect_deliveries(pump, 1, timeout=5)
        assert len(second) == 1
        assert sum(len(f.deliveries) for f in pump.frames_for(0.3)) == 0

        assert ack(broker_stub, [first[1].ack_id, second[0].ack_id]) == []
        third, _ = collect_deliveries(pump, 2, timeout=5)
        assert len(third) == 2
        payloads = {d.message.payload for d in first + second + third}
        assert len(payloads) == 5
    finally:
        pump.cancel()


def test_receive_batches_ready_messages_into_one_frame(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    sent = [r.message_id for r in send(broker_stub, qname, *numbered(5))]
    pump = receive(broker_stub, qname, max_outstanding_messages=100)
    try:
        frame = pump.next(5)
        assert frame is not None
        # Every ready delivery in one frame, in publish order (standard queue, best-effort FIFO).
        assert ids(frame.deliveries) == sent
        for d in frame.deliveries:
            assert d.ack_id
            assert d.attempt == 1
            assert d.subscription == "s"
            assert d.message.queue == qname
            assert d.lease_deadline.seconds > 0
    finally:
        pump.cancel()


def test_receive_unknown_queue_is_not_found(broker_stub, qname):
    pump = receive(broker_stub, qname)
    assert pump.ended(5)
    assert pump.code() == grpc.StatusCode.NOT_FOUND


# -- 2. StreamingReceive ----------------------------------------------------------------------


def test_streaming_receive_acks_and_nacks_on_the_stream(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    stream = streaming_receive(broker_stub, qname, max_outstanding_messages=10)
    try:
        sent = [r.message_id for r in send(broker_stub, qname, *numbered(3))]
        got, _ = collect_deliveries(stream.pump, 3, timeout=5)
        assert sorted(ids(got)) == sorted(sent)
        by_id = {d.message.id: d for d in got}

        stream.send(
            broker_pb2.StreamingReceiveRequest(
                ack_ids=[by_id[sent[0]].ack_id, by_id[sent[1]].ack_id]
            )
        )
        assert wait_until(lambda: stats(admin_stub, qname).acked == 2, timeout=5)

        stream.send(broker_pb2.StreamingReceiveRequest(nack_ids=[by_id[sent[2]].ack_id]))
        again, _ = collect_deliveries(stream.pump, 1, timeout=5)
        assert len(again) == 1
        assert again[0].message.id == sent[2]
        assert again[0].attempt == 2
        assert again[0].ack_id != by_id[sent[2]].ack_id

        stream.send(broker_pb2.StreamingReceiveRequest(ack_ids=[again[0].ack_id]))
        assert wait_until(lambda: stats(admin_stub, qname).acked == 3, timeout=5)
        s = stats(admin_stub, qname)
        assert (s.nacked, s.redelivered, s.in_flight, s.ready, s.depth) == (1, 1, 0, 0, 0)
    finally:
        stream.close()


def test_streaming_receive_modify_lease_extends(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    stream = streaming_receive(broker_stub, qname, max_outstanding_messages=10, lease=dur(0.5))
    try:
        sent = [r.message_id for r in send(broker_stub, qname, *numbered(2))]
        got, _ = collect_deliveries(stream.pump, 2, timeout=5)
        assert sorted(ids(got)) == sorted(sent)
        kept, let_go = got
        stream.send(
            broker_pb2.StreamingReceiveRequest(
                modify_leases=[broker_pb2.LeaseModification(ack_id=kept.ack_id, lease=dur(10))]
            )
        )
        # The other lease (0.5 s) runs out and that message comes back; the extended one not.
        redelivered, frames = collect_deliveries(stream.pump, 1, timeout=5)
        assert ids(redelivered) == [let_go.message.id]
        assert redelivered[0].attempt == 2
        stream.send(broker_pb2.StreamingReceiveRequest(ack_ids=[redelivered[0].ack_id]))
        later = stream.pump.frames_for(0.8)
        assert [d.message.id for f in later for d in f.deliveries] == []
        assert all(not f.failed_ack_ids for f in frames + later)
        # The extended delivery's ack id is still valid.
        assert ack(broker_stub, [kept.ack_id]) == []
    finally:
        stream.close()


def test_streaming_receive_reports_stale_ack_id(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    stream = streaming_receive(broker_stub, qname, max_outstanding_messages=10, lease=dur(0.3))
    try:
        [sent] = [r.message_id for r in send(broker_stub, qname, *numbered(1))]
        first, _ = collect_deliveries(stream.pump, 1, timeout=5)
        second, _ = collect_deliveries(stream.pump, 1, timeout=5)  # after the lease ran out
        assert ids(first) == ids(second) == [sent]
        assert (first[0].attempt, second[0].attempt) == (1, 2)
        stale = first[0].ack_id
        stream.send(
            broker_pb2.StreamingReceiveRequest(
                ack_ids=[stale],
                modify_leases=[
                    broker_pb2.LeaseModification(ack_id=second[0].ack_id, lease=dur(10))
                ],
            )
        )
        failed: list[str] = []
        deadline = time.monotonic() + 5
        while stale not in failed and time.monotonic() < deadline:
            frame = stream.pump.next(deadline - time.monotonic())
            if frame is not None:
                failed.extend(frame.failed_ack_ids)
        assert failed == [stale]
        assert stats(admin_stub, qname).acked == 0
        stream.send(broker_pb2.StreamingReceiveRequest(ack_ids=[second[0].ack_id]))
        assert wait_until(lambda: stats(admin_stub, qname).acked == 1, timeout=5)
    finally:
        stream.close()


def test_streaming_receive_flow_control_on_later_request_is_invalid(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    stream = streaming_receive(broker_stub, qname, max_outstanding_messages=5)
    try:
        stream.send(broker_pb2.StreamingReceiveRequest(max_outstanding_messages=50))
        assert stream.pump.ended(5), "the stream stayed open"
        assert stream.pump.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        stream.close()


def test_streaming_receive_respects_window(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    send(broker_stub, qname, *numbered(5))
    stream = streaming_receive(broker_stub, qname, max_outstanding_messages=2)
    try:
        first, _ = collect_deliveries(stream.pump, 2, timeout=5)
        assert len(first) == 2
        assert sum(len(f.deliveries) for f in stream.pump.frames_for(0.5)) == 0
        stream.send(broker_pb2.StreamingReceiveRequest(ack_ids=[first[0].ack_id]))
        more, _ = collect_deliveries(stream.pump, 1, timeout=5)
        assert len(more) == 1
        assert sum(len(f.deliveries) for f in stream.pump.frames_for(0.3)) == 0
        assert len(set(ids(first + more))) == 3
    finally:
        stream.close()


def test_closing_streaming_receive_returns_unacked_promptly(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    sent = {r.message_id for r in send(broker_stub, qname, *numbered(2))}
    stream = streaming_receive(broker_stub, qname, max_outstanding_messages=10)
    got, _ = collect_deliveries(stream.pump, 2, timeout=5)
    assert set(ids(got)) == sent
    stream.close()
    # The lease is 30 s; the messages must come back because the stream closed, not expired.
    start = time.monotonic()
    taken: list[types_pb2.Delivery] = []
    while len(taken) < 2 and time.monotonic() - start < 5:
        taken += pull(broker_stub, qname, "s", max_messages=10, wait=1.0, lease=LONG_LEASE)
    assert time.monotonic() - start < 5
    assert set(ids(taken)) == sent
    assert all(d.attempt == 2 for d in taken)


# -- 3. Pull long poll ----------------------------------------------------------------------


def test_pull_long_poll_returns_when_a_message_arrives(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    pull(broker_stub, qname, "s")  # creates the subscription; nothing there yet

    def later() -> None:
        time.sleep(0.3)
        send(broker_stub, qname, b"wake")

    sender = threading.Thread(target=later)
    start = time.monotonic()
    sender.start()
    try:
        got = pull(broker_stub, qname, "s", max_messages=10, wait=2.0)
        elapsed = time.monotonic() - start
    finally:
        sender.join(5)
    assert [d.message.payload for d in got] == [b"wake"]
    assert elapsed < 1.5, f"Pull waited {elapsed:.2f}s instead of returning on arrival"


def test_pull_wait_zero_returns_at_once(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    start = time.monotonic()
    assert pull(broker_stub, qname, "s", wait=0.0) == []
    assert time.monotonic() - start < 0.5


def test_pull_long_poll_on_empty_queue_waits_then_returns_nothing(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    start = time.monotonic()
    assert pull(broker_stub, qname, "s", wait=0.4) == []
    assert 0.3 <= time.monotonic() - start < 3


def test_pull_max_messages_caps_the_batch(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    sent = [r.message_id for r in send(broker_stub, qname, *numbered(5))]
    first = pull(broker_stub, qname, "s", max_messages=3)
    assert len(first) == 3
    rest = pull(broker_stub, qname, "s", max_messages=3)
    assert len(rest) == 2
    assert sorted(ids(first + rest)) == sorted(sent)
    # Default max_messages is 1.
    send(broker_stub, qname, *numbered(2))
    assert len(pull(broker_stub, qname, "s", max_messages=0)) == 1


def test_pull_max_messages_over_limit_is_invalid(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    send(broker_stub, qname, *numbered(1))
    code = rpc_code(lambda: pull(broker_stub, qname, "s", max_messages=1001))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert stats(admin_stub, qname).ready == 1
    assert len(pull(broker_stub, qname, "s", max_messages=1000)) == 1


# -- 4. competing consumers and broadcast ----------------------------------------------------


def _consume(broker_stub, pump: StreamPump, into: list, stop: threading.Event) -> None:
    while not stop.is_set():
        frame = pump.next(0.1)
        if frame is None:
            if pump.done.is_set():
                return
            continue
        into.extend(frame.deliveries)
        ack(broker_stub, [d.ack_id for d in frame.deliveries])


def _consume(broker_stub, pump: StreamPump, into: list, stop: threading.Event) -> None:
    while not stop.is_set():
        frame = pump.next(0.1)
        if frame is None:
            if pump.done.is_set():
                return
            continue
        into.extend(frame.deliveries)
        ack(broker_stub, [d.ack_id for d in frame.deliveries])


def _in_flight(admin_stub, queue) -> list[tuple[str, int]]:
    subs = admin_stub.ListSubscriptions(
        admin_pb2.ListSubscriptionsRequest(queue=queue), timeout=5
    ).subscriptions
    return [(s.name, s.in_flight) for s in subs]


def _consumers(admin_stub, queue) -> list[tuple[str, int]]:
    subs = admin_stub.ListSubscriptions(
        admin_pb2.ListSubscriptionsRequest(queue=queue), timeout=5
    ).subscriptions
    return [(s.name, s.consumers) for s in subs]


def test_competing_consumers_share_the_work(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    pumps = [receive(broker_stub, qname, "workers", max_outstanding_messages=5) for _ in range(2)]
    got: list[list[types_pb2.Delivery]] = [[], []]
    stop = threading.Event()
    threads = [
        threading.Thread(target=_consume, args=(broker_stub, p, g, stop))
        for p, g in zip(pumps, got, strict=True)
    ]
    for t in threads:
        t.start()
    try:
        assert wait_until(lambda: _consumers(admin_stub, qname) == [("workers", 2)], timeout=5)
        sent = {r.message_id for r in send(broker_stub, qname, *numbered(40))}
        assert wait_until(lambda: len(got[0]) + len(got[1]) >= 40, timeout=10)
        time.sleep(0.2)  # anything delivered twice would show up now
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        for p in pumps:
            p.cancel()
    all_ids = ids(got[0]) + ids(got[1])
    assert len(all_ids) == 40
    assert set(all_ids) == sent
    assert got[0], "the second consumer got all the work"
    assert got[1], "the first consumer got all the work"
    assert all(d.attempt == 1 for d in got[0] + got[1])
    assert wait_until(lambda: stats(admin_stub, qname).acked == 40, timeout=5)


def test_broadcast_reaches_every_subscription(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    subs = ["alpha", "beta"]
    pumps = {s: receive(broker_stub, qname, s, max_outstanding_messages=100) for s in subs}
    try:
        assert wait_until(
            lambda: (
                len(
                    admin_stub.ListSubscriptions(
                        admin_pb2.ListSubscriptionsRequest(queue=qname), timeout=5
                    ).subscriptions
                )
                == 2
            ),
            timeout=5,
        )
        sent = {
            r.message_id
            for r in send(
                broker_stub, qname, *numbered(10, guarantee=types_pb2.GUARANTEE_BROADCAST)
            )
        }
        for s, pump in pumps.items():
            got, _ = collect_deliveries(pump, 10, timeout=5)
            assert set(ids(got)) == sent
            assert len(got) == 10
            assert {d.subscription for d in got} == {s}
            assert ack(broker_stub, [d.ack_id for d in got]) == []
        assert wait_until(lambda: stats(admin_stub, qname).acked == 20, timeout=5)
        status = broker_stub.GetMessageStatus(
            broker_pb2.GetMessageStatusRequest(queue=qname, message_id=sorted(sent)[0]),
            timeout=5,
        )
        assert status.state == types_pb2.MESSAGE_STATE_DELIVERED
        assert sorted(status.acked_by) == subs
    finally:
        for p in pumps.values():
            p.cancel()


# -- 5. subscription filters and durability -------------------------------------------------


def _send_topics(broker_stub, queue, topics) -> dict[str, str]:
    resp = broker_stub.Send(
        broker_pb2.SendRequest(
            queue=queue, messages=[types_pb2.Message(topic=t, payload=t.encode()) for t in topics]
        ),
        timeout=5,
    )
    for r in resp.results:
        assert not r.HasField("error"), r.error
    return {t: r.message_id for t, r in zip(topics, resp.results, strict=True)}


def test_subscription_filter_selects_topics(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    assert pull(broker_stub, qname, "eu", filter_="orders.eu.*") == []
    topics = ["orders.eu.created", "orders.us.created", "orders.eu.a.b", "orders.eu.paid", "x"]
    sent = _send_topics(broker_stub, qname, topics)
    got = pull(broker_stub, qname, "eu", max_messages=10, wait=0.5)
    assert sorted(d.message.topic for d in got) == ["orders.eu.created", "orders.eu.paid"]
    assert sorted(ids(got)) == sorted([sent["orders.eu.created"], sent["orders.eu.paid"]])
    assert pull(broker_stub, qname, "eu", max_messages=10, wait=0.3) == []
    listed = admin_stub.ListSubscriptions(
        admin_pb2.ListSubscriptionsRequest(queue=qname), timeout=5
    ).subscriptions
    assert [(s.name, s.filter) for s in listed] == [("eu", "orders.eu.*")]
    # The others wait for a subscription that matches them.
    rest = pull(broker_stub, qname, "all", max_messages=10, wait=0.5)
    assert sorted(d.message.topic for d in rest) == ["orders.eu.a.b", "orders.us.created", "x"]


def test_reopening_subscription_with_other_filter_fails(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    pull(broker_stub, qname, "eu", filter_="orders.eu.*")
    code = rpc_code(lambda: pull(broker_stub, qname, "eu", filter_="orders.#"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    pump = receive(broker_stub, qname, "eu", filter="orders.us.*")
    assert pump.ended(5)
    assert pump.code() == grpc.StatusCode.FAILED_PRECONDITION
    # Same filter, or none, reopens it.
    assert pull(broker_stub, qname, "eu", filter_="orders.eu.*") == []
    assert pull(broker_stub, qname, "eu") == []


def test_subscription_survives_consumer_disconnect(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    pump = receive(broker_stub, qname, "durable", filter="orders.eu.*")
    _send_topics(broker_stub, qname, ["orders.eu.first"])
    got, _ = collect_deliveries(pump, 1, timeout=5)
    assert len(got) == 1
    assert ack(broker_stub, [got[0].ack_id]) == []
    pump.cancel()

    assert wait_until(lambda: _consumers(admin_stub, qname) == [("durable", 0)], timeout=5)
    sent = _send_topics(broker_stub, qname, ["orders.eu.a", "orders.us.b", "orders.eu.c"])
    # Reconnect without a filter: the stored subscription (and its filter) still applies.
    pump = receive(broker_stub, qname, "durable", max_outstanding_messages=10)
    try:
        got, _ = collect_deliveries(pump, 2, timeout=5)
        assert sorted(ids(got)) == sorted([sent["orders.eu.a"], sent["orders.eu.c"]])
        assert sum(len(f.deliveries) for f in pump.frames_for(0.3)) == 0
    finally:
        pump.cancel()


@pytest.mark.parametrize("bad_filter", ["orders..eu", "orders.e*", "a b"])
def test_invalid_subscription_filter_is_invalid_argument(
    broker_stub, admin_stub, qname, bad_filter
):
    create_queue(admin_stub, qname)
    code = rpc_code(lambda: pull(broker_stub, qname, "s", filter_=bad_filter))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert (
        admin_stub.ListSubscriptions(
            admin_pb2.ListSubscriptionsRequest(queue=qname), timeout=5
        ).subscriptions
        == []
    )
