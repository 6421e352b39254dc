"""The console's JSON API on a real server (``serve --http-listen``), without a browser: every
endpoint's success and error cases, checked against what gRPC says of the same state, and
errors carrying the gRPC call's own message and code."""

from __future__ import annotations

import base64
import json
import pathlib
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from console_helpers import TIMEOUT, TOKENS, Http, auth_file, start_console
from rpc_helpers import create_queue, dur, message, peek, pull, send, stats
from server_helpers import ServerProcess

from broker.console import STATIC
from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2


@pytest.fixture
def http(server: ServerProcess) -> Http:
    return Http(server)


def same_error(answer: tuple[int, Any], status: int, rpc: Callable[[], object]) -> str:
    """The HTTP answer is ``status`` with the message and code the gRPC call fails with."""
    code, body = answer
    with pytest.raises(grpc.RpcError) as failed:
        rpc()
    assert (code, body) == (
        status,
        {"error": failed.value.details(), "code": failed.value.code().name},
    )
    return str(body["error"])


# -- pages and static files ------------------------------------------------------------------


def test_the_page_and_its_modules_are_served_from_the_package_with_a_same_origin_policy(
    http: Http,
) -> None:
    status, headers, body = http.raw("GET", "/")
    assert status == 200
    assert b'<script type="module" src="/console/app.js">' in body
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for name in ("app.js", "lib.js", "overview.js", "queue.js", "charts.js", "style.css"):
        status, headers, body = http.raw("GET", f"/console/{name}")
        assert status == 200, name
        assert body == (STATIC / name).read_bytes()
    assert http.raw("GET", "/console/nothing.js")[0] == 404


def test_no_static_file_names_another_host() -> None:
    """No external network requests: the only absolute URL in the pages is the SVG namespace
    (an identifier, never fetched)."""
    for path in STATIC.iterdir():
        urls = set(re.findall(r"\w+://[^\s\"'`)]+", path.read_text()))
        assert urls <= {"http://www.w3.org/2000/svg"}, (path.name, urls)


def test_whoami_and_server_state(http: Http, admin_stub: admin_pb2_grpc.AdminStub) -> None:
    assert http.get("/whoami") == {"principal": "", "auth": False}
    create_queue(admin_stub, "server-state")
    info = http.get("/server")
    assert info["health"] == "SERVING"
    assert info["storage"] == "wal"
    assert info["wal_bytes"] > 0
    assert info["uptime_s"] >= 0
    assert info["last_checkpoint"] is None  # none taken yet on a fresh data directory


# -- queues ------------------------------------------------------------------------------------


def test_create_list_get_and_delete_a_queue(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub
) -> None:
    status, body = http.call("POST", "/queues", {"name": "made-here"})
    assert status == 201
    assert body["queue"]["name"] == "made-here"
    assert body["queue"]["lease"] == "30s"
    got = admin_stub.GetQueue(admin_pb2.GetQueueRequest(queue="made-here"), timeout=TIMEOUT)
    assert got.queue.kind == types_pb2.QUEUE_KIND_STANDARD
    (row,) = [r for r in http.get("/queues")["queues"] if r["queue"]["name"] == "made-here"]
    assert row["stats"]["depth"] == 0
    assert row["history"][-1]["depth"] == 0  # the sparkline's samples, taken as pages look
    one = http.get("/queues/made-here")
    assert one["bindings"] == []
    assert one["subscriptions"] == []
    assert one["stats"]["ready"] == 0
    status, body = http.call("DELETE", "/queues/made-here")
    assert (status, body) == (200, {"messages_deleted": 0})
    assert "made-here" not in [row["queue"]["name"] for row in http.get("/queues")["queues"]]


