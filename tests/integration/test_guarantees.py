"""Delivery guarantees (SPEC §3): fire-and-forget, at-least-once, broadcast, quorum."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
from integration_helpers import MS, G, code, pull_n, send_one
from rpc_helpers import ack, create_queue, message, nack, pull, send, stats, status, wait_until

from conveyor.v1 import broker_pb2, types_pb2


def _subscribe(broker_stub, queue: str, *subs: tuple[str, str]) -> None:
    """Creates subscriptions (name, filter) with an empty pull, as a consumer would."""
    for name, filter_ in subs:
        assert pull(broker_stub, queue, name, filter_=filter_) == []


# -- fire-and-forget ---------------------------------------------------------------------------


def test_fire_and_forget_is_handed_out_once_and_never_redelivered(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    _subscribe(broker_stub, qname, ("a", ""), ("b", ""))
    nacked_id = send_one(broker_stub, qname, message("f1", guarantee=G.GUARANTEE_FIRE_AND_FORGET))
    expired_id = send_one(broker_stub, qname, message("f2", guarantee=G.GUARANTEE_FIRE_AND_FORGET))

    first = pull(broker_stub, qname, "a", max_messages=1, wait=2, lease=0.2)
    assert [d.message.id for d in first] == [nacked_id]
    assert first[0].attempt == 1
    nack(broker_stub, [first[0].ack_id])  # a nack must not bring it back

    second = pull(broker_stub, qname, "a", max_messages=1, wait=2, lease=0.2)
    assert [d.message.id for d in second] == [expired_id]
    time.sleep(0.4)  # its lease runs out unacked: still not redelivered

    again = pull(broker_stub, qname, "a", wait=0.4) + pull(broker_stub, qname, "b", wait=0.2)
    assert again == []
    for mid in (nacked_id, expired_id):
        assert status(broker_stub, qname, mid).state == MS.MESSAGE_STATE_DELIVERED
    s = stats(admin_stub, qname)
    assert s.redelivered == 0
    assert s.depth == 0


def test_fire_and_forget_goes_to_one_subscription_only(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    _subscribe(broker_stub, qname, ("a", ""), ("b", ""))
    send(broker_stub, qname, message("only-once", guarantee=G.GUARANTEE_FIRE_AND_FORGET))
    got = pull(broker_stub, qname, "a", wait=0.3) + pull(broker_stub, qname, "b", wait=0.3)
    assert [d.message.payload for d in got] == [b"only-once"]


# -- at-least-once -------------------------------------------------------------------------------


def test_at_least_once_competing_pullers_never_share_a_leased_message(
    broker_stub, admin_stub, qname
):
    create_queue(admin_stub, qname)
    sent = send(broker_stub, qname, *[message(f"m{i}") for i in range(20)])
    ids = {r.message_id for r in sent}

    def drain() -> list[types_pb2.Delivery]:
        got: list[types_pb2.Delivery] = []
        while batch := pull(broker_stub, qname, "shared", max_messages=3, wait=0.2, lease=10):
            got += batch
        return got

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: drain(), range(2))

    got_ids = [d.message.id for d in first + second]
    assert len(got_ids) == len(set(got_ids)), "a leased message went to two pullers"
    assert set(got_ids) == ids
    assert all(d.attempt == 1 for d in first + second)
    assert ack(broker_stub, [d.ack_id for d in first + second]) == []
    s = stats(admin_stub, qname)
    assert (s.acked, s.in_flight, s.depth) == (20, 0, 0)


def test_at_least_once_two_subscriptions_compete_for_one_copy(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    _subscribe(broker_stub, qname, ("a", ""), ("b", ""))
    mid = send_one(broker_stub, qname, message("one", guarantee=G.GUARANTEE_AT_LEAST_ONCE))

    got = pull(broker_stub, qname, "a", wait=0.5) + pull(broker_stub, qname, "b", wait=0.3)
    assert [d.message.id for d in got] == [mid]
    winner = got[0].subscription
    assert winner in ("a", "b")
    assert ack(broker_stub, [got[0].ack_id]) == []

    assert pull(broker_stub, qname, "a", wait=0.2) + pull(broker_stub, qname, "b", wait=0.2) == []
    st = status(broker_stub, qname, mid)
    assert st.state == MS.MESSAGE_STATE_DELIVERED
    assert list(st.acked_by) == [winner]


# -- broadcast -----------------------------------------------------------------------------------


def test_broadcast_copies_to_every_matching_subscription_and_delivered_after_all_acks(
    broker_stub, admin_stub, qname
):
    create_queue(admin_stub, qname)
    _subscribe(
        broker_stub,
        qname,
        ("all", "#"),
        ("orders", "orders.*"),
        ("users", "users.#"),
    )
    mid = send_one(
        broker_stub,
        qname,
        message("bc", topic="orders.created", guarantee=G.GUARANTEE_BROADCAST),
    )
    # Created after the send: does not match "at send time".
    _subscribe(broker_stub, qname, ("late", "#"))

    st = status(broker_stub, qname, mid)
    assert st.required_acks == 2
    assert st.state == MS.MESSAGE_STATE_PENDING

    d_all = pull(broker_stub, qname, "all", wait=1)
    d_orders = pull(broker_stub, qname, "orders", wait=1)
    assert [d.message.id for d in d_all] == [mid]
    assert [d.message.id for d in d_orders] == [mid]
    assert d_all[0].subscription == "all"
    assert d_orders[0].subscription == "orders"
    assert d_all[0].ack_id != d_orders[0].ack_id
    assert pull(broker_stub, qname, "users", wait=0.2) == []
    assert pull(broker_stub, qname, "late", wait=0.2) == []

    assert ack(broker_stub, [d_all[0].ack_id]) == []
    st = status(broker_stub, qname, mid)
    assert st.state != MS.MESSAGE_STATE_DELIVERED
    assert list(st.acked_by) == ["all"]
    # The acked copy is not handed out again; the other one still is the "orders" copy's.
    assert pull(broker_stub, qname, "all", wait=0.2) == []

    assert ack(broker_stub, [d_orders[0].ack_id]) == []
    st = status(broker_stub, qname, mid)
    assert st.state == MS.MESSAGE_STATE_DELIVERED
    assert sorted(st.acked_by) == ["all", "orders"]


def test_broadcast_copy_redelivered_to_its_own_subscription_only(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    _subscribe(broker_stub, qname, ("a", ""), ("b", ""))
    mid = send_one(broker_stub, qname, message("bc", guarantee=G.GUARANTEE_BROADCAST))
    da = pull(broker_stub, qname, "a", wait=1)
    db = pull(broker_stub, qname, "b", wait=1)
    assert len(da) == len(db) == 1
    assert ack(broker_stub, [db[0].ack_id]) == []
    assert nack(broker_stub, [da[0].ack_id]) == []
    # b's copy is done; a's comes back to a, as attempt 2.
    assert pull(broker_stub, qname, "b", wait=0.2) == []
    again = pull(broker_stub, qname, "a", wait=2)
    assert [(d.message.id, d.attempt) for d in again] == [(mid, 2)]
    assert ack(broker_stub, [again[0].ack_id]) == []
    assert status(broker_stub, qname, mid).state == MS.MESSAGE_STATE_DELIVERED


def test_broadcast_with_no_matching_subscription_fails_that_message_only(
    broker_stub, admin_stub, qname
):
    create_queue(admin_stub, qname)
    _subscribe(broker_stub, qname, ("users", "users.*"))
    results = send(
        broker_stub,
        qname,
        message("bc", topic="orders.created", guarantee=G.GUARANTEE_BROADCAST),
        message("alo", topic="orders.created"),
        expect_ok=False,
    )
    assert results[0].error.code == code(grpc.StatusCode.FAILED_PRECONDITION)
    assert results[0].error.message
    assert not results[1].HasField("error")
    assert results[1].message_id
    s = stats(admin_stub, qname)
    assert (s.sent, s.depth) == (1, 1)


# -- quorum ----------------------------------------------------------------------------------------


def test_quorum_with_too_few_subscriptions_fails_per_message(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    _subscribe(broker_stub, qname, ("a", ""), ("b", ""), ("c", "other.#"))
    results = send(
        broker_stub,
        qname,
        message("q3", topic="t.x", guarantee=G.GUARANTEE_QUORUM, required_acks=3),
        message("q2", topic="t.x", guarantee=G.GUARANTEE_QUORUM, required_acks=2),
        message("plain", topic="t.x"),
        expect_ok=False,
    )
    assert results[0].error.code == code(grpc.StatusCode.FAILED_PRECONDITION)
    assert not results[0].message_id
    assert not results[1].HasField("error")
    assert not results[2].HasField("error")
    assert stats(admin_stub, qname).sent == 2
    st = status(broker_stub, qname, results[1].message_id)
    assert st.required_acks == 2


def test_quorum_wait_for_delivered_returns_after_n_distinct_acks(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    _subscribe(broker_stub, qname, ("a", ""), ("b", ""), ("c", ""))
    req = broker_pb2.SendRequest(
        queue=qname,
        messages=[message("quorum", guarantee=G.GUARANTEE_QUORUM, required_acks=2)],
        wait_for=types_pb2.WAIT_FOR_DELIVERED,
    )
    req.timeout.FromSeconds(10)
    future = broker_stub.Send.future(req, timeout=20)

    acked: list[types_pb2.Delivery] = []
    go_second = threading.Event()
    errors: list[BaseException] = []

    def consumer() -> None:
        try:
            for sub in ("a", "b"):
                if sub == "b":
                    go_second.wait(5)
                got = pull(broker_stub, qname, sub, wait=3)
                assert len(got) == 1
                assert ack(broker_stub, [got[0].ack_id]) == []
                acked.append(got[0])
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=consumer, daemon=True)
    worker.start()
    try:
        wait_until(lambda: acked or errors, what="first ack")
        assert not errors, errors
        mid = acked[0].message.id
        st = status(broker_stub, qname, mid)
        assert list(st.acked_by) == ["a"]
        time.sleep(0.3)
        assert not future.done(), "Send returned after 1 of 2 required acks"
    finally:
        go_second.set()
        worker.join(10)
    assert not errors, errors

    response = future.result(timeout=10)
    [result] = response.results
    assert not result.HasField("error"), result.error
    assert result.message_id == mid
    st = status(broker_stub, qname, mid)
    assert st.state == MS.MESSAGE_STATE_DELIVERED
    assert sorted(st.acked_by) == ["a", "b"]


def test_quorum_wait_for_delivered_times_out_with_deadline_exceeded(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    _subscribe(broker_stub, qname, ("a", ""), ("b", ""))
    req = broker_pb2.SendRequest(
        queue=qname,
        messages=[
            message("quorum", guarantee=G.GUARANTEE_QUORUM, required_acks=2),
            message("plain"),
        ],
        wait_for=types_pb2.WAIT_FOR_DELIVERED,
    )
    req.timeout.FromNanoseconds(800_000_000)
    started = time.monotonic()
    future = broker_stub.Send.future(req, timeout=20)

    def ack_what_a_gets() -> None:
        # One quorum copy (of the two needed) and the plain message.
        got = pull_n(broker_stub, qname, "a", 2, timeout=2)
        ack(broker_stub, [d.ack_id for d in got])

    worker = threading.Thread(target=ack_what_a_gets, daemon=True)
    worker.start()
    response = future.result(timeout=15)
    elapsed = time.monotonic() - started
    worker.join(5)

    quorum_result = response.results[0]
    assert quorum_result.error.code == code(grpc.StatusCode.DEADLINE_EXCEEDED)
    assert elapsed >= 0.7
    assert quorum_result.message_id, "a stored message keeps its id even when the wait timed out"
    st = status(broker_stub, qname, quorum_result.message_id)
    assert st.state != MS.MESSAGE_STATE_DELIVERED
    assert list(st.acked_by) == ["a"]
    plain_result = response.results[1]
    assert not plain_result.HasField("error"), plain_result.error
    assert status(broker_stub, qname, plain_result.message_id).state == (MS.MESSAGE_STATE_DELIVERED)
