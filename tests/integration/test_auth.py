"""Token auth and per-queue grants on a real server (``serve --auth-file``): every case of
who may do what, that refusals leave state alone, and that tokens stay out of the logs."""

from __future__ import annotations

import pathlib
import re
import signal
import time
from collections.abc import Iterator

import grpc
import pytest
from certs import Authority as CA
from click.testing import CliRunner
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from server_helpers import ServerProcess, start_server

from broker.auth import hash_token
from broker.cli import main
from conveyor.v1 import broker_pb2, broker_pb2_grpc, types_pb2
from conveyor_client import Client, PermissionDenied, Unauthenticated

TOKENS = {
    "admin": "tok-admin-4f1d9c",
    "producer": "tok-producer-77ab01",
    "consumer": "tok-consumer-19ee42",
    "billing": "tok-billing-5c5c5c",
    "topics": "tok-topics-a0a0a0",
    "ops": "tok-ops-e1e1e1",
}
TIMEOUT = 10.0


def auth_file(extra: str = "") -> str:
    t = {name: hash_token(token) for name, token in TOKENS.items()}
    return f"""
[[principal]]
name = "admin"
token_sha256 = "{t["admin"]}"
[[principal.grant]]
actions = ["admin", "send", "receive"]
queues = ["*"]

[[principal]]
name = "producer"
token_sha256 = "{t["producer"]}"
[[principal.grant]]
actions = ["send"]
queues = ["orders.*"]

[[principal]]
name = "consumer"
token_sha256 = "{t["consumer"]}"
[[principal.grant]]
actions = ["receive"]
queues = ["orders.*"]

[[principal]]
name = "billing"
token_sha256 = "{t["billing"]}"
[[principal.grant]]
actions = ["send", "receive"]
queues = ["billing"]

[[principal]]
name = "topics"
token_sha256 = "{t["topics"]}"
[[principal.grant]]
actions = ["send"]
queues = ["events.orders.*"]

[[principal]]
name = "ops"
token_sha256 = "{t["ops"]}"
[[principal.grant]]
actions = ["admin"]
queues = ["orders.*"]
[[principal.grant]]
actions = ["receive"]
queues = ["*"]
{extra}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("auth")
    (folder / "auth.toml").write_text(auth_file())
    return folder


@pytest.fixture(scope="module")
def server(files: pathlib.Path) -> Iterator[ServerProcess]:
    srv = start_server(
        files / "data", "--storage", "memory", "--auth-file", str(files / "auth.toml")
    )
    with Client(srv.address, token=TOKENS["admin"], timeout=TIMEOUT) as admin:
        for name in ("orders.a", "orders.b", "billing", "orders.t"):
            admin.create_queue(name)
        admin.bind("events.orders.#", "orders.t")
        admin.bind("events.billing.#", "billing")
    yield srv
    srv.stop()


def client(server: ServerProcess, who: str | None) -> Client:
    return Client(server.address, token=TOKENS[who] if who else None, timeout=TIMEOUT)


def msg(payload: bytes = b"x", topic: str = "") -> types_pb2.Message:
    return types_pb2.Message(payload=payload, topic=topic)


def depth(server: ServerProcess, queue: str) -> tuple[int, int, int]:
    with client(server, "admin") as admin:
        s = admin.stats(queue)
    return s.ready, s.in_flight, s.sent


def no_secret(text: str) -> None:
    for token in TOKENS.values():
        assert token not in text


# --- who you are ---------------------------------------------------------------------------


def test_no_token_is_unauthenticated_for_every_kind_of_call(server: ServerProcess) -> None:
    before = depth(server, "orders.a")
    with client(server, None) as anon:
        with pytest.raises(Unauthenticated, match="Bearer"):
            anon.send([msg()], "orders.a")
        with pytest.raises(Unauthenticated):
            anon.list_queues()
        with pytest.raises(Unauthenticated):
            next(iter(anon.receive_batches("orders.a", "s")))
        with pytest.raises(Unauthenticated):
            anon.ack(["orders.a:1:0:ff"])
    with grpc.insecure_channel(server.address) as ch:
        stub = broker_pb2_grpc.BrokerStub(ch)
        first = broker_pb2.StreamingReceiveRequest(queue="orders.a", subscription="s")
        with pytest.raises(grpc.RpcError) as info:
            list(stub.StreamingReceive(iter([first]), timeout=5))
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert depth(server, "orders.a") == before


def test_a_wrong_token_is_unauthenticated_and_not_echoed(server: ServerProcess) -> None:
    wrong = "tok-guess-000000"
    with (
        Client(server.address, token=wrong, timeout=TIMEOUT) as c,
        pytest.raises(Unauthenticated) as info,
    ):
        c.send([msg()], "orders.a")
    assert wrong not in info.value.details
    with grpc.insecure_channel(server.address) as ch:
        stub = broker_pb2_grpc.BrokerStub(ch)
        with pytest.raises(grpc.RpcError) as err:
            stub.Send(
                broker_pb2.SendRequest(queue="orders.a", messages=[msg()]),
                metadata=(("authorization", "Basic " + TOKENS["admin"]),),
                timeout=5,
            )
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_health_and_reflection_stay_open(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.address) as ch:
        reply = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(ch))
        assert pool.FindServiceByName("conveyor.v1.Broker").methods_by_name["Send"]


# --- what you may do -----------------------------------------------------------------------


def test_send_is_allowed_on_granted_queues_and_denied_elsewhere(server: ServerProcess) -> None:
    before_billing = depth(server, "billing")
    with client(server, "producer") as producer:
        [ok] = producer.send([msg(b"order")], "orders.b")
        assert ok.message_id
        with pytest.raises(PermissionDenied) as info:
            producer.send([msg(b"sneaky")], "billing")
        assert "send" in info.value.details
        assert "'billing'" in info.value.details
        assert "producer" in info.value.details
        no_secret(info.value.details)
        with pytest.raises(PermissionDenied, match=re.escape("receive on queue 'orders.b'")):
            producer.pull("orders.b", "s")
        with pytest.raises(PermissionDenied, match=re.escape("admin on queue 'orders.b'")):
            producer.stats("orders.b")
    assert depth(server, "billing") == before_billing


def test_receive_is_allowed_and_send_and_admin_denied(server: ServerProcess) -> None:
    with client(server, "admin") as admin:
        admin.send([msg(b"for consumer")], "orders.a")
    with client(server, "consumer") as consumer:
        [d] = consumer.pull("orders.a", "s", wait=5)
        assert d.message.payload == b"for consumer"
        assert consumer.ack([d.ack_id]) == []
        with pytest.raises(PermissionDenied, match=re.escape("may not send on queue 'orders.a'")):
            consumer.send([msg()], "orders.a")
        with pytest.raises(PermissionDenied, match="'consumer' may not admin on any queue"):
            consumer.list_queues()
        with pytest.raises(PermissionDenied, match=re.escape("admin on queue 'orders.zz'")):
            consumer.create_queue("orders.zz")
        with pytest.raises(PermissionDenied, match=re.escape("receive on queue 'billing'")):
            next(iter(consumer.receive_batches("billing", "s")))
    with client(server, "admin") as admin:
        assert "orders.zz" not in {q.name for q in admin.list_queues()}


def test_a_scoped_admin_lists_only_the_queues_it_administers(server: ServerProcess) -> None:
    with client(server, "admin") as admin:
        for name in ("ordersx", "orders.eu.1"):
            admin.create_queue(name)
        everything = {q.name for q in admin.list_queues()}
        assert {"orders.a", "orders.eu.1", "ordersx", "billing"} <= everything
        assert {s.queue for s in admin.list_queue_stats()} == everything
    mine = {q for q in everything if q.startswith("orders.")}  # what "orders.*" matches
    with client(server, "ops") as ops:
        assert {q.name for q in ops.list_queues()} == mine
        assert {s.queue for s in ops.list_queue_stats()} == mine
        with_lag = ops.list_queue_stats(include_subscriptions=True)
        assert {s.queue for s in with_lag} == mine
        # A prefix narrows the answer; the part of it the grants miss is left out, not refused.
        assert {q.name for q in ops.list_queues("orders")} == mine
        assert [q.name for q in ops.list_queues("orders.e")] == ["orders.eu.1"]
        assert ops.list_queues("bill") == []
        assert [s.queue for s in ops.list_queue_stats("ordersx")] == []
        # A queue it may not administer stays out of reach by name too.
        denied = re.escape("'ops' may not admin on queue 'ordersx'")
        with pytest.raises(PermissionDenied, match=denied):
            ops.stats("ordersx")


def test_a_scoped_admin_lists_only_the_bindings_into_its_queues(server: ServerProcess) -> None:
    with client(server, "admin") as admin:
        every = {(b.pattern, b.queue) for b in admin.list_bindings()}
    assert {("events.orders.#", "orders.t"), ("events.billing.#", "billing")} <= every
    with client(server, "ops") as ops:
        assert {(b.pattern, b.queue) for b in ops.list_bindings()} == {
            (p, q) for p, q in every if q.startswith("orders.")
        }
        assert [b.pattern for b in ops.list_bindings("orders.t")] == ["events.orders.#"]
        with pytest.raises(PermissionDenied, match=re.escape("admin on queue 'billing'")):
            ops.list_bindings("billing")


def test_listings_refuse_a_principal_with_no_admin_grant(server: ServerProcess) -> None:
    with client(server, "producer") as producer:
        for listing in (
            producer.list_queues,
            producer.list_queue_stats,
            producer.list_bindings,
            lambda: producer.list_queues("orders."),
        ):
            with pytest.raises(
                PermissionDenied, match="principal 'producer' may not admin on any queue"
            ):
                listing()


def test_acking_another_queues_ack_id_is_denied_and_changes_nothing(
    server: ServerProcess,
) -> None:
    with client(server, "billing") as billing:
        billing.send([msg(b"invoice")], "billing")
        [d] = billing.pull("billing", "b", wait=5, lease=60)
    ready, in_flight, _ = depth(server, "billing")
    assert in_flight >= 1
    with client(server, "consumer") as consumer:
        for settle in (
            lambda: consumer.ack([d.ack_id]),
            lambda: consumer.nack([d.ack_id]),
            lambda: consumer.modify_lease([d.ack_id], 0),
        ):
            with pytest.raises(PermissionDenied, match=re.escape("receive on queue 'billing'")):
                settle()
    # On a stream of a queue it may read, the foreign ack id is refused too.
    with grpc.insecure_channel(server.address) as ch:
        stub = broker_pb2_grpc.BrokerStub(ch)
        requests = [
            broker_pb2.StreamingReceiveRequest(queue="orders.a", subscription="s"),
            broker_pb2.StreamingReceiveRequest(ack_ids=[d.ack_id]),
        ]
        md = (("authorization", f"Bearer {TOKENS['consumer']}"),)
        with pytest.raises(grpc.RpcError) as info:
            list(stub.StreamingReceive(iter(requests), metadata=md, timeout=5))
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "billing" in (info.value.details() or "")
    assert depth(server, "billing")[:2] == (ready, in_flight)
    with client(server, "billing") as billing:
        assert billing.ack([d.ack_id]) == []  # still the holder's to settle


def test_topic_sends_need_send_on_the_topic(server: ServerProcess) -> None:
    before = depth(server, "billing")
    with client(server, "topics") as topics:
        [r] = topics.send([msg(b"t", topic="events.orders.new")])
        assert not r.HasField("error")
        assert list(r.queues) == ["orders.t"]
        with pytest.raises(
            PermissionDenied, match=re.escape("send on queue 'events.billing.paid'")
        ):
            topics.send([msg(b"t", topic="events.orders.new"), msg(topic="events.billing.paid")])
    assert depth(server, "billing") == before


def test_following_a_message_needs_send_or_receive_and_cancel_needs_send(
    server: ServerProcess,
) -> None:
    with client(server, "producer") as producer:
        [r] = producer.send([types_pb2.Message(payload=b"later", delay=_secs(60))], "orders.a")
        assert producer.message_status("orders.a", r.message_id).state
    with client(server, "consumer") as consumer:
        assert consumer.message_status("orders.a", r.message_id).state
        with pytest.raises(PermissionDenied, match=re.escape("may not send on queue 'orders.a'")):
            consumer.cancel_message("orders.a", r.message_id)
    with (
        client(server, "billing") as billing,
        pytest.raises(PermissionDenied, match=re.escape("send or receive on queue 'orders.a'")),
    ):
        billing.message_status("orders.a", r.message_id)
    with client(server, "producer") as producer:
        assert producer.cancel_message("orders.a", r.message_id)


def _secs(s: int) -> object:
    from google.protobuf import duration_pb2

    return duration_pb2.Duration(seconds=s)


def test_the_cli_sends_its_token(server: ServerProcess) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        main,
        ["--server", server.address, "send", "orders.a", "hi"],
        env={"CONVEYOR_TOKEN": TOKENS["producer"]},
    )
    assert ok.exit_code == 0, ok.output
    denied = runner.invoke(
        main,
        ["--server", server.address, "send", "billing", "hi"],
        env={"CONVEYOR_TOKEN": TOKENS["producer"]},
    )
    assert denied.exit_code == 1
    assert "PERMISSION_DENIED" in denied.output
    anon = runner.invoke(main, ["--server", server.address, "queue", "list"])
    assert anon.exit_code == 1
    assert "UNAUTHENTICATED" in anon.output


def test_refusals_are_logged_without_tokens(server: ServerProcess) -> None:
    with client(server, "producer") as producer, pytest.raises(PermissionDenied):
        producer.send([msg(b"secret-payload-xyz")], "billing")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
        "may not send on queue 'billing'" in line for line in server.output
    ):
        time.sleep(0.05)
    log = "".join(server.output)
    assert "auth: /conveyor.v1.Broker/Send refused: principal 'producer'" in log
    assert "unknown bearer token" in log
    no_secret(log)
    assert "secret-payload-xyz" not in log


# --- a new auth file, and certificate principals ------------------------------------------


def test_sighup_reloads_the_auth_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "auth.toml"
    path.write_text(auth_file())
    srv = start_server(tmp_path / "data", "--storage", "memory", "--auth-file", str(path))
    try:
        with client(srv, "admin") as admin:
            admin.create_queue("billing")
        with client(srv, "producer") as producer:
            with pytest.raises(PermissionDenied):
                producer.send([msg()], "billing")
            path.write_text(
                auth_file().replace('queues = ["orders.*"]', 'queues = ["orders.*", "billing"]', 1)
            )
            srv.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while not any("auth file reloaded" in line for line in srv.output):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            [r] = producer.send([msg()], "billing")
            assert r.message_id
            path.write_text("[[principal]]\nname = 'broken'\n")  # refused; the last one stays
            srv.proc.send_signal(signal.SIGHUP)
            while not any("auth file reload failed" in line for line in srv.output):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert producer.send([msg()], "billing")[0].message_id
    finally:
        srv.stop()


def test_mtls_subjects_are_principals(tmp_path: pathlib.Path) -> None:
    ca = CA()
    cert, key = ca.issue("localhost", server=True).write(tmp_path, "server")
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    path = tmp_path / "auth.toml"
    path.write_text(
        auth_file(
            """
