"""Hypothesis fuzzing of every Broker and Admin request type against one real server.

Requests are built from the proto descriptors, field by field, with values aimed at the
edges: names that exist and names that cannot, ack ids that are real, stale or malformed,
durations out of range, unknown enum values, empty and repeated fields. For each call:

- the server never answers INTERNAL, UNKNOWN, DATA_LOSS or UNIMPLEMENTED, nor goes away;
- a unary call it refuses changes nothing: queue configs, bindings, subscriptions and the
  queues' send/ack/nack/duplicate counts are as before;
- the sentinel queue, which no request can name, keeps its exact stats and contents;
- at the end, the server restarts from the log it wrote and the sentinel is still intact.

Bounded for the default run (``FUZZ_EXAMPLES`` per method, well under a minute in all);
``CONVEYOR_FUZZ_EXAMPLES=2000`` (say) runs a long campaign.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_helpers import ServerProcess, start_server

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2

FUZZ_EXAMPLES = int(os.environ.get("CONVEYOR_FUZZ_EXAMPLES", "25"))
STREAM_EXAMPLES = max(5, FUZZ_EXAMPLES // 3)
CALL_TIMEOUT_S = 3.0
STREAM_TIMEOUT_S = 0.3
CRASHES = {
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.DATA_LOSS,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.UNAVAILABLE,
}
UNDECIDED = {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
"""The client gave up waiting: whatever the call did may have happened."""

SENTINEL = "sentinel"
COUNTS = (
    "ready",
    "delayed",
    "in_flight",
    "dead_lettered",
    "sent",
    "delivered",
    "acked",
    "nacked",
    "redelivered",
    "expired",
    "dropped",
    "duplicates",
    "depth",
    "subscriptions",
)
"""The stats that only requests change (ages and rates move with the clock)."""
QUEUES = ["fz-a", "fz-b", "fz-fifo", "fz-dlq", "fz-new", "fz-x"]
TOPICS = ["a", "a.b", "a.b.c", "fz.orders", "#", "*", "a.*", "a.#", "", "a..b", " ", "x" * 300]

SERVICES = [
    (broker_pb2.DESCRIPTOR.services_by_name["Broker"], broker_pb2_grpc.BrokerStub),
    (admin_pb2.DESCRIPTOR.services_by_name["Admin"], admin_pb2_grpc.AdminStub),
]
METHODS = [(m, stub) for service, stub in SERVICES for m in service.methods]

seen_ack_ids: list[str] = []
"""Real ack ids from accepted pulls, so acks, nacks and lease changes can hit live ones."""
seen_message_ids: list[str] = []


def _no_sentinel(s: str) -> bool:
    return SENTINEL not in s


def _mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a value the server should take, sometimes one it must refuse: a request with
    many fields then still gets through often enough to reach the code behind validation."""
    return st.one_of(good, good, good, good, bad)


text = st.text(max_size=24).filter(_no_sentinel)
queue_names = _mostly(st.sampled_from(QUEUES), st.one_of(st.just(""), text))
topics = _mostly(st.sampled_from(TOPICS[:5]), st.one_of(st.sampled_from(TOPICS), text))
ack_ids = st.one_of(
    st.integers(0, 10_000).map(
        lambda i: seen_ack_ids[i % len(seen_ack_ids)] if seen_ack_ids else "fz-a:1:0:ff"
    ),
    st.integers(0, 10_000).map(
        lambda i: seen_ack_ids[-1 - i % 3] if len(seen_ack_ids) > 3 else "fz-a:1:0:ff"
    ),
    st.sampled_from(["", "fz-a:1:0:ff", "fz-a:zz:0:00", "fz-b:1:99:ab", ":::", "nope"]),
    text,
)
message_ids = _mostly(
    st.integers(0, 10_000).map(
        lambda i: seen_message_ids[i % len(seen_message_ids)] if seen_message_ids else "1"
    ),
    st.one_of(st.sampled_from(["", "0", "ffffffffffffffffff", "-1", "zz"]), text),
)
durations = _mostly(
    st.tuples(st.integers(0, 5), st.integers(0, 999_999_999)),
    st.tuples(
        st.one_of(st.integers(-5, 10**6), st.integers(-(2**63), 2**63 - 1)),
        st.integers(-(10**9) - 5, 10**9 + 5),
    ),
)