def test_queue_errors_are_the_admin_services(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub
) -> None:
    create_queue(admin_stub, "taken")
    same_error(
        http.call("POST", "/queues", {"name": "taken"}),
        409,
        lambda: create_queue(admin_stub, "taken"),
    )
    same_error(
        http.call("POST", "/queues", {"lease": "5s"}),
        400,
        lambda: admin_stub.CreateQueue(
            admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(lease=dur(5))), timeout=TIMEOUT
        ),
    )
    same_error(
        http.call("GET", "/queues/no-such-queue"),
        404,
        lambda: admin_stub.GetQueue(
            admin_pb2.GetQueueRequest(queue="no-such-queue"), timeout=TIMEOUT
        ),
    )
    same_error(
        http.call("DELETE", "/queues/no-such-queue"),
        404,
        lambda: admin_stub.DeleteQueue(
            admin_pb2.DeleteQueueRequest(queue="no-such-queue"), timeout=TIMEOUT
        ),
    )
    status, body = http.call("POST", "/queues", {"name": "x", "lease": "soon"})
    assert status == 400
    assert body["code"] == "INVALID_ARGUMENT"
    assert "lease" in body["error"]
    status, _, raw = http.raw("POST", "/api/queues", b"{not json")
    assert (status, json.loads(raw)["error"]) == (400, "the request body is not JSON")


def test_only_json_changes_anything(
    http: Http,
    server: ServerProcess,
    admin_stub: admin_pb2_grpc.AdminStub,
    broker_stub: broker_pb2_grpc.BrokerStub,
) -> None:
    """What a form on another site could post (no preflight) is refused before it acts."""
    create_queue(admin_stub, "kept")
    send(broker_stub, "kept", "stay")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        request = urllib.request.Request(
            f"{http.base}/api/queues/kept/purge", data=b"{}", method="POST", headers=headers
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=TIMEOUT)
        assert refused.value.code == 415
        refused.value.close()
    assert stats(admin_stub, "kept").ready == 1


def test_update_queue_changes_what_the_mask_names_and_refuses_bad_values(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub
) -> None:
    create_queue(admin_stub, "tunable", lease=30, max_deliveries=3)
    status, body = http.call(
        "PATCH",
        "/queues/tunable",
        {"queue": {"lease": "12.5s", "max_deliveries": 9}, "update_mask": ["lease"]},
    )
    assert status == 200, body
    got = admin_stub.GetQueue(admin_pb2.GetQueueRequest(queue="tunable"), timeout=TIMEOUT).queue
    assert (got.lease.ToMilliseconds(), got.max_deliveries) == (12500, 3)

    def grpc_update(q: types_pb2.Queue, paths: list[str]) -> Callable[[], object]:
        req = admin_pb2.UpdateQueueRequest(queue=q)
        req.update_mask.paths.extend(paths)
        return lambda: admin_stub.UpdateQueue(req, timeout=TIMEOUT)

    message_ = same_error(
        http.call("PATCH", "/queues/tunable", {"queue": {"lease": "0s"}, "update_mask": ["lease"]}),
        400,
        grpc_update(types_pb2.Queue(name="tunable", lease=dur(0)), ["lease"]),
    )
    assert message_.startswith("lease must be positive")
    same_error(
        http.call(
            "PATCH",
            "/queues/tunable",
            {"queue": {"dead_letter_queue": "nowhere"}, "update_mask": ["dead_letter_queue"]},
        ),
        412,
        grpc_update(
            types_pb2.Queue(name="tunable", dead_letter_queue="nowhere"), ["dead_letter_queue"]
        ),
    )
    same_error(
        http.call("PATCH", "/queues/tunable", {"queue": {}, "update_mask": ["name"]}),
        400,
        grpc_update(types_pb2.Queue(name="tunable"), ["name"]),
    )
    same_error(
        http.call("PATCH", "/queues/nope", {"queue": {"lease": "1s"}, "update_mask": ["lease"]}),
        404,
        grpc_update(types_pb2.Queue(name="nope", lease=dur(1)), ["lease"]),
    )
    flag = {"queue": {"dedup_by_content": True}, "update_mask": ["dedup_by_content"]}
    assert http.call("PATCH", "/queues/tunable", flag)[1]["queue"]["dedup_by_content"] is True
    got = admin_stub.GetQueue(admin_pb2.GetQueueRequest(queue="tunable"), timeout=TIMEOUT).queue
    assert got.dedup_by_content
    status, body = http.call("PATCH", "/queues/tunable", {"queue": {}, "update_mask": "lease"})
    assert (status, body["error"]) == (400, "update_mask must be a list of field names")
    got = admin_stub.GetQueue(admin_pb2.GetQueueRequest(queue="tunable"), timeout=TIMEOUT).queue
    assert got.lease.ToMilliseconds() == 12500  # the refusals changed nothing