[[principal]]
name = "cert-reader"
subject = "CN=cert-reader,O=Conveyor Tests"
[[principal.grant]]
actions = ["receive", "admin"]
queues = ["orders.*"]
"""
        )
    )
    srv = start_server(
        tmp_path / "data",
        "--storage",
        "memory",
        "--auth-file",
        str(path),
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
        "--tls-client-ca",
        str(tmp_path / "ca.pem"),
    )
    try:
        known = ca.issue("cert-reader", server=False, org="Conveyor Tests")
        with Client(
            srv.address, tls_ca=ca.pem, tls_cert=known.cert, tls_key=known.key, timeout=TIMEOUT
        ) as reader:
            reader.create_queue("orders.c")
            assert reader.pull("orders.c", "s") == []
            with pytest.raises(PermissionDenied, match=re.escape("'cert-reader' may not send")):
                reader.send([msg()], "orders.c")
        nobody = ca.issue("nobody", server=False)
        with (
            Client(
                srv.address,
                tls_ca=ca.pem,
                tls_cert=nobody.cert,
                tls_key=nobody.key,
                timeout=TIMEOUT,
            ) as stranger,
            pytest.raises(Unauthenticated, match="certificate names no principal"),
        ):
            stranger.pull("orders.c", "s")
            # A token still wins over the certificate's subject.
        with Client(
            srv.address,
            tls_ca=ca.pem,
            tls_cert=nobody.cert,
            tls_key=nobody.key,
            token=TOKENS["producer"],
            timeout=TIMEOUT,
        ) as producer:
            assert producer.send([msg()], "orders.c")[0].message_id
        with Client(
            srv.address,
            tls_ca=ca.pem,
            tls_cert=nobody.cert,
            tls_key=nobody.key,
            token=TOKENS["admin"],
            timeout=TIMEOUT,
        ) as admin:
            admin.create_queue("billing")
            assert {q.name for q in admin.list_queues()} == {"orders.c", "billing"}
        with Client(  # the certificate's principal, found per call, scopes the listing
            srv.address, tls_ca=ca.pem, tls_cert=known.cert, tls_key=known.key, timeout=TIMEOUT
        ) as reader:
            assert [q.name for q in reader.list_queues()] == ["orders.c"]
    finally:
        srv.stop()


def test_a_redrive_back_to_the_sources_needs_admin_on_them(server: ServerProcess) -> None:
    """``ops`` administers ``orders.*``, so ``orders.dlq``, but not ``payments``, whose dead
    letters land there: it may redrive them to a queue of its own, not back into
    ``payments``."""
    with client(server, "admin") as admin:
        admin.create_queue("orders.dlq")
        admin.create_queue("payments", dead_letter_queue="orders.dlq", max_deliveries=1)
        admin.send([msg(b"p1"), msg(b"p2")], "payments")
        got = admin.pull("payments", "s", max_messages=10)
        assert admin.nack([d.ack_id for d in got], dead_letter=True) == []
        assert len(admin.list_dead_letters("orders.dlq")) == 2
    with client(server, "ops") as ops:
        with pytest.raises(
            PermissionDenied,
            match=re.escape("'ops' may not admin on queue 'payments', a source of the dead"),
        ):
            ops.redrive("orders.dlq")
        assert len(ops.list_dead_letters("orders.dlq")) == 2  # nothing moved
        first = ops.redrive("orders.dlq", destination="orders.a", max_messages=1)
        assert first.redriven == 1
    with client(server, "admin") as admin:
        assert admin.redrive("orders.dlq").redriven == 1
        assert admin.stats("payments").ready == 1