HINTS: dict[str, st.SearchStrategy[Any]] = {
    "queue": queue_names,
    "name": queue_names,
    "destination": queue_names,
    "dead_letter_queue": queue_names,
    "source_queue": queue_names,
    "prefix": st.one_of(st.just(""), st.just("fz"), text),
    "topic": topics,
    "pattern": topics,
    "filter": topics,
    "ack_id": ack_ids,
    "ack_ids": ack_ids,
    "nack_ids": ack_ids,
    "message_id": message_ids,
    "subscription": _mostly(st.sampled_from(["s1", "s2"]), st.one_of(st.just(""), text)),
    "paths": st.one_of(
        st.sampled_from(
            [f.name for f in types_pb2.Queue.DESCRIPTOR.fields] + ["queue.lease", "nope", ""]
        ),
        text,
    ),
    "payload": st.binary(max_size=64),
}

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.name in HINTS and field.type in (
        FieldDescriptor.TYPE_STRING,
        FieldDescriptor.TYPE_BYTES,
    ):
        return HINTS[field.name]
    t = field.type
    if t == FieldDescriptor.TYPE_STRING:
        return text
    if t == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=32)
    if t == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _mostly(st.floats(0, 10), st.floats(allow_nan=True, allow_infinity=True))
    if t == FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return _mostly(st.sampled_from(known), st.integers(-3, 40))
    lo, hi = _INT_RANGES[t]
    return _mostly(st.integers(max(lo, 0), min(hi, 20)), st.integers(lo, hi))


def _message(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    cls = GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.Duration":
        return durations.map(lambda d: cls(seconds=d[0], nanos=d[1]))
    if descriptor.full_name == "google.protobuf.Timestamp":
        return st.builds(lambda s: cls(seconds=s), st.integers(-(10**10), 10**11))
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key, value = field.message_type.fields
            parts[field.name] = st.dictionaries(_scalar(key), _scalar(value), max_size=3)
            continue
        if field.message_type is not None:
            if depth >= 3:
                continue
            one = _message(field.message_type, depth + 1)
        else:
            one = _scalar(field)
        if _repeated(field):
            parts[field.name] = st.lists(one, max_size=3)
        else:
            parts[field.name] = _mostly(one, st.none())
    return st.fixed_dictionaries(parts).map(lambda values: _build(cls, values))


def _repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _build(cls: Any, values: dict[str, Any]) -> Message:
    m = cls()
    for name, value in values.items():
        if value is None:
            continue
        field = cls.DESCRIPTOR.fields_by_name[name]
        target = getattr(m, name) if _repeated(field) or field.message_type else None
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            target.update(value)
        elif _repeated(field):
            if field.message_type is not None:
                for item in value:
                    target.add().CopyFrom(item)
            else:
                target.extend(value)
        elif field.message_type is not None:
            target.CopyFrom(value)
        else:
            setattr(m, name, value)
    return m


# --- the server and what "unchanged" means ------------------------------------------------


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("fuzz")
    srv = start_server(data, "--fsync", "never")
    with grpc.insecure_channel(srv.address) as ch:
        admin, broker = admin_pb2_grpc.AdminStub(ch), broker_pb2_grpc.BrokerStub(ch)
        admin.CreateQueue(admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=SENTINEL)))
        broker.Pull(broker_pb2.PullRequest(queue=SENTINEL, subscription="watcher"))
        admin.CreateBinding(admin_pb2.CreateBindingRequest(pattern="sentinel.#", queue=SENTINEL))
        broker.Send(
            broker_pb2.SendRequest(
                queue=SENTINEL,
                messages=[types_pb2.Message(payload=f"keep {i}".encode()) for i in range(3)],
            )
        )
        for name, kind in (("fz-a", 0), ("fz-b", 0), ("fz-dlq", 0), ("fz-fifo", 2)):
            admin.CreateQueue(
                admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=name, kind=kind))
            )
        admin.CreateBinding(admin_pb2.CreateBindingRequest(pattern="a.#", queue="fz-a"))
        reply = broker.Send(
            broker_pb2.SendRequest(
                queue="fz-a", messages=[types_pb2.Message(payload=b"m") for _ in range(20)]
            )
        )
        seen_message_ids.extend(r.message_id for r in reply.results)
    srv.sentinel = sentinel_state(srv.address)  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def sentinel_state(address: str) -> tuple[Any, ...]:
    with grpc.insecure_channel(address) as ch:
        admin = admin_pb2_grpc.AdminStub(ch)
        s = admin.GetQueueStats(admin_pb2.GetQueueStatsRequest(queue=SENTINEL), timeout=5)
        q = admin.GetQueue(admin_pb2.GetQueueRequest(queue=SENTINEL), timeout=5).queue
        peeked = admin.PeekMessages(
            admin_pb2.PeekMessagesRequest(queue=SENTINEL, max_messages=100), timeout=5
        ).messages
        bindings = admin.ListBindings(admin_pb2.ListBindingsRequest(queue=SENTINEL), timeout=5)
        subs = admin.ListSubscriptions(
            admin_pb2.ListSubscriptionsRequest(queue=SENTINEL), timeout=5
        ).subscriptions
    return (
        tuple(getattr(s, name) for name in COUNTS),
        q.SerializeToString(deterministic=True),
        [(p.message.id, p.message.payload, p.state, p.attempts) for p in peeked],
        bindings.SerializeToString(deterministic=True),
        sorted((x.name, x.filter) for x in subs),
    )


