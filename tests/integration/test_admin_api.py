"""The Admin service (SPEC §5, §9): queues, bindings, subscriptions, stats, peek."""

from __future__ import annotations

import grpc
from integration_helpers import MS, code, payloads, send_one
from rpc_helpers import (
    ack,
    create_queue,
    dur,
    message,
    nack,
    peek,
    pull,
    rpc_code,
    secs,
    send,
    stats,
)

from conveyor.v1 import admin_pb2, types_pb2

# -- queues -------------------------------------------------------------------------------------


def _get(admin_stub, name: str) -> types_pb2.Queue:
    return admin_stub.GetQueue(admin_pb2.GetQueueRequest(queue=name), timeout=10).queue


def _update(admin_stub, queue: types_pb2.Queue, paths: list[str] | None):
    req = admin_pb2.UpdateQueueRequest(queue=queue)
    if paths is not None:
        req.update_mask.paths.extend(paths)
    return admin_stub.UpdateQueue(req, timeout=10).queue


def test_create_get_list_queue_with_defaults(admin_stub, qname):
    created = create_queue(admin_stub, qname, kind=types_pb2.QUEUE_KIND_FIFO, max_deliveries=4)
    assert created.name == qname
    assert created.kind == types_pb2.QUEUE_KIND_FIFO
    assert created.max_deliveries == 4
    assert secs(created.lease) == 30.0
    assert secs(created.dedup_window) == 300.0
    assert created.create_time.seconds > 0

    got = _get(admin_stub, qname)
    assert got == created

    create_queue(admin_stub, f"{qname}-b")
    listed = admin_stub.ListQueues(admin_pb2.ListQueuesRequest(prefix=qname), timeout=10).queues
    assert [q.name for q in listed] == [qname, f"{qname}-b"]
    everything = admin_stub.ListQueues(admin_pb2.ListQueuesRequest(), timeout=10).queues
    assert {qname, f"{qname}-b"} <= {q.name for q in everything}


def test_create_queue_errors(admin_stub, qname):
    create_queue(admin_stub, qname)
    dup = admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=qname))
    assert rpc_code(admin_stub.CreateQueue, dup) == grpc.StatusCode.ALREADY_EXISTS
    for bad in ("", "has space", "x" * 256, "slash/name"):
        req = admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=bad))
        assert rpc_code(admin_stub.CreateQueue, req) == grpc.StatusCode.INVALID_ARGUMENT, bad
    negative = admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=f"{qname}-neg"))
    negative.queue.lease.seconds = -5
    assert rpc_code(admin_stub.CreateQueue, negative) == grpc.StatusCode.INVALID_ARGUMENT
    get = admin_pb2.GetQueueRequest(queue=f"{qname}-missing")
    assert rpc_code(admin_stub.GetQueue, get) == grpc.StatusCode.NOT_FOUND


def test_update_queue_with_mask_changes_only_named_fields(admin_stub, qname):
    create_queue(admin_stub, qname, max_deliveries=5, lease=10.0)
    updated = _update(
        admin_stub,
        types_pb2.Queue(name=qname, lease=dur(7.0), max_deliveries=99),
        ["lease"],
    )
    assert secs(updated.lease) == 7.0
    assert updated.max_deliveries == 5
    got = _get(admin_stub, qname)
    assert (secs(got.lease), got.max_deliveries) == (7.0, 5)

    # No mask: every field is replaced, unset ones back to their defaults.
    replaced = _update(admin_stub, types_pb2.Queue(name=qname, max_depth=10), None)
    assert replaced.max_depth == 10
    assert replaced.max_deliveries == 0
    assert secs(replaced.lease) == 30.0


def test_update_queue_errors(admin_stub, qname):
    create_queue(admin_stub, qname, max_deliveries=3)
    bad_path = admin_pb2.UpdateQueueRequest(queue=types_pb2.Queue(name=qname, max_deliveries=9))
    bad_path.update_mask.paths.extend(["max_deliveries", "no_such_field"])
    assert rpc_code(admin_stub.UpdateQueue, bad_path) == grpc.StatusCode.INVALID_ARGUMENT
    assert _get(admin_stub, qname).max_deliveries == 3  # nothing applied

    missing = admin_pb2.UpdateQueueRequest(queue=types_pb2.Queue(name=f"{qname}-missing"))
    missing.update_mask.paths.append("lease")
    assert rpc_code(admin_stub.UpdateQueue, missing) == grpc.StatusCode.NOT_FOUND


def test_updated_lease_applies_to_new_deliveries(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname, lease=30.0)
    _update(admin_stub, types_pb2.Queue(name=qname, lease=dur(0.3)), ["lease"])
    mid = send_one(broker_stub, qname, "short lease now")
    [d] = pull(broker_stub, qname, wait=1)
    [again] = pull(broker_stub, qname, wait=3)
    assert again.message.id == mid
    assert again.attempt == 2
    assert ack(broker_stub, [d.ack_id]) == [d.ack_id]


