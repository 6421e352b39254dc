"""The permission table covers every Broker and Admin method, and each rule asks for the
action and queue that docs/security.md says."""

from __future__ import annotations

import pytest

from broker.auth import parse_auth
from broker.service.access import RULES
from broker.service.handlers import WithBytes
from conveyor.v1 import admin_pb2, broker_pb2, types_pb2

SERVICES = [
    broker_pb2.DESCRIPTOR.services_by_name["Broker"],
    admin_pb2.DESCRIPTOR.services_by_name["Admin"],
]


def test_every_method_has_a_rule() -> None:
    methods = {f"/{s.full_name}/{m.name}" for s in SERVICES for m in s.methods}
    assert methods == set(RULES)


def _principal(actions: list[str], queues: list[str]):  # type: ignore[no-untyped-def]
    authority = parse_auth(
        {
            "principal": [
                {
                    "name": "p",
                    "subject": "CN=p",
                    "grant": [{"actions": actions, "queues": queues}],
                }
            ]
        }
    )
    principal = authority.by_subject("CN=p")
    assert principal is not None
    return principal


B, A = "/conveyor.v1.Broker/", "/conveyor.v1.Admin/"


@pytest.mark.parametrize(
    ("method", "request_", "allowed", "denied"),
    [
        (B + "Pull", broker_pb2.PullRequest(queue="q"), (["receive"], ["q"]), (["send"], ["q"])),
        (
            B + "Ack",
            broker_pb2.AckRequest(ack_ids=["q:1:0:ff", "q:2:0:aa"]),
            (["receive"], ["q"]),
            (["receive"], ["r"]),
        ),
        (
            B + "Nack",
            broker_pb2.NackRequest(ack_ids=["q:1:0:ff", "r:2:0:aa"]),
            (["receive"], ["q", "r"]),
            (["receive"], ["q"]),
        ),
        (
            B + "ModifyLease",
            broker_pb2.ModifyLeaseRequest(ack_ids=["junk", "q:1:0:ff"]),
            (["receive"], ["q"]),
            (["receive"], ["r"]),
        ),
        (
            B + "CancelMessage",
            broker_pb2.CancelMessageRequest(queue="q"),
            (["send"], ["q"]),
            (["receive"], ["q"]),
        ),
        (
            B + "GetMessageStatus",
            broker_pb2.GetMessageStatusRequest(queue="q"),
            (["receive"], ["q"]),
            (["admin"], ["q"]),
        ),
        (
            A + "RedriveDeadLetters",
            admin_pb2.RedriveDeadLettersRequest(queue="dlq", destination="q"),
            (["admin"], ["dlq", "q"]),
            (["admin"], ["dlq"]),
        ),
        (
            A + "ListQueues",
            admin_pb2.ListQueuesRequest(prefix="q"),
            (["admin"], ["orders.*"]),
            (["send", "receive"], ["*"]),
        ),
        (
            A + "ListQueueStats",
            admin_pb2.ListQueueStatsRequest(),
            (["admin"], ["billing"]),
            (["receive"], ["*"]),
        ),
        (
            A + "ListBindings",
            admin_pb2.ListBindingsRequest(),
            (["admin"], ["orders.*"]),
            (["send"], ["*"]),
        ),
        (
            A + "ListBindings",
            admin_pb2.ListBindingsRequest(queue="orders.a"),
            (["admin"], ["orders.*"]),
            (["admin"], ["billing"]),
        ),
        (
            A + "UpdateQueue",
            admin_pb2.UpdateQueueRequest(queue=types_pb2.Queue(name="q")),
            (["admin"], ["q"]),
            (["admin"], ["r"]),
        ),
        (
            B + "StreamingReceive",
            broker_pb2.StreamingReceiveRequest(
                modify_leases=[broker_pb2.LeaseModification(ack_id="r:1:0:ff")]
            ),
            (["receive"], ["r"]),
            (["receive"], ["q"]),
        ),
    ],
)
def test_rules_ask_for_the_right_action_and_queue(  # type: ignore[no-untyped-def]
    method, request_, allowed, denied
) -> None:
    rule = RULES[method]
    assert rule(_principal(*allowed), request_) is None
    why = rule(_principal(*denied), request_)
    assert why is not None
    assert why.startswith("principal 'p' may not ")


def test_topic_sends_are_checked_per_topic() -> None:
    request = broker_pb2.SendRequest(
        messages=[types_pb2.Message(topic="orders.eu"), types_pb2.Message(topic="orders.us")]
    )
    wrapped = WithBytes(request.SerializeToString(), request)
    assert RULES[B + "Send"](_principal(["send"], ["orders.*"]), wrapped) is None
    why = RULES[B + "Send"](_principal(["send"], ["orders.eu"]), wrapped)
    assert why == "principal 'p' may not send on queue 'orders.us'"


def test_long_queue_names_are_cut_in_refusals() -> None:
    why = RULES[B + "Pull"](
        _principal(["receive"], ["q"]), broker_pb2.PullRequest(queue="x" * 5000)
    )
    assert why is not None
    assert len(why) < 300


@pytest.mark.parametrize("method", [A + "ListQueues", A + "ListQueueStats", A + "ListBindings"])
def test_listings_refuse_a_principal_with_no_admin_grant_naming_the_action(method: str) -> None:
    request = {
        A + "ListQueues": admin_pb2.ListQueuesRequest(),
        A + "ListQueueStats": admin_pb2.ListQueueStatsRequest(),
        A + "ListBindings": admin_pb2.ListBindingsRequest(),
    }[method]
    why = RULES[method](_principal(["send", "receive"], ["*"]), request)
    assert why == "principal 'p' may not admin on any queue"


def test_calls_naming_no_queue_that_are_not_listings_still_need_admin_on_every_queue() -> None:
    scoped = _principal(["admin"], ["orders.*"])
    why = RULES[A + "GetQueue"](scoped, admin_pb2.GetQueueRequest())
    assert why == "principal 'p' may not admin on queue '*'"
    assert RULES[A + "GetQueue"](_principal(["admin"], ["*"]), admin_pb2.GetQueueRequest()) is None
