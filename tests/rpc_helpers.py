"""Helpers shared by the integration and fault tests for driving a real server over gRPC.

Each unary call is made with a deadline (``RPC_TIMEOUT``), so a hung server fails a test instead
of hanging it. Durations may be given as float seconds wherever the API takes a
``google.protobuf.Duration``. The helpers that check results (``send``, ``wait_until``,
``rpc_code``) fail the test themselves.

``tests/`` is on ``sys.path`` during test runs (``conftest.py`` lives there), so test modules and
the per-suite helper modules import this one as ``rpc_helpers``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf import duration_pb2, timestamp_pb2

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, types_pb2

T = TypeVar("T")

RPC_TIMEOUT = 10.0
"""Deadline of every unary call a helper makes, in seconds."""

DURATION_FIELDS = ("lease", "dedup_window", "message_ttl", "default_delay", "delay", "ttl")
"""Fields of Queue and Message that ``durations`` converts from float seconds."""


# -- protobuf values ---------------------------------------------------------------------------


def dur(seconds: float) -> duration_pb2.Duration:
    """A Duration of ``seconds`` (rounded to the nanosecond)."""
    d = duration_pb2.Duration()
    d.FromNanoseconds(round(seconds * 1e9))
    return d


def secs(d: duration_pb2.Duration) -> float:
    """A Duration as float seconds."""
    return d.seconds + d.nanos / 1e9


def durations(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the numbers given for ``DURATION_FIELDS`` turned into Durations."""
    return {
        k: dur(v) if k in DURATION_FIELDS and isinstance(v, int | float) else v
        for k, v in fields.items()
    }


def message(payload: str | bytes = b"", **fields: Any) -> types_pb2.Message:
    """A Message; ``delay`` and ``ttl`` may be given as float seconds."""
    if isinstance(payload, str):
        payload = payload.encode()
    return types_pb2.Message(payload=payload, **durations(fields))


# -- admin -------------------------------------------------------------------------------------


def create_queue(admin: admin_pb2_grpc.AdminStub, name: str, **fields: Any) -> types_pb2.Queue:
    """Creates a queue; duration fields may be given as float seconds."""
    req = admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=name, **durations(fields)))
    return admin.CreateQueue(req, timeout=RPC_TIMEOUT).queue


def stats(admin: admin_pb2_grpc.AdminStub, queue: str) -> admin_pb2.GetQueueStatsResponse:
    return admin.GetQueueStats(admin_pb2.GetQueueStatsRequest(queue=queue), timeout=RPC_TIMEOUT)


def peek(
    admin: admin_pb2_grpc.AdminStub, queue: str, max_messages: int = 0
) -> list[admin_pb2.PeekedMessage]:
    req = admin_pb2.PeekMessagesRequest(queue=queue, max_messages=max_messages)
    return list(admin.PeekMessages(req, timeout=RPC_TIMEOUT).messages)


def dead_letters(admin: admin_pb2_grpc.AdminStub, queue: str) -> list[types_pb2.Message]:
    req = admin_pb2.ListDeadLettersRequest(queue=queue)
    return list(admin.ListDeadLetters(req, timeout=RPC_TIMEOUT).messages)


# -- data plane --------------------------------------------------------------------------------


def send(
    broker: broker_pb2_grpc.BrokerStub,
    queue: str,
    *messages: types_pb2.Message | str | bytes,
    wait_for: int = 0,
    timeout: float | None = None,
    expect_ok: bool = True,
) -> list[broker_pb2.SendResult]:
    """Sends one batch; by default asserts every message was accepted.

    Payloads given as ``str`` or ``bytes`` become Messages with no other field set.
    """
    msgs = [m if isinstance(m, types_pb2.Message) else message(m) for m in messages]
    req = broker_pb2.SendRequest(queue=queue, messages=msgs, wait_for=wait_for)
    if timeout is not None:
        req.timeout.CopyFrom(dur(timeout))
    results = list(broker.Send(req, timeout=RPC_TIMEOUT + (timeout or 0)).results)
    assert len(results) == len(msgs)
    if expect_ok:
        for r in results:
            assert not r.HasField("error"), r.error
            assert r.message_id
    return results