def test_purge_removes_waiting_messages(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub, broker_stub: broker_pb2_grpc.BrokerStub
) -> None:
    create_queue(admin_stub, "purgeable")
    send(broker_stub, "purgeable", "a", "b", "c")
    assert http.post("/queues/purgeable/purge") == {"purged": 3}
    assert stats(admin_stub, "purgeable").ready == 0
    same_error(
        http.call("POST", "/queues/gone/purge", {}),
        404,
        lambda: admin_stub.PurgeQueue(admin_pb2.PurgeQueueRequest(queue="gone"), timeout=TIMEOUT),
    )


def test_pause_and_resume(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub, broker_stub: broker_pb2_grpc.BrokerStub
) -> None:
    create_queue(admin_stub, "pausable")
    send(broker_stub, "pausable", "held back")
    assert http.post("/queues/pausable/pause") == {"changed": True}
    assert http.post("/queues/pausable/pause") == {"changed": False}
    assert stats(admin_stub, "pausable").paused
    assert pull(broker_stub, "pausable", "s") == []  # nothing is delivered while paused
    assert http.get("/queues/pausable")["stats"]["paused"] is True
    assert http.post("/queues/pausable/resume") == {"changed": True}
    assert not stats(admin_stub, "pausable").paused
    assert len(pull(broker_stub, "pausable", "s")) == 1
    for verb in ("pause", "resume"):
        rpc = getattr(admin_stub, f"{verb.title()}Queue")
        request = getattr(admin_pb2, f"{verb.title()}QueueRequest")(queue="no-such")
        same_error(
            http.call("POST", f"/queues/no-such/{verb}", {}),
            404,
            lambda rpc=rpc, request=request: rpc(request, timeout=TIMEOUT),
        )


def test_the_overview_carries_the_servers_rates_and_lag(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub, broker_stub: broker_pb2_grpc.BrokerStub
) -> None:
    create_queue(admin_stub, "rated")
    send(broker_stub, "rated", "a", "b", "c")
    pull(broker_stub, "rated", "s", max_messages=1)
    (row,) = [r for r in http.get("/queues?prefix=rated")["queues"]]
    listed = admin_stub.ListQueueStats(
        admin_pb2.ListQueueStatsRequest(prefix="rated"), timeout=TIMEOUT
    ).queues[0]
    # Compared as counts (rate x the span it covers): just after the start the span grows
    # between the two reads, so the rates themselves drift apart.
    over_http = row["stats"]["rates_1m"]
    http_sent = over_http["sent"] * float(over_http["window"].rstrip("s"))
    grpc_sent = listed.rates_1m.sent * listed.rates_1m.window.ToTimedelta().total_seconds()
    assert http_sent == pytest.approx(grpc_sent, rel=0.5)
    assert row["stats"]["rates_1m"]["sent"] > 0
    assert row["history"][-1]["rates"]["sent"] == row["stats"]["rates_1m"]["sent"]
    lag = http.get("/queues/rated")["stats"]["subscription_lag"]
    assert [(x["subscription"], x["ready"], x["in_flight"]) for x in lag] == [("s", 2, 1)]


def test_bindings_and_subscriptions(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub, broker_stub: broker_pb2_grpc.BrokerStub
) -> None:
    create_queue(admin_stub, "bound")
    status, body = http.call("POST", "/queues/bound/bindings", {"pattern": "shop.*.paid"})
    assert (status, body) == (201, {"binding": {"pattern": "shop.*.paid", "queue": "bound"}})
    listed = admin_stub.ListBindings(admin_pb2.ListBindingsRequest(queue="bound"), timeout=TIMEOUT)
    assert [(b.pattern, b.queue) for b in listed.bindings] == [("shop.*.paid", "bound")]
    assert http.get("/queues/bound")["bindings"] == [{"pattern": "shop.*.paid", "queue": "bound"}]
    same_error(
        http.call("POST", "/queues/bound/bindings", {"pattern": "shop..paid"}),
        400,
        lambda: admin_stub.CreateBinding(
            admin_pb2.CreateBindingRequest(pattern="shop..paid", queue="bound"), timeout=TIMEOUT
        ),
    )
    assert http.call("DELETE", "/queues/bound/bindings?pattern=shop.*.paid") == (200, {})
    same_error(
        http.call("DELETE", "/queues/bound/bindings?pattern=shop.*.paid"),
        404,
        lambda: admin_stub.DeleteBinding(
            admin_pb2.DeleteBindingRequest(pattern="shop.*.paid", queue="bound"), timeout=TIMEOUT
        ),
    )
    send(broker_stub, "bound", "one")
    pull(broker_stub, "bound", "workers", max_messages=1)
    subs = http.get("/queues/bound")["subscriptions"]
    assert [(s["name"], s["filter"], s["in_flight"]) for s in subs] == [("workers", "#", 1)]
    assert http.call("DELETE", "/queues/bound/subscriptions/workers") == (200, {})
    same_error(
        http.call("DELETE", "/queues/bound/subscriptions/workers"),
        404,
        lambda: admin_stub.DeleteSubscription(
            admin_pb2.DeleteSubscriptionRequest(queue="bound", subscription="workers"),
            timeout=TIMEOUT,
        ),
    )


