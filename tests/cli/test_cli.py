"""The ``conveyor`` CLI without a broker: duration parsing, and options → request protos.

Client commands run through click's ``CliRunner`` against a fake in-process gRPC server that
records each request and answers with canned responses, so these tests pin down exactly what
the CLI (and the SDK under it) puts on the wire.
"""

from __future__ import annotations

import json
import sys
import threading
import types
from collections import defaultdict
from collections.abc import Iterator
from concurrent import futures
from datetime import timedelta
from typing import Any

import grpc
import pytest
from click.testing import CliRunner, Result
from google.protobuf import duration_pb2
from google.rpc import status_pb2
from hypothesis import given
from hypothesis import strategies as st

from broker.cli import format_duration, main, parse_duration, queue_config
from broker.config import ServerConfig
from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2

# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("250ms", timedelta(milliseconds=250)),
        ("1h30m", timedelta(minutes=90)),
        ("1m0.5s", timedelta(seconds=60.5)),
        ("1.5", timedelta(seconds=1.5)),
        ("0.1s", timedelta(milliseconds=100)),
        (".5s", timedelta(milliseconds=500)),
        ("0", timedelta(0)),
        (" 10s ", timedelta(seconds=10)),
    ],
)
def test_parse_duration_accepts_units_and_plain_seconds(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "s", "abc", "-1s", "5x", "1.2.3", "10 s", "inf", "1e3", "5m-"]
)
def test_parse_duration_rejects_with_an_example_of_what_works(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid duration .*e\.g\. 30s"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(0), "0s"),
        (timedelta(milliseconds=250), "250ms"),
        (timedelta(microseconds=1500), "1.5ms"),
        (timedelta(seconds=30), "30s"),
        (timedelta(seconds=90.5), "1m30.5s"),
        (timedelta(hours=2), "2h"),
        (timedelta(hours=1, seconds=5), "1h5s"),
    ],
)
def test_format_duration_is_short(value: timedelta, expected: str) -> None:
    assert format_duration(value) == expected


@given(st.integers(min_value=0, max_value=10**13))
def test_format_duration_round_trips_through_parse(micros: int) -> None:
    value = timedelta(microseconds=micros)
    assert parse_duration(format_duration(value)) == value


def test_bad_duration_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["send", "q", "x", "--delay", "soon"])
    assert result.exit_code == 2
    assert "invalid duration 'soon'" in result.stderr


# --- queue options → Queue ------------------------------------------------------------------


def _secs(seconds: float) -> duration_pb2.Duration:
    out = duration_pb2.Duration()
    out.FromTimedelta(timedelta(seconds=seconds))
    return out


def test_queue_config_maps_labels_to_enums_and_builds_retry_backoff() -> None:
    config = queue_config(
        {
            "kind": "priority",
            "overflow_policy": "drop-oldest",
            "lease": timedelta(seconds=45),
            "max_depth": 0,
            "dead_letter_queue": None,
            "retry_delays": [timedelta(seconds=1), timedelta(seconds=5)],
        }
    )
    assert config == {
        "kind": types_pb2.QUEUE_KIND_PRIORITY,
        "overflow_policy": types_pb2.OVERFLOW_POLICY_DROP_OLDEST,
        "lease": timedelta(seconds=45),
        "max_depth": 0,  # given explicitly, so kept: 0 is a value here, not "unset"
        "retry_backoff": types_pb2.RetryBackoff(delays=[_secs(1), _secs(5)]),
    }


# --- a fake server that records requests ----------------------------------------------------


class Fake:
    """Requests received, by RPC name, and the canned answers the fake gives."""

    def __init__(self) -> None:
        self.requests: dict[str, list[Any]] = defaultdict(list)
        self.deliveries: list[types_pb2.Delivery] = []
        self.stats = admin_pb2.GetQueueStatsResponse()

    def last(self, rpc: str) -> Any:
        assert self.requests[rpc], f"no {rpc} call; got {sorted(self.requests)}"
        return self.requests[rpc][-1]