def pull(
    broker: broker_pb2_grpc.BrokerStub,
    queue: str,
    sub: str = "sub",
    *,
    max_messages: int = 10,
    wait: float = 0.0,
    lease: float | None = None,
    filter_: str = "",
) -> list[types_pb2.Delivery]:
    """One Pull; ``wait`` and ``lease`` are in seconds (no ``lease``: the queue's)."""
    req = broker_pb2.PullRequest(
        queue=queue,
        subscription=sub,
        filter=filter_,
        max_messages=max_messages,
        wait=dur(wait),
    )
    if lease is not None:
        req.lease.CopyFrom(dur(lease))
    return list(broker.Pull(req, timeout=RPC_TIMEOUT + wait).deliveries)


def timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromNanoseconds(round(seconds * 1e9))
    return out


def pull_from(
    broker: broker_pb2_grpc.BrokerStub,
    queue: str,
    sub: str,
    position: int = types_pb2.START_POSITION_UNSPECIFIED,
    start: float | None = None,
) -> list[types_pb2.Delivery]:
    """One Pull of up to 100 that creates ``sub`` at a start position (and ``start`` time)."""
    req = broker_pb2.PullRequest(
        queue=queue, subscription=sub, max_messages=100, start_position=position
    )
    if start is not None:
        req.start_time.CopyFrom(timestamp(start))
    return list(broker.Pull(req, timeout=RPC_TIMEOUT).deliveries)


def seek(admin: admin_pb2_grpc.AdminStub, queue: str, sub: str, at: float) -> tuple[int, int]:
    """SeekSubscription; returns (replayed, acked)."""
    req = admin_pb2.SeekSubscriptionRequest(queue=queue, subscription=sub, time=timestamp(at))
    resp = admin.SeekSubscription(req, timeout=RPC_TIMEOUT)
    return resp.replayed, resp.acked


def ack(broker: broker_pb2_grpc.BrokerStub, ack_ids: Iterable[str]) -> list[str]:
    """Acks; returns the ack ids the server refused."""
    req = broker_pb2.AckRequest(ack_ids=list(ack_ids))
    return list(broker.Ack(req, timeout=RPC_TIMEOUT).failed_ack_ids)


def nack(
    broker: broker_pb2_grpc.BrokerStub,
    ack_ids: Iterable[str],
    *,
    delay: float | None = None,
    dead_letter: bool = False,
    reason: str = "",
) -> list[str]:
    """Nacks; returns the ack ids the server refused."""
    req = broker_pb2.NackRequest(ack_ids=list(ack_ids), dead_letter=dead_letter, reason=reason)
    if delay is not None:
        req.delay.CopyFrom(dur(delay))
    return list(broker.Nack(req, timeout=RPC_TIMEOUT).failed_ack_ids)


def status(
    broker: broker_pb2_grpc.BrokerStub, queue: str, message_id: str
) -> types_pb2.MessageStatus:
    req = broker_pb2.GetMessageStatusRequest(queue=queue, message_id=message_id)
    return broker.GetMessageStatus(req, timeout=RPC_TIMEOUT)


# -- waiting and failing -----------------------------------------------------------------------


def wait_until(
    fn: Callable[[], T], timeout: float = 5.0, interval: float = 0.02, what: str = ""
) -> T:
    """Polls ``fn`` until it returns something truthy, and returns that; fails the test after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or fn}; last: {value!r}")
        time.sleep(interval)


def rpc_code(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> grpc.StatusCode:
    """Calls ``fn(*args, **kwargs)``, which must fail with an RpcError; returns its status code."""
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    return info.value.code()  # type: ignore[attr-defined]