# -- messages ----------------------------------------------------------------------------------


def test_peek_filters_by_topic_and_state_and_changes_nothing(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub, broker_stub: broker_pb2_grpc.BrokerStub
) -> None:
    create_queue(admin_stub, "browsed")
    send(
        broker_stub,
        "browsed",
        message('{"n": 1}', topic="shop.eu.paid", attributes={"k": "v"}),
        message("two", topic="shop.us.paid"),
        message("three", topic="audit.login", delay=300),
        message("four", topic="shop.eu.refunded"),
    )
    pull(broker_stub, "browsed", "s", max_messages=1)  # the first one goes in flight
    before = stats(admin_stub, "browsed")
    everything = http.get("/queues/browsed/messages")["messages"]
    views = {m["message"]["topic"]: m["view"] for m in everything}
    assert views == {
        "shop.eu.paid": "in_flight",
        "shop.us.paid": "ready",
        "audit.login": "delayed",
        "shop.eu.refunded": "ready",
    }
    first = next(m for m in everything if m["view"] == "in_flight")
    assert base64.b64decode(first["message"]["payload"]) == b'{"n": 1}'
    assert first["message"]["attributes"] == {"k": "v"}
    assert first["attempts"] == 1
    topics = [
        m["message"]["topic"]
        for m in http.get("/queues/browsed/messages?topic=shop.*.paid")["messages"]
    ]
    assert topics == ["shop.eu.paid", "shop.us.paid"]
    delayed = http.get("/queues/browsed/messages?state=delayed")["messages"]
    assert [m["message"]["topic"] for m in delayed] == ["audit.login"]
    ready = http.get("/queues/browsed/messages?state=ready&topic=shop.%23")["messages"]
    assert [m["message"]["topic"] for m in ready] == ["shop.us.paid", "shop.eu.refunded"]
    assert len(http.get("/queues/browsed/messages?max_messages=2")["messages"]) == 2
    after = stats(admin_stub, "browsed")
    assert (after.ready, after.in_flight, after.delayed, after.delivered) == (
        before.ready,
        before.in_flight,
        before.delayed,
        before.delivered,
    )
    status, body = http.call("GET", "/queues/browsed/messages?state=gone")
    assert status == 400
    assert "state 'gone'" in body["error"]
    status, body = http.call("GET", "/queues/browsed/messages?topic=shop..x")
    assert status == 400
    assert body["code"] == "INVALID_ARGUMENT"
    same_error(
        http.call("GET", "/queues/browsed/messages?max_messages=5000"),
        400,
        lambda: peek(admin_stub, "browsed", 5000),
    )
    same_error(
        http.call("GET", "/queues/unknown-q/messages"),
        404,
        lambda: peek(admin_stub, "unknown-q"),
    )
    status, body = http.call("GET", "/queues/browsed/messages?max_messages=many")
    assert (status, body["error"]) == (400, "max_messages must be a whole number, got 'many'")