class FakeAdmin(admin_pb2_grpc.AdminServicer):
    def __init__(self, fake: Fake) -> None:
        self.fake = fake

    def CreateQueue(self, request: Any, context: Any) -> Any:
        self.fake.requests["CreateQueue"].append(request)
        return admin_pb2.CreateQueueResponse(queue=request.queue)

    def UpdateQueue(self, request: Any, context: Any) -> Any:
        self.fake.requests["UpdateQueue"].append(request)
        return admin_pb2.UpdateQueueResponse(queue=request.queue)

    def GetQueue(self, request: Any, context: Any) -> Any:
        if request.queue == "missing":
            context.abort(grpc.StatusCode.NOT_FOUND, "queue 'missing' does not exist")
        queue = types_pb2.Queue(name=request.queue, kind=types_pb2.QUEUE_KIND_FIFO, lease=_secs(45))
        return admin_pb2.GetQueueResponse(queue=queue)

    def GetQueueStats(self, request: Any, context: Any) -> Any:
        self.fake.requests["GetQueueStats"].append(request)
        return self.fake.stats


class FakeBroker(broker_pb2_grpc.BrokerServicer):
    def __init__(self, fake: Fake) -> None:
        self.fake = fake

    def Send(self, request: Any, context: Any) -> Any:
        self.fake.requests["Send"].append(request)
        if request.queue == "missing":
            error = status_pb2.Status(
                code=grpc.StatusCode.NOT_FOUND.value[0], message="queue 'missing' does not exist"
            )
            return broker_pb2.SendResponse(results=[broker_pb2.SendResult(error=error)])
        results = [broker_pb2.SendResult(message_id=f"m-{i}") for i in range(len(request.messages))]
        return broker_pb2.SendResponse(results=results)

    def Receive(self, request: Any, context: Any) -> Iterator[Any]:
        self.fake.requests["Receive"].append(request)
        if self.fake.deliveries:
            yield broker_pb2.ReceiveResponse(deliveries=self.fake.deliveries)
        # Like the real server, keep the stream open until the client goes away.
        gone = threading.Event()
        context.add_callback(gone.set)
        gone.wait(10)

    def Ack(self, request: Any, context: Any) -> Any:
        self.fake.requests["Ack"].append(request)
        return broker_pb2.AckResponse()

    def ModifyLease(self, request: Any, context: Any) -> Any:
        self.fake.requests["ModifyLease"].append(request)
        return broker_pb2.ModifyLeaseResponse()


