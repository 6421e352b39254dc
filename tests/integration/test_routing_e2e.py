"""Routing by topic through bindings, end to end: Send with an empty queue, wildcards, no-match
reporting, and pattern validation at CreateBinding.

Bindings are global to a server, so this module keeps topics of different tests apart: only the
first test uses the bare `user.*`, `*.alert.*`, `orders.#` patterns; the others use a prefix
unique to the test.
"""

from __future__ import annotations

import grpc
import pytest
from google.rpc import code_pb2
from rpc_helpers import create_queue, pull, rpc_code, stats
from stream_helpers import rpc_error, unique

from conveyor.v1 import admin_pb2, broker_pb2, types_pb2


def bind(admin_stub, pattern: str, queue: str) -> None:
    resp = admin_stub.CreateBinding(
        admin_pb2.CreateBindingRequest(pattern=pattern, queue=queue), timeout=5
    )
    assert (resp.binding.pattern, resp.binding.queue) == (pattern, queue)


def route(broker_stub, topics: list[str]) -> list[broker_pb2.SendResult]:
    resp = broker_stub.Send(
        broker_pb2.SendRequest(
            queue="", messages=[types_pb2.Message(topic=t, payload=t.encode()) for t in topics]
        ),
        timeout=5,
    )
    assert len(resp.results) == len(topics)
    return list(resp.results)


def topics_in(broker_stub, queue: str) -> list[str]:
    return sorted(d.message.topic for d in pull(broker_stub, queue, "s", max_messages=100))


def test_wildcard_bindings_route_to_every_matching_queue(broker_stub, admin_stub):
    users, alerts, orders = (unique(n) for n in ("users", "alerts", "orders"))
    for q in (users, alerts, orders):
        create_queue(admin_stub, q)
    bind(admin_stub, "user.*", users)
    bind(admin_stub, "*.alert.*", alerts)
    bind(admin_stub, "orders.#", orders)
    bind(admin_stub, "orders.eu.*", alerts)

    topics = [
        "user.login",  # users
        "system.alert.critical",  # alerts
        "orders",  # orders: `#` matches zero segments
        "orders.eu",  # orders
        "orders.eu.created",  # orders and alerts (orders.eu.*)
        "user.alert.x",  # alerts only: `user.*` needs exactly two segments
    ]
    results = route(broker_stub, topics)
    expected = {
        "user.login": {users},
        "system.alert.critical": {alerts},
        "orders": {orders},
        "orders.eu": {orders},
        "orders.eu.created": {orders, alerts},
        "user.alert.x": {alerts},
    }
    for topic, r in zip(topics, results, strict=True):
        assert not r.HasField("error"), (topic, r.error)
        assert set(r.queues) == expected[topic], topic
        assert len(r.queues) == len(expected[topic])
        assert r.message_id
        if len(r.queues) > 1:
            assert len(r.message_ids) == len(r.queues)
            assert len(set(r.message_ids)) == len(r.message_ids)
            assert r.message_id in r.message_ids

    assert topics_in(broker_stub, users) == ["user.login"]
    assert topics_in(broker_stub, alerts) == [
        "orders.eu.created",
        "system.alert.critical",
        "user.alert.x",
    ]
    assert topics_in(broker_stub, orders) == ["orders", "orders.eu", "orders.eu.created"]
    assert (stats(admin_stub, users).sent, stats(admin_stub, alerts).sent) == (1, 3)
    assert stats(admin_stub, orders).sent == 3

    listed = admin_stub.ListBindings(admin_pb2.ListBindingsRequest(queue=alerts), timeout=5)
    assert sorted(b.pattern for b in listed.bindings) == ["*.alert.*", "orders.eu.*"]


def test_unrouted_topic_fails_alone(broker_stub, admin_stub):
    p = unique("rt").replace("-", "_")
    q = unique("routed")
    create_queue(admin_stub, q)
    bind(admin_stub, f"{p}.user.*", q)
    topics = [f"{p}.user.login", f"{p}.nomatch.here", f"{p}.user.logout", f"{p}.user.a.b"]
    results = route(broker_stub, topics)
    ok = [results[0], results[2]]
    for r in ok:
        assert not r.HasField("error")
        assert list(r.queues) == [q]
    for r, topic in ((results[1], topics[1]), (results[3], topics[3])):
        assert r.HasField("error")
        assert r.error.code == code_pb2.FAILED_PRECONDITION
        assert topic in r.error.message
        assert not r.message_id
        assert list(r.queues) == []
    got = pull(broker_stub, q, "s", max_messages=10)
    assert sorted(d.message.id for d in got) == sorted(r.message_id for r in ok)
    assert stats(admin_stub, q).sent == 2


def test_route_without_topic_is_invalid(broker_stub, admin_stub):
    p = unique("rt").replace("-", "_")
    q = unique("routed")
    create_queue(admin_stub, q)
    bind(admin_stub, f"{p}.#", q)
    results = route(broker_stub, ["", f"{p}.ok", "a..b"])
    assert results[0].error.code == code_pb2.INVALID_ARGUMENT
    assert not results[1].HasField("error")
    assert results[2].error.code == code_pb2.INVALID_ARGUMENT
    assert [d.message.topic for d in pull(broker_stub, q, "s", max_messages=10)] == [f"{p}.ok"]


def test_deleted_binding_stops_routing(broker_stub, admin_stub):
    p = unique("rt").replace("-", "_")
    q = unique("routed")
    create_queue(admin_stub, q)
    bind(admin_stub, f"{p}.*", q)
    assert not route(broker_stub, [f"{p}.a"])[0].HasField("error")
    code = rpc_code(
        lambda: admin_stub.CreateBinding(
            admin_pb2.CreateBindingRequest(pattern=f"{p}.*", queue=q), timeout=5
        )
    )
    assert code == grpc.StatusCode.ALREADY_EXISTS
    admin_stub.DeleteBinding(admin_pb2.DeleteBindingRequest(pattern=f"{p}.*", queue=q), timeout=5)
    r = route(broker_stub, [f"{p}.b"])[0]
    assert r.error.code == code_pb2.FAILED_PRECONDITION
    assert stats(admin_stub, q).sent == 1


@pytest.mark.parametrize(
    "pattern", ["user.*x", "a..b", "orders.#b", ".a", "a.", "", "a b", "x" * 300, "a.$.b"]
)
def test_invalid_binding_pattern_is_invalid_argument(admin_stub, qname, pattern):
    create_queue(admin_stub, qname)
    err = rpc_error(
        lambda: admin_stub.CreateBinding(
            admin_pb2.CreateBindingRequest(pattern=pattern, queue=qname), timeout=5
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details()
    listed = admin_stub.ListBindings(admin_pb2.ListBindingsRequest(queue=qname), timeout=5)
    assert list(listed.bindings) == []


def test_binding_to_missing_queue_is_not_found(admin_stub, qname):
    code = rpc_code(
        lambda: admin_stub.CreateBinding(
            admin_pb2.CreateBindingRequest(pattern="nowhere.#", queue=qname), timeout=5
        )
    )
    assert code == grpc.StatusCode.NOT_FOUND