def test_status_watch_and_cancel(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub, broker_stub: broker_pb2_grpc.BrokerStub
) -> None:
    create_queue(admin_stub, "followed")
    mid = send(broker_stub, "followed", "tracked")[0].message_id
    status = http.get(f"/queues/followed/messages/{mid}")["status"]
    assert (status["state"], status["attempts"]) == ("MESSAGE_STATE_PENDING", 0)
    same_error(
        http.call("GET", "/queues/followed/messages/ffff"),
        404,
        lambda: broker_stub.GetMessageStatus(
            broker_pb2.GetMessageStatusRequest(queue="followed", message_id="ffff"),
            timeout=TIMEOUT,
        ),
    )
    url = f"{http.base}/api/queues/followed/messages/{mid}/watch"
    with urllib.request.urlopen(url, timeout=TIMEOUT) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        events = _events(stream)
        assert next(events)[0] == "status"
        delivery = pull(broker_stub, "followed", "s", max_messages=1)[0]
        assert next(events)[1]["state"] == "MESSAGE_STATE_IN_FLIGHT"
        broker_stub.Ack(broker_pb2.AckRequest(ack_ids=[delivery.ack_id]), timeout=TIMEOUT)
        name, last = next(events)
        assert (name, last["state"]) == ("status", "MESSAGE_STATE_DELIVERED")
        assert next(events)[0] == "end"
    same_error(
        http.call("GET", "/queues/followed/messages/ffff/watch"),
        404,
        lambda: list(
            broker_stub.WatchMessage(
                broker_pb2.WatchMessageRequest(queue="followed", message_id="ffff"),
                timeout=TIMEOUT,
            )
        ),
    )
    waiting = send(broker_stub, "followed", message("later", delay=600))[0].message_id
    cancelled = http.post(f"/queues/followed/messages/{waiting}/cancel")["status"]
    assert cancelled["state"] == "MESSAGE_STATE_CANCELLED"
    assert stats(admin_stub, "followed").delayed == 0
    same_error(
        http.call("POST", "/queues/followed/messages/ffff/cancel", {}),
        404,
        lambda: broker_stub.CancelMessage(
            broker_pb2.CancelMessageRequest(queue="followed", message_id="ffff"), timeout=TIMEOUT
        ),
    )