@pytest.fixture
def fake() -> Iterator[tuple[Fake, str]]:
    state = Fake()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    admin_pb2_grpc.add_AdminServicer_to_server(FakeAdmin(state), server)
    broker_pb2_grpc.add_BrokerServicer_to_server(FakeBroker(state), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield state, f"127.0.0.1:{port}"
    finally:
        server.stop(None).wait()


def run(address: str, *args: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(main, ["--server", address, *args], input=stdin)


def _delivery(n: int) -> types_pb2.Delivery:
    message = types_pb2.Message(id=f"m-{n}", topic="orders.created", payload=f"body {n}".encode())
    return types_pb2.Delivery(ack_id=f"a-{n}", message=message, attempt=1, subscription="s")


# --- client commands ------------------------------------------------------------------------


def test_queue_create_puts_every_option_in_the_queue(fake: tuple[Fake, str]) -> None:
    state, address = fake
    result = run(
        address, "queue", "create", "orders",
        "--kind", "fifo", "--lease", "45s", "--max-deliveries", "5",
        "--dead-letter-queue", "orders-dlq", "--dedup-window", "10m", "--message-ttl", "1h",
        "--default-delay", "250ms", "--max-depth", "1000", "--overflow-policy", "drop-oldest",
        "--max-payload-bytes", "65536", "--retry-initial", "1s", "--retry-multiplier", "2",
        "--retry-max", "1m", "--retry-jitter", "0.2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "created queue orders\n"
    assert state.last("CreateQueue").queue == types_pb2.Queue(
        name="orders",
        kind=types_pb2.QUEUE_KIND_FIFO,
        lease=_secs(45),
        max_deliveries=5,
        dead_letter_queue="orders-dlq",
        dedup_window=_secs(600),
        message_ttl=_secs(3600),
        default_delay=_secs(0.25),
        max_depth=1000,
        overflow_policy=types_pb2.OVERFLOW_POLICY_DROP_OLDEST,
        max_payload_bytes=65536,
        retry_backoff=types_pb2.RetryBackoff(
            initial=_secs(1), multiplier=2.0, max=_secs(60), jitter=0.2
        ),
    )


def test_queue_update_masks_only_the_given_and_cleared_fields(fake: tuple[Fake, str]) -> None:
    state, address = fake
    result = run(
        address, "queue", "update", "orders",
        "--lease", "1m", "--max-depth", "0", "--clear", "message-ttl",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    request = state.last("UpdateQueue")
    assert sorted(request.update_mask.paths) == ["lease", "max_depth", "message_ttl"]
    assert request.queue == types_pb2.Queue(name="orders", lease=_secs(60))


def test_queue_update_without_changes_is_a_usage_error(fake: tuple[Fake, str]) -> None:
    state, address = fake
    result = run(address, "queue", "update", "orders")
    assert result.exit_code == 2
    assert "nothing to change" in result.stderr
    assert not state.requests["UpdateQueue"]


def test_send_maps_options_onto_each_message(fake: tuple[Fake, str]) -> None:
    state, address = fake
    result = run(
        address, "send", "orders", "hello",
        "--attr", "source=web", "--attr", "traceparent=00-abc-def-01",
        "--guarantee", "quorum", "--required-acks", "2", "--priority", "7",
        "--ordering-key", "customer-1", "--dedup-id", "d-1", "--delay", "5s", "--ttl", "1h",
        "--message-topic", "orders.created", "--wait-delivered", "--timeout", "10s",
        "--count", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["m-0", "m-1", "m-2"]
    request = state.last("Send")
    assert request.queue == "orders"
    assert request.wait_for == types_pb2.WAIT_FOR_DELIVERED
    assert request.timeout == _secs(10)
    expected = types_pb2.Message(
        topic="orders.created",
        payload=b"hello",
        attributes={"source": "web", "traceparent": "00-abc-def-01"},
        guarantee=types_pb2.GUARANTEE_QUORUM,
        required_acks=2,
        priority=7,
        ordering_key="customer-1",
        dedup_id="d-1",
        delay=_secs(5),
        ttl=_secs(3600),
    )
    assert list(request.messages) == [expected] * 3


def test_send_by_topic_leaves_the_queue_empty_and_reads_stdin(fake: tuple[Fake, str]) -> None:
    state, address = fake
    result = run(address, "send", "--topic", "orders.eu.created", "-", stdin=b"\x00binary\xff")
    assert result.exit_code == 0, result.output
    request = state.last("Send")
    assert request.queue == ""
    assert request.wait_for == types_pb2.WAIT_FOR_STORED
    assert [(m.topic, m.payload) for m in request.messages] == [
        ("orders.eu.created", b"\x00binary\xff")
    ]


def test_send_reports_a_failed_message_and_exits_1(fake: tuple[Fake, str]) -> None:
    _, address = fake
    result = run(address, "send", "missing", "hello")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: NOT_FOUND: queue 'missing' does not exist\n"


def test_rpc_error_prints_code_and_details_and_exits_1(fake: tuple[Fake, str]) -> None:
    _, address = fake
    result = run(address, "queue", "get", "missing")
    assert result.exit_code == 1
    assert result.stderr == "error: NOT_FOUND: queue 'missing' does not exist\n"


def test_unreachable_server_is_unavailable() -> None:
    result = run("127.0.0.1:1", "queue", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: UNAVAILABLE: ")


def test_queue_get_shows_labels_and_durations(fake: tuple[Fake, str]) -> None:
    _, address = fake
    result = run(address, "queue", "get", "orders")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}
    assert rows["kind"] == ["fifo"]
    assert rows["lease"] == ["45s"]
    assert rows["message_ttl"] == ["-"]


def test_stats_json_has_spec_names_with_plain_numbers(fake: tuple[Fake, str]) -> None:
    state, address = fake
    state.stats = admin_pb2.GetQueueStatsResponse(
        ready=3, in_flight=1, sent=5, acked=1, delivered=2, oldest_age=_secs(1.5)
    )
    result = run(address, "stats", "orders", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    spec_names = {"ready", "delayed", "in_flight", "dead_lettered", "oldest_age", "sent",
                  "delivered", "acked", "nacked", "redelivered"}  # fmt: skip
    assert spec_names <= set(data)
    picked = {k: data[k] for k in ("ready", "sent", "nacked", "oldest_age")}
    assert picked == {"ready": 3, "sent": 5, "nacked": 0, "oldest_age": 1.5}


def test_stats_table_lines_up(fake: tuple[Fake, str]) -> None:
    state, address = fake
    state.stats = admin_pb2.GetQueueStatsResponse(ready=12, oldest_age=_secs(75))
    result = run(address, "stats", "orders")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len({len(line) - len(line.split()[-1]) for line in lines}) == 1  # one value column
    rows = dict(line.split() for line in lines)
    assert (rows["ready"], rows["oldest_age"]) == ("12", "1m15s")


def test_receive_prints_and_acks_then_stops_at_max(fake: tuple[Fake, str]) -> None:
    state, address = fake
    state.deliveries = [_delivery(1), _delivery(2)]
    result = run(address, "receive", "orders", "--subscription", "s", "--max", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "m-1  orders.created  body 1",
        "m-2  orders.created  body 2",
    ]
    request = state.last("Receive")
    assert (request.queue, request.subscription, request.max_outstanding_messages) == (
        "orders",
        "s",
        2,
    )
    assert [list(r.ack_ids) for r in state.requests["Ack"]] == [["a-1", "a-2"]]
    assert not state.requests["ModifyLease"]


def test_receive_releases_deliveries_beyond_max(fake: tuple[Fake, str]) -> None:
    state, address = fake
    state.deliveries = [_delivery(1), _delivery(2)]
    result = run(address, "receive", "orders", "-s", "s", "--max", "1", "--json")
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["message"]["id"] == "m-1"
    assert [list(r.ack_ids) for r in state.requests["Ack"]] == [["a-1"]]
    release = state.last("ModifyLease")
    assert (list(release.ack_ids), release.lease) == (["a-2"], _secs(0))


def test_receive_no_ack_hands_messages_back(fake: tuple[Fake, str]) -> None:
    state, address = fake
    state.deliveries = [_delivery(1), _delivery(2)]
    result = run(address, "receive", "orders", "-s", "s", "--max", "2", "--no-ack")
    assert result.exit_code == 0, result.output
    assert not state.requests["Ack"]
    assert list(state.last("ModifyLease").ack_ids) == ["a-1", "a-2"]


def test_receive_stops_after_wait_when_idle(fake: tuple[Fake, str]) -> None:
    state, address = fake
    result = run(address, "receive", "orders", "-s", "s", "--wait", "200ms")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert state.last("Receive").max_outstanding_messages == 1000


# --- serve ----------------------------------------------------------------------------------


def test_serve_passes_flags_over_environment_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[ServerConfig] = []

    def fake_run(config: ServerConfig) -> int:
        seen.append(config)
        return 3

    monkeypatch.setitem(sys.modules, "broker.service.server", types.SimpleNamespace(run=fake_run))
    env = {"CONVEYOR_FSYNC": "never", "CONVEYOR_LOG_LEVEL": "DEBUG"}
    result = CliRunner(env=env).invoke(
        main,
        ["serve", "--listen", "0.0.0.0:7000", "--data-dir", "/tmp/d", "--log-level", "warning"],
    )
    assert result.exit_code == 3, result.output
    (config,) = seen
    assert (config.listen, config.data_dir) == ("0.0.0.0:7000", "/tmp/d")
    assert config.fsync == "never"  # not given as a flag: the environment's value stands
    assert config.log_level == "WARNING"  # given: the flag wins


def test_serve_rejects_a_bad_listen_address_with_exit_2() -> None:
    result = CliRunner().invoke(main, ["serve", "--listen", "bad"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: invalid configuration: listen 'bad': expected HOST:PORT, e.g. 127.0.0.1:50051\n"
    )


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "send", "receive", "queue", "bind", "unbind", "bindings",
                    "subscriptions", "stats", "top", "peek", "status", "dlq"):  # fmt: skip
        assert f"\n  {command} " in result.stdout
