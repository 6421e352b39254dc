"""Three servers on one PostgreSQL database: any server serves any queue, every server sees
the same state, and the guarantees hold with clients spread over them (SPEC §11).

Clients talk to the servers in turn (``clients[i % 3]``), so every step - create, send,
claim, ack, nack, lease change, admin - happens on a different server from the one before.
"""

from __future__ import annotations

import threading
import time
import uuid

import grpc
import rpc_helpers as rpc
from pg_helpers import Client, Pump

from conveyor.v1 import admin_pb2, broker_pb2, types_pb2

S = types_pb2


def unique(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_every_server_sees_the_same_configuration_and_messages(clients: list[Client]) -> None:
    a, b, c = clients
    q = unique()
    rpc.create_queue(a.admin, q, lease=30, max_deliveries=3)
    b.admin.CreateBinding(admin_pb2.CreateBindingRequest(pattern=f"{q}.#", queue=q), timeout=5)
    for client in clients:
        got = client.admin.GetQueue(admin_pb2.GetQueueRequest(queue=q), timeout=5).queue
        assert (got.name, got.max_deliveries) == (q, 3)
        bindings = client.admin.ListBindings(admin_pb2.ListBindingsRequest(queue=q), timeout=5)
        assert [(x.pattern, x.queue) for x in bindings.bindings] == [(f"{q}.#", q)]
    results = rpc.send(c.broker, "", rpc.message(b"routed", topic=f"{q}.x"))
    assert results[0].message_id
    ids = [r.message_id for r in rpc.send(a.broker, q, b"one", b"two")]
    delivered = rpc.pull(b.broker, q, "workers", max_messages=10)
    assert {d.message.payload for d in delivered} == {b"routed", b"one", b"two"}
    assert rpc.stats(c.admin, q).in_flight == 3
    assert rpc.ack(c.broker, [d.ack_id for d in delivered]) == []
    for client in clients:
        st = rpc.stats(client.admin, q)
        assert (st.depth, st.acked, st.sent) == (0, 3, 3)
        status = rpc.status(client.broker, q, ids[0])
        assert (status.state, list(status.acked_by)) == (S.MESSAGE_STATE_DELIVERED, ["workers"])
    subs = a.admin.ListSubscriptions(admin_pb2.ListSubscriptionsRequest(queue=q), timeout=5)
    assert [s.name for s in subs.subscriptions] == ["workers"]


def test_a_queue_created_twice_on_two_servers_exists_once(clients: list[Client]) -> None:
    q = unique()
    rpc.create_queue(clients[0].admin, q)
    assert rpc.rpc_code(rpc.create_queue, clients[1].admin, q) == grpc.StatusCode.ALREADY_EXISTS


def test_competing_consumers_on_three_servers_share_the_work_once(clients: list[Client]) -> None:
    q = unique()
    rpc.create_queue(clients[0].admin, q, lease=30)
    sent = set()
    for i in range(6):
        batch = [f"m{i}-{k}".encode() for k in range(50)]
        sent |= {r.message_id for r in rpc.send(clients[i % 3].broker, q, *batch)}
    got: list[str] = []
    while True:
        round_ = [rpc.pull(c.broker, q, "workers", max_messages=40) for c in clients]
        if not any(round_):
            break
        for c, ds in zip(clients, round_, strict=True):
            got += [d.message.id for d in ds]
            assert rpc.ack(c.broker, [d.ack_id for d in ds]) == []
    assert sorted(got) == sorted(sent)  # each exactly once


def test_broadcast_and_quorum_across_servers(clients: list[Client]) -> None:
    a, b, c = clients
    q = unique()
    rpc.create_queue(a.admin, q)
    for client, sub in zip(clients, ("s1", "s2", "s3"), strict=True):
        assert rpc.pull(client.broker, q, sub) == []  # subscribes
    [bc] = rpc.send(a.broker, q, rpc.message(b"all", guarantee=S.GUARANTEE_BROADCAST))
    [qu] = rpc.send(b.broker, q, rpc.message(b"two", guarantee=S.GUARANTEE_QUORUM, required_acks=2))
    acks = {}
    for client, sub in zip(clients, ("s1", "s2", "s3"), strict=True):
        ds = rpc.pull(client.broker, q, sub)
        assert {d.message.id for d in ds} == {bc.message_id, qu.message_id}
        acks[sub] = {d.message.id: d.ack_id for d in ds}
    assert rpc.ack(c.broker, [acks["s1"][bc.message_id], acks["s3"][qu.message_id]]) == []
    status = rpc.status(b.broker, q, bc.message_id)
    assert (status.state, list(status.acked_by)) == (S.MESSAGE_STATE_IN_FLIGHT, ["s1"])
    assert rpc.status(a.broker, q, qu.message_id).state == S.MESSAGE_STATE_IN_FLIGHT
    assert rpc.ack(a.broker, [acks["s1"][qu.message_id]]) == []
    status = rpc.status(c.broker, q, qu.message_id)
    assert status.state == S.MESSAGE_STATE_DELIVERED
    assert sorted(status.acked_by) == ["s1", "s3"]
    assert rpc.ack(b.broker, [acks["s2"][bc.message_id], acks["s3"][bc.message_id]]) == []
    assert rpc.status(a.broker, q, bc.message_id).state == S.MESSAGE_STATE_DELIVERED


def test_fifo_order_per_key_holds_across_servers(clients: list[Client]) -> None:
    q = unique()
    rpc.create_queue(clients[0].admin, q, kind=S.QUEUE_KIND_FIFO, lease=30)
    # Each key's messages are sent one batch at a time through a different server in turn.
    for i in range(12):
        rpc.send(
            clients[i % 3].broker,
            q,
            *(rpc.message(f"{key}{i}", ordering_key=key) for key in ("a", "b")),
        )
    order: dict[str, list[int]] = {"a": [], "b": []}
    for step in range(200):
        client = clients[step % 3]
        ds = rpc.pull(client.broker, q, "workers", max_messages=10)
        keys = [d.message.ordering_key for d in ds]
        assert len(keys) == len(set(keys)), f"two of one key in flight at once: {keys}"
        # While this server's consumer holds the heads, no other server hands out their keys.
        other = clients[(step + 1) % 3]
        assert all(d.message.ordering_key not in keys for d in rpc.pull(other.broker, q, "workers"))
        for d in ds:
            order[d.message.ordering_key].append(int(d.message.payload.decode()[1:]))
        if ds:
            assert rpc.ack(clients[(step + 2) % 3].broker, [d.ack_id for d in ds]) == []
        if len(order["a"]) == len(order["b"]) == 12:
            break
    assert order == {"a": list(range(12)), "b": list(range(12))}


def test_rates_count_the_traffic_of_every_server(clients: list[Client]) -> None:
    a, b, _ = clients
    q = unique()
    rpc.create_queue(a.admin, q)
    time.sleep(1.5)  # every server has sampled the new queue's counters at zero
    rpc.send(a.broker, q, *(b"x" for _ in range(30)))
    rpc.send(b.broker, q, *(b"y" for _ in range(20)))
    assert len(rpc.pull(a.broker, q, "workers", max_messages=50)) == 50
    time.sleep(1.5)  # and again since
    for client in clients:  # c neither sent nor delivered, and counts both
        rates = rpc.stats(client.admin, q).rates_1m
        window = rates.window.ToTimedelta().total_seconds()
        assert 1.0 <= window <= 60.0
        assert round(rates.sent * window) == round(rates.delivered * window) == 50
        assert rates.acked == 0.0


def test_a_stale_ack_is_refused_on_every_server(clients: list[Client]) -> None:
    a, b, c = clients
    q = unique()
    rpc.create_queue(a.admin, q)
    [sent] = rpc.send(a.broker, q, b"late")
    [first] = rpc.pull(a.broker, q, "workers", lease=0.5)
    time.sleep(0.8)  # the lease runs out; the leader's sweep makes it ready again
    second = rpc.wait_until(
        lambda: rpc.pull(b.broker, q, "workers", lease=30, wait=0.5), timeout=10
    )[0]
    assert (second.message.id, second.attempt) == (sent.message_id, 2)
    assert rpc.ack(c.broker, [first.ack_id]) == [first.ack_id]
    lease = broker_pb2.ModifyLeaseRequest(ack_ids=[first.ack_id], lease=rpc.dur(10))
    assert list(a.broker.ModifyLease(lease, timeout=5).failed_ack_ids) == [first.ack_id]
    assert rpc.ack(a.broker, [second.ack_id]) == []
    assert rpc.ack(b.broker, [second.ack_id]) == [second.ack_id]


def test_nack_and_dead_letters_across_servers(clients: list[Client]) -> None:
    a, b, c = clients
    q, dlq = unique(), unique("dlq")
    rpc.create_queue(a.admin, dlq)
    rpc.create_queue(b.admin, q, max_deliveries=2, dead_letter_queue=dlq)
    [sent] = rpc.send(c.broker, q, b"poison")
    for client in (a, b):
        [d] = rpc.wait_until(lambda client=client: rpc.pull(client.broker, q, "w", wait=0.5))
        assert rpc.nack(c.broker, [d.ack_id], delay=0.0) == []
    [letter] = rpc.dead_letters(a.admin, dlq)
    assert letter.dead_letter.source_message_id == sent.message_id
    assert letter.dead_letter.reason == "max deliveries exceeded"
    redrive = admin_pb2.RedriveDeadLettersRequest(queue=dlq)
    assert b.admin.RedriveDeadLetters(redrive, timeout=5).redriven == 1
    [again] = rpc.pull(c.broker, q, "w")
    assert again.message.payload == b"poison"


def test_watch_on_one_server_follows_changes_made_on_others(clients: list[Client]) -> None:
    a, b, c = clients
    q = unique()
    rpc.create_queue(a.admin, q)
    [sent] = rpc.send(a.broker, q, b"watched")
    pump = Pump(
        a.broker.WatchMessage(broker_pb2.WatchMessageRequest(queue=q, message_id=sent.message_id))
    )
    try:
        first = pump.next(10)
        assert first is not None
        assert first.state == S.MESSAGE_STATE_PENDING
        [d] = rpc.pull(b.broker, q, "workers", lease=30)
        states = []
        while not states or states[-1] != S.MESSAGE_STATE_IN_FLIGHT:
            status = pump.next(10)
            assert status is not None, f"no IN_FLIGHT from server A: {states}, {pump.error}"
            states.append(status.state)
        assert rpc.ack(c.broker, [d.ack_id]) == []
        while states[-1] != S.MESSAGE_STATE_DELIVERED:
            status = pump.next(10)
            assert status is not None, f"no DELIVERED from server A: {states}, {pump.error}"
            states.append(status.state)
        assert list(status.acked_by) == ["workers"]
    finally:
        pump.cancel()


def test_wait_for_delivered_on_one_server_returns_when_another_acks(
    clients: list[Client],
) -> None:
    a, b, _ = clients
    q = unique()
    rpc.create_queue(a.admin, q)
    assert rpc.pull(b.broker, q, "workers") == []
    answer: list[object] = []

    def send() -> None:
        answer.append(
            rpc.send(a.broker, q, b"confirm me", wait_for=S.WAIT_FOR_DELIVERED, timeout=20)
        )

    sender = threading.Thread(target=send)
    sender.start()
    [d] = rpc.wait_until(lambda: rpc.pull(b.broker, q, "workers", wait=0.5), timeout=10)
    time.sleep(0.2)
    assert not answer, "Send returned before the message was acked"
    assert rpc.ack(b.broker, [d.ack_id]) == []
    sender.join(20)
    assert answer
    assert answer[0][0].message_id == d.message.id


def test_a_stream_on_one_server_receives_what_another_server_stores(
    clients: list[Client],
) -> None:
    a, b, c = clients
    q = unique()
    rpc.create_queue(a.admin, q, lease=30)
    req = broker_pb2.ReceiveRequest(queue=q, subscription="stream", max_outstanding_messages=100)
    pump = Pump(a.broker.Receive(req))
    try:
        time.sleep(0.3)
        [sent] = rpc.send(b.broker, q, b"over there")
        frame = pump.next(10)
        assert frame is not None, pump.error
        assert [d.message.id for d in frame.deliveries] == [sent.message_id]
        # Delayed: made ready by time alone, on whichever server leads the sweeps.
        [later] = rpc.send(c.broker, q, rpc.message(b"later", delay=0.5))
        frame = pump.next(10)
        assert frame is not None, pump.error
        assert [d.message.id for d in frame.deliveries] == [later.message_id]
    finally:
        pump.cancel()