def _events(stream: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Server-sent events as (name, data), skipping keep-alive comments."""
    name = ""
    for raw in stream:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            yield name, json.loads(line[6:])


def test_dead_letters_and_redrive(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub, broker_stub: broker_pb2_grpc.BrokerStub
) -> None:
    create_queue(admin_stub, "work-dlq")
    create_queue(admin_stub, "work-other")
    create_queue(admin_stub, "work", dead_letter_queue="work-dlq")
    send(broker_stub, "work", "p1", "p2", "p3")
    deliveries = pull(broker_stub, "work", "s", max_messages=3)
    broker_stub.Nack(
        broker_pb2.NackRequest(
            ack_ids=[d.ack_id for d in deliveries], dead_letter=True, reason="bad input"
        ),
        timeout=TIMEOUT,
    )
    dead = http.get("/queues/work-dlq/dead-letters")["messages"]
    assert [d["dead_letter"]["reason"] for d in dead] == ["bad input"] * 3
    assert {d["dead_letter"]["reason_code"] for d in dead} == {"DEAD_LETTER_REASON_NACKED"}
    by = "/queues/work-dlq/dead-letters?reason=DEAD_LETTER_REASON_EXPIRED"
    assert http.get(by)["messages"] == []
    assert len(http.get("/queues/work-dlq/dead-letters?source_queue=work")["messages"]) == 3
    assert http.get("/queues/work-dlq/dead-letters?source_queue=elsewhere")["messages"] == []
    assert {d["dead_letter"]["source_queue"] for d in dead} == {"work"}
    assert [d["dead_letter"]["attempts"] for d in dead] == [1, 1, 1]
    assert http.post("/queues/work-dlq/redrive", {"max_messages": 1}) == {
        "redriven": 1,
        "skipped": 0,
    }
    assert stats(admin_stub, "work").ready == 1
    moved = http.post(
        "/queues/work-dlq/redrive", {"destination": "work-other", "reset_attempts": True}
    )
    assert moved["redriven"] == 2
    assert stats(admin_stub, "work-other").ready == 2
    again = pull(broker_stub, "work-other", "s", max_messages=2)
    assert [d.attempt for d in again] == [1, 1]  # the counts started afresh
    assert stats(admin_stub, "work-dlq").ready == 0
    same_error(
        http.call("POST", "/queues/work-dlq/redrive", {"destination": "missing"}),
        404,
        lambda: admin_stub.RedriveDeadLetters(
            admin_pb2.RedriveDeadLettersRequest(queue="work-dlq", destination="missing"),
            timeout=TIMEOUT,
        ),
    )
    same_error(
        http.call("GET", "/queues/missing/dead-letters"),
        404,
        lambda: admin_stub.ListDeadLetters(
            admin_pb2.ListDeadLettersRequest(queue="missing"), timeout=TIMEOUT
        ),
    )
    status, body = http.call("GET", "/queues/work-dlq/dead-letters?reason=SOMETHING")
    assert (status, body["code"]) == (400, "INVALID_ARGUMENT")
    status, body = http.call("POST", "/queues/work-dlq/redrive", {"max_messages": "x"})
    assert status == 400
    assert body["code"] == "INVALID_ARGUMENT"


def test_send_to_a_queue_or_by_topic(
    http: Http, admin_stub: admin_pb2_grpc.AdminStub, broker_stub: broker_pb2_grpc.BrokerStub
) -> None:
    create_queue(admin_stub, "inbox")
    admin_stub.CreateBinding(
        admin_pb2.CreateBindingRequest(pattern="mail.#", queue="inbox"), timeout=TIMEOUT
    )
    payload = base64.b64encode("héllo".encode()).decode()
    body = http.post(
        "/send",
        {
            "queue": "inbox",
            "message": {"payload": payload, "attributes": {"a": "1"}, "delay": "60s"},
        },
    )
    mid = body["results"][0]["message_id"]
    assert mid
    assert "error" not in body["results"][0]
    assert stats(admin_stub, "inbox").delayed == 1
    seen = peek(admin_stub, "inbox")
    assert (seen[0].message.id, seen[0].message.payload, dict(seen[0].message.attributes)) == (
        mid,
        "héllo".encode(),
        {"a": "1"},
    )
    routed = http.post("/send", {"message": {"topic": "mail.new", "payload": payload}})
    assert routed["results"][0]["queues"] == ["inbox"]
    assert stats(admin_stub, "inbox").ready == 1
    nowhere = http.post("/send", {"message": {"topic": "nobody.listens"}})["results"][0]
    grpc_result = send(broker_stub, "", message("", topic="nobody.listens"), expect_ok=False)[0]
    assert (nowhere["error"]["message"], nowhere["error"]["code"]) == (
        grpc_result.error.message,
        grpc_result.error.code,
    )
    assert nowhere["error"]["status"] in (404, 412)
    status, body = http.call(
        "POST", "/send", {"queue": "inbox", "message": {"guarantee": "SOMETIMES"}}
    )
    assert status == 400
    assert body["code"] == "INVALID_ARGUMENT"
    status, body = http.call("POST", "/send", {"queue": "inbox", "message": {"topic": "a..b"}})
    assert status == 200
    assert body["results"][0]["error"]["status"] == 400


# -- auth ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder: pathlib.Path = tmp_path_factory.mktemp("console-auth")
    srv = start_console(folder / "data", "--auth-file", str(auth_file(folder)))
    try:
        yield srv
    finally:
        srv.stop()


def test_with_an_auth_file_the_api_needs_an_admin_token(guarded: ServerProcess) -> None:
    http = Http(guarded)
    status, body = http.call("GET", "/queues")
    assert (status, body["code"]) == (401, "UNAUTHENTICATED")
    status, body = http.call("GET", "/queues", token="not-a-token")
    assert (status, body) == (
        401,
        {"error": "the token is not known to this server", "code": "UNAUTHENTICATED"},
    )
    status, body = http.call("GET", "/whoami", token=TOKENS["sender"])
    assert (status, body) == (
        403,
        {"error": "principal 'sender' may not admin any queue", "code": "PERMISSION_DENIED"},
    )
    status, body = http.call("POST", "/queues", {"name": "guarded-q"}, token=TOKENS["sender"])
    assert status == 403
    admin = Http(guarded, TOKENS["admin"])
    assert admin.get("/whoami") == {"principal": "admin", "auth": True}
    assert admin.call("POST", "/queues", {"name": "guarded-q"})[0] == 201
    assert [r["queue"]["name"] for r in admin.get("/queues")["queues"]] == ["guarded-q"]
    assert Http(guarded).raw("GET", "/")[0] == 200  # the page itself is public: it asks for a token
    status, _, raw = Http(guarded).raw("POST", "/api/queues", b"{not json")
    assert (status, json.loads(raw)["code"]) == (401, "UNAUTHENTICATED")  # who first, then what
    orders = Http(guarded, TOKENS["orders"])
    assert orders.call("POST", "/queues", {"name": "orders-eu"})[0] == 201
    assert orders.get("/queues/orders-eu")["queue"]["name"] == "orders-eu"
    status, body = orders.call("POST", "/queues", {"name": "billing"})
    assert (status, body["error"]) == (403, "principal 'orders' may not admin on queue 'billing'")
    assert "guarded-q" not in [r["queue"]["name"] for r in orders.get("/queues")["queues"]]
    status, body = orders.call(
        "POST", "/queues/orders-eu/redrive", {"destination": "guarded-q"}
    )  # both queues of a redrive are checked
    assert (status, body["code"]) == (403, "PERMISSION_DENIED")
    sent = orders.post("/send", {"queue": "orders-eu", "message": {"payload": ""}})
    assert sent["results"][0]["message_id"]
    assert orders.call("POST", "/send", {"message": {"topic": "billing.x"}})[0] == 403
    for token in TOKENS.values():
        assert token not in "".join(guarded.output)


def test_an_open_watch_ends_when_the_server_stops(tmp_path: pathlib.Path) -> None:
    """A browser watching a message must not hold up a graceful shutdown."""
    srv = start_console(tmp_path / "data")
    try:
        with grpc.insecure_channel(srv.address) as ch:
            create_queue(admin_pb2_grpc.AdminStub(ch), "watched")
            mid = send(broker_pb2_grpc.BrokerStub(ch), "watched", "x")[0].message_id
        url = f"http://{srv.http_address}/api/queues/watched/messages/{mid}/watch"
        with urllib.request.urlopen(url, timeout=TIMEOUT) as stream:
            events = _events(stream)
            assert next(events)[0] == "status"
            assert srv.stop(timeout=TIMEOUT) == 0  # not killed after the timeout
            assert list(events) == []  # the stream ended
    finally:
        srv.stop()


def test_the_overview_lists_the_queues_the_principal_may_administer(
    guarded: ServerProcess,
) -> None:
    admin = Http(guarded, TOKENS["admin"])
    for name in ("orders.eu", "orders.us", "billing.eu", "billing.us", "inventory"):
        assert admin.call("POST", "/queues", {"name": name})[0] == 201
    admin.post("/send", {"queue": "orders.eu", "message": {"payload": ""}})
    admin.post("/send", {"queue": "orders.eu", "message": {"payload": ""}})
    everything = [r["queue"]["name"] for r in admin.get("/queues")["queues"]]
    assert {"orders.eu", "billing.us", "inventory"} <= set(everything)

    ops = Http(guarded, TOKENS["ops"])
    assert ops.get("/whoami") == {"principal": "ops", "auth": True}
    assert ops.get("/server")["health"] == "SERVING"
    rows = {r["queue"]["name"]: r for r in ops.get("/queues")["queues"]}
    # admin on orders.* and billing.eu; receive on every queue shows none of the others
    assert sorted(rows) == ["billing.eu", "orders.eu", "orders.us"]
    assert rows["orders.eu"]["stats"]["ready"] == 2
    assert len(rows["orders.eu"]["history"]) >= 1
    assert [r["queue"]["name"] for r in ops.get("/queues?prefix=orders")["queues"]] == [
        "orders.eu",
        "orders.us",
    ]
    status, body = ops.call("GET", "/queues/inventory")
    assert (status, body["error"]) == (403, "principal 'ops' may not admin on queue 'inventory'")

    orders = Http(guarded, TOKENS["orders"])  # admin on orders* (orders-eu and orders.eu alike)
    seen = [r["queue"]["name"] for r in orders.get("/queues")["queues"]]
    assert seen == [n for n in everything if n.startswith("orders")]

    sender = Http(guarded, TOKENS["sender"])  # no admin grant at all: refused, as before
    for path in ("/queues", "/server", "/whoami"):
        status, body = sender.call("GET", path)
        assert (status, body["code"]) == (403, "PERMISSION_DENIED"), path