def snapshot(admin: admin_pb2_grpc.AdminStub) -> tuple[Any, ...]:
    """What a refused request must leave alone, then what the clock moves on its own (a lease
    running out past max_deliveries dead-letters a message: its dead-letter queue's ``sent``
    grows with no request at all)."""
    queues = admin.ListQueues(admin_pb2.ListQueuesRequest(), timeout=5).queues
    per_queue = []
    clock = []
    for q in queues:
        s = admin.GetQueueStats(admin_pb2.GetQueueStatsRequest(queue=q.name), timeout=5)
        subs = admin.ListSubscriptions(
            admin_pb2.ListSubscriptionsRequest(queue=q.name), timeout=5
        ).subscriptions
        per_queue.append(
            (
                q.SerializeToString(deterministic=True),
                (s.sent, s.acked, s.nacked, s.duplicates),
                sorted((x.name, x.filter) for x in subs),
            )
        )
        clock.append((s.dead_lettered, s.expired, s.redelivered))
    bindings = admin.ListBindings(admin_pb2.ListBindingsRequest(), timeout=5).bindings
    return (tuple(per_queue), sorted((b.pattern, b.queue) for b in bindings)), tuple(clock)


def _code(exc: grpc.RpcError) -> grpc.StatusCode:
    code = exc.code()  # type: ignore[attr-defined]
    assert isinstance(code, grpc.StatusCode)
    return code


def _remember(response: Any) -> None:
    for d in getattr(response, "deliveries", ()):
        seen_ack_ids.append(d.ack_id)
        seen_message_ids.append(d.message.id)
    for r in getattr(response, "results", ()):
        if r.message_id:
            seen_message_ids.append(r.message_id)
    del seen_ack_ids[:-200]
    del seen_message_ids[:-200]


def _call(stub: Any, method: MethodDescriptor, requests: list[Message]) -> grpc.StatusCode:
    """Makes the call; its status (OK when it answered)."""
    fn = getattr(stub, method.name)
    try:
        if not method.client_streaming and not method.server_streaming:
            _remember(fn(requests[0], timeout=CALL_TIMEOUT_S))
            return grpc.StatusCode.OK
        call = (
            fn(iter(requests), timeout=STREAM_TIMEOUT_S)
            if method.client_streaming
            else fn(requests[0], timeout=STREAM_TIMEOUT_S)
        )
        try:
            if method.server_streaming:
                for i, response in enumerate(call):
                    _remember(response)
                    if i >= 3:
                        break
            else:
                _remember(call)
        finally:
            if method.server_streaming:
                call.cancel()
        return grpc.StatusCode.OK
    except grpc.RpcError as exc:
        return _code(exc)


@pytest.mark.parametrize(("method", "stub_class"), METHODS, ids=[m.name for m, _ in METHODS])
def test_every_request_type_is_answered_without_crash_or_damage(
    fuzzed: ServerProcess, method: MethodDescriptor, stub_class: Any
) -> None:
    requests = st.lists(_message(method.input_type), min_size=1, max_size=3)
    examples = STREAM_EXAMPLES if method.server_streaming else FUZZ_EXAMPLES

    with grpc.insecure_channel(fuzzed.address) as ch:
        stub = stub_class(ch)
        admin = admin_pb2_grpc.AdminStub(ch)

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(requests)
        def check(batch: list[Message]) -> None:
            before = snapshot(admin)
            code = _call(stub, method, batch if method.client_streaming else batch[:1])
            assert fuzzed.proc.poll() is None, "the server died:\n" + "".join(fuzzed.output[-40:])
            assert code not in CRASHES, f"{method.name} answered {code.name} to {batch!r}"
            unary = not method.client_streaming and not method.server_streaming
            if unary and code != grpc.StatusCode.OK and code not in UNDECIDED:
                state, clock = snapshot(admin)
                if clock == before[1]:  # else a timer moved state meanwhile: nothing to compare
                    assert state == before[0], f"refused {method.name} changed state"
            assert sentinel_state(fuzzed.address) == fuzzed.sentinel  # type: ignore[attr-defined]

        check()
    internal = [line for line in fuzzed.output if "Traceback" in line or "Exception" in line]
    assert not internal, "".join(fuzzed.output[-60:])


def test_the_fuzzed_log_replays_and_the_sentinel_survives(
    fuzzed: ServerProcess, tmp_path: pathlib.Path
) -> None:
    expected = fuzzed.sentinel  # type: ignore[attr-defined]
    assert fuzzed.stop() == 0, "".join(fuzzed.output[-40:])
    again = start_server(fuzzed.data_dir, "--fsync", "never")
    try:
        state = sentinel_state(again.address)
        # The stats' counters restart with the process; contents, config and routing do not.
        assert state[1:] == expected[1:]
    finally:
        again.stop()