def test_delete_queue(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    send(broker_stub, qname, "a", "b")
    resp = admin_stub.DeleteQueue(admin_pb2.DeleteQueueRequest(queue=qname), timeout=10)
    assert resp.messages_deleted == 2
    get = admin_pb2.GetQueueRequest(queue=qname)
    assert rpc_code(admin_stub.GetQueue, get) == grpc.StatusCode.NOT_FOUND
    delete = admin_pb2.DeleteQueueRequest(queue=qname)
    assert rpc_code(admin_stub.DeleteQueue, delete) == grpc.StatusCode.NOT_FOUND
    try:
        [r] = send(broker_stub, qname, "after", expect_ok=False)
        assert r.error.code == code(grpc.StatusCode.NOT_FOUND)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND  # noqa: PT017
    # The name can be used again, for a fresh empty queue.
    create_queue(admin_stub, qname)
    assert stats(admin_stub, qname).depth == 0


def test_purge_queue_keeps_in_flight_messages(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    send(broker_stub, qname, "a", "b", message("c", delay=30))
    [held] = pull(broker_stub, qname, max_messages=1, wait=1)
    resp = admin_stub.PurgeQueue(admin_pb2.PurgeQueueRequest(queue=qname), timeout=10)
    assert resp.purged == 2
    s = stats(admin_stub, qname)
    assert (s.depth, s.ready, s.delayed, s.in_flight) == (1, 0, 0, 1)
    assert ack(broker_stub, [held.ack_id]) == []
    assert pull(broker_stub, qname, wait=0.1) == []


# -- bindings -----------------------------------------------------------------------------------


def test_bindings_route_by_topic(broker_stub, admin_stub, qname):
    orders, created = f"{qname}-orders", f"{qname}-created"
    create_queue(admin_stub, orders)
    create_queue(admin_stub, created)
    b1 = admin_stub.CreateBinding(
        admin_pb2.CreateBindingRequest(pattern=f"{qname}.orders.#", queue=orders), timeout=10
    ).binding
    assert (b1.pattern, b1.queue) == (f"{qname}.orders.#", orders)
    admin_stub.CreateBinding(
        admin_pb2.CreateBindingRequest(pattern=f"{qname}.*.created", queue=created), timeout=10
    )

    listed = admin_stub.ListBindings(admin_pb2.ListBindingsRequest(queue=orders)).bindings
    assert [(b.pattern, b.queue) for b in listed] == [(f"{qname}.orders.#", orders)]
    everything = admin_stub.ListBindings(admin_pb2.ListBindingsRequest()).bindings
    assert {(f"{qname}.orders.#", orders), (f"{qname}.*.created", created)} <= {
        (b.pattern, b.queue) for b in everything
    }

    both, only_orders, only_created, nowhere = send(
        broker_stub,
        "",
        message("1", topic=f"{qname}.orders.created"),
        message("2", topic=f"{qname}.orders.eu.shipped"),
        message("3", topic=f"{qname}.users.created"),
        message("4", topic=f"{qname}.users.deleted"),
        expect_ok=False,
    )
    assert sorted(both.queues) == sorted([orders, created])
    assert len(set(both.message_ids)) == 2
    assert list(only_orders.queues) == [orders]
    assert list(only_created.queues) == [created]
    assert nowhere.HasField("error"), "an unroutable message is reported, not dropped"
    assert nowhere.error.code == code(grpc.StatusCode.FAILED_PRECONDITION)

    assert sorted(payloads(pull(broker_stub, orders, max_messages=10, wait=1))) == ["1", "2"]
    assert sorted(payloads(pull(broker_stub, created, max_messages=10, wait=1))) == ["1", "3"]

    admin_stub.DeleteBinding(
        admin_pb2.DeleteBindingRequest(pattern=f"{qname}.orders.#", queue=orders), timeout=10
    )
    assert list(admin_stub.ListBindings(admin_pb2.ListBindingsRequest(queue=orders)).bindings) == []
    [r] = send(broker_stub, "", message("5", topic=f"{qname}.orders.x"), expect_ok=False)
    assert r.error.code == code(grpc.StatusCode.FAILED_PRECONDITION)


def test_binding_errors(admin_stub, qname):
    create_queue(admin_stub, qname)
    good = admin_pb2.CreateBindingRequest(pattern=f"{qname}.#", queue=qname)
    admin_stub.CreateBinding(good, timeout=10)
    assert rpc_code(admin_stub.CreateBinding, good) == grpc.StatusCode.ALREADY_EXISTS
    bad_pattern = admin_pb2.CreateBindingRequest(pattern="a..b", queue=qname)
    assert rpc_code(admin_stub.CreateBinding, bad_pattern) == grpc.StatusCode.INVALID_ARGUMENT
    no_queue = admin_pb2.CreateBindingRequest(pattern=f"{qname}.x", queue=f"{qname}-missing")
    assert rpc_code(admin_stub.CreateBinding, no_queue) == grpc.StatusCode.NOT_FOUND
    gone = admin_pb2.DeleteBindingRequest(pattern=f"{qname}.nothing", queue=qname)
    assert rpc_code(admin_stub.DeleteBinding, gone) == grpc.StatusCode.NOT_FOUND


def test_delete_queue_removes_its_bindings(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    admin_stub.CreateBinding(admin_pb2.CreateBindingRequest(pattern=f"{qname}.#", queue=qname))
    admin_stub.DeleteQueue(admin_pb2.DeleteQueueRequest(queue=qname))
    listed = admin_stub.ListBindings(admin_pb2.ListBindingsRequest()).bindings
    assert all(b.queue != qname for b in listed)


# -- subscriptions ------------------------------------------------------------------------------


def _subs(admin_stub, queue: str) -> list[types_pb2.Subscription]:
    req = admin_pb2.ListSubscriptionsRequest(queue=queue)
    return list(admin_stub.ListSubscriptions(req, timeout=10).subscriptions)


def test_list_and_delete_subscriptions(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    send(broker_stub, qname, message("x", topic="jobs.a"))
    [held] = pull(broker_stub, qname, "alpha", filter_="jobs.*", wait=1, lease=30)
    assert pull(broker_stub, qname, "beta", wait=0) == []

    subs = _subs(admin_stub, qname)
    assert [s.name for s in subs] == ["alpha", "beta"]
    alpha, beta = subs
    assert (alpha.queue, alpha.filter, alpha.in_flight) == (qname, "jobs.*", 1)
    assert (beta.filter, beta.in_flight) == ("#", 0)
    assert alpha.create_time.seconds > 0
    assert stats(admin_stub, qname).subscriptions == 2

    # Deleting alpha returns its in-flight delivery: beta can take the message now.
    admin_stub.DeleteSubscription(
        admin_pb2.DeleteSubscriptionRequest(queue=qname, subscription="alpha"), timeout=10
    )
    assert [s.name for s in _subs(admin_stub, qname)] == ["beta"]
    got = pull(broker_stub, qname, "beta", wait=2)
    assert [d.message.id for d in got] == [held.message.id], "in-flight delivery not returned"
    again = got[0]
    assert ack(broker_stub, [held.ack_id]) == [held.ack_id]
    assert ack(broker_stub, [again.ack_id]) == []

    gone = admin_pb2.DeleteSubscriptionRequest(queue=qname, subscription="alpha")
    assert rpc_code(admin_stub.DeleteSubscription, gone) == grpc.StatusCode.NOT_FOUND
    missing = admin_pb2.ListSubscriptionsRequest(queue=f"{qname}-missing")
    assert rpc_code(admin_stub.ListSubscriptions, missing) == grpc.StatusCode.NOT_FOUND


# -- stats and peek -----------------------------------------------------------------------------


def test_queue_stats_fields(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    send(broker_stub, qname, "m1", "m2", "m3", message("m4", delay=30))
    s = stats(admin_stub, qname)
    assert (s.ready, s.delayed, s.in_flight, s.depth, s.sent) == (3, 1, 0, 4, 4)
    assert s.delivered == s.acked == s.nacked == s.redelivered == 0

    d1, d2 = pull(broker_stub, qname, max_messages=2, wait=1, lease=30)
    assert ack(broker_stub, [d1.ack_id]) == []
    s = stats(admin_stub, qname)
    assert (s.ready, s.delayed, s.in_flight, s.depth) == (1, 1, 1, 3)
    assert (s.delivered, s.acked, s.nacked, s.redelivered) == (2, 1, 0, 0)
    assert s.subscriptions == 1
    assert secs(s.oldest_age) > 0

    assert nack(broker_stub, [d2.ack_id]) == []
    got = pull(broker_stub, qname, max_messages=10, wait=1)
    assert sorted(payloads(got)) == ["m2", "m3"]
    s = stats(admin_stub, qname)
    assert (s.delivered, s.acked, s.nacked, s.redelivered, s.in_flight) == (4, 1, 1, 1, 2)
    missing = admin_pb2.GetQueueStatsRequest(queue=f"{qname}-missing")
    assert rpc_code(admin_stub.GetQueueStats, missing) == grpc.StatusCode.NOT_FOUND


def test_peek_reads_without_changing_state(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    ids = [r.message_id for r in send(broker_stub, qname, "p1", "p2", "p3")]
    before = stats(admin_stub, qname)

    peeked = peek(admin_stub, qname)
    assert [p.message.id for p in peeked] == ids
    assert [p.message.payload for p in peeked] == [b"p1", b"p2", b"p3"]
    assert all(p.state == MS.MESSAGE_STATE_PENDING and p.attempts == 0 for p in peeked)
    assert all(p.message.queue == qname for p in peeked)
    assert [p.message.id for p in peek(admin_stub, qname, max_messages=2)] == ids[:2]
    assert peek(admin_stub, qname) == peeked  # peeking twice changes nothing

    after = stats(admin_stub, qname)
    assert (after.ready, after.delivered, after.in_flight) == (before.ready, 0, 0)

    got = pull(broker_stub, qname, max_messages=10, wait=1)
    assert [d.message.id for d in got] == ids
    assert all(d.attempt == 1 for d in got)
    peeked = peek(admin_stub, qname)
    assert all(p.state == MS.MESSAGE_STATE_IN_FLIGHT and p.attempts == 1 for p in peeked)
    assert ack(broker_stub, [d.ack_id for d in got]) == []
    assert peek(admin_stub, qname) == []
