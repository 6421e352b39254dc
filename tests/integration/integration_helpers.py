"""Small helpers for driving the real server through its gRPC API in integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf import duration_pb2

from conveyor.v1 import admin_pb2, broker_pb2, types_pb2

T = TypeVar("T")
RPC_TIMEOUT = 10.0

MS = types_pb2.MessageState
G = types_pb2.Guarantee


def dur(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(round(seconds * 1e9))
    return d


def secs(d: duration_pb2.Duration) -> float:
    return d.seconds + d.nanos / 1e9


def code(c: grpc.StatusCode) -> int:
    """The integer value of a status code, as found in google.rpc.Status.code."""
    return int(c.value[0])


_DURATION_FIELDS = ("lease", "dedup_window", "message_ttl", "default_delay", "delay", "ttl")


def _durations(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: dur(v) if k in _DURATION_FIELDS and isinstance(v, int | float) else v
        for k, v in fields.items()
    }


def message(payload: str | bytes = b"", **fields: Any) -> types_pb2.Message:
    """A Message; `delay` and `ttl` may be given as float seconds."""
    if isinstance(payload, str):
        payload = payload.encode()
    return types_pb2.Message(payload=payload, **_durations(fields))


def backoff(
    *,
    delays: Sequence[float] = (),
    initial: float | None = None,
    multiplier: float = 0.0,
    max_: float | None = None,
    jitter: float = 0.0,
) -> types_pb2.RetryBackoff:
    b = types_pb2.RetryBackoff(
        multiplier=multiplier, jitter=jitter, delays=[dur(d) for d in delays]
    )
    if initial is not None:
        b.initial.CopyFrom(dur(initial))
    if max_ is not None:
        b.max.CopyFrom(dur(max_))
    return b


def create_queue(admin: Any, name: str, **fields: Any) -> types_pb2.Queue:
    """Creates a queue; duration fields may be given as float seconds."""
    req = admin_pb2.CreateQueueRequest(queue=types_pb2.Queue(name=name, **_durations(fields)))
    return admin.CreateQueue(req, timeout=RPC_TIMEOUT).queue


def send(
    broker: Any,
    queue: str,
    *messages: types_pb2.Message | str | bytes,
    wait_for: int = 0,
    timeout: float | None = None,
    expect_ok: bool = True,
) -> list[broker_pb2.SendResult]:
    """Sends a batch; by default asserts every message was accepted."""
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


def send_one(broker: Any, queue: str, m: types_pb2.Message | str | bytes) -> str:
    return send(broker, queue, m)[0].message_id


def pull(
    broker: Any,
    queue: str,
    sub: str = "sub",
    *,
    max_messages: int = 10,
    wait: float = 0.0,
    lease: float | None = None,
    filter_: str = "",
) -> list[types_pb2.Delivery]:
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


def pull_n(
    broker: Any,
    queue: str,
    sub: str = "sub",
    n: int = 1,
    *,
    timeout: float = 5.0,
    lease: float | None = None,
) -> list[types_pb2.Delivery]:
    """Pulls until `n` deliveries arrived or `timeout` passed; returns what came."""
    deadline = time.monotonic() + timeout
    out: list[types_pb2.Delivery] = []
    while len(out) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        out += pull(
            broker, queue, sub, max_messages=n - len(out), wait=min(remaining, 0.5), lease=lease
        )
    return out


def ack(broker: Any, ack_ids: Iterable[str]) -> list[str]:
    req = broker_pb2.AckRequest(ack_ids=list(ack_ids))
    return list(broker.Ack(req, timeout=RPC_TIMEOUT).failed_ack_ids)


def nack(
    broker: Any,
    ack_ids: Iterable[str],
    *,
    delay: float | None = None,
    dead_letter: bool = False,
    reason: str = "",
) -> list[str]:
    req = broker_pb2.NackRequest(ack_ids=list(ack_ids), dead_letter=dead_letter, reason=reason)
    if delay is not None:
        req.delay.CopyFrom(dur(delay))
    return list(broker.Nack(req, timeout=RPC_TIMEOUT).failed_ack_ids)


def modify_lease(broker: Any, ack_ids: Iterable[str], lease: float) -> list[str]:
    req = broker_pb2.ModifyLeaseRequest(ack_ids=list(ack_ids), lease=dur(lease))
    return list(broker.ModifyLease(req, timeout=RPC_TIMEOUT).failed_ack_ids)


def status(broker: Any, queue: str, message_id: str) -> types_pb2.MessageStatus:
    req = broker_pb2.GetMessageStatusRequest(queue=queue, message_id=message_id)
    return broker.GetMessageStatus(req, timeout=RPC_TIMEOUT)


def stats(admin: Any, queue: str) -> admin_pb2.GetQueueStatsResponse:
    return admin.GetQueueStats(admin_pb2.GetQueueStatsRequest(queue=queue), timeout=RPC_TIMEOUT)


def peek(admin: Any, queue: str, max_messages: int = 0) -> list[admin_pb2.PeekedMessage]:
    req = admin_pb2.PeekMessagesRequest(queue=queue, max_messages=max_messages)
    return list(admin.PeekMessages(req, timeout=RPC_TIMEOUT).messages)


def dead_letters(admin: Any, queue: str) -> list[types_pb2.Message]:
    req = admin_pb2.ListDeadLettersRequest(queue=queue)
    return list(admin.ListDeadLetters(req, timeout=RPC_TIMEOUT).messages)


def payloads(deliveries: Iterable[types_pb2.Delivery]) -> list[str]:
    return [d.message.payload.decode() for d in deliveries]


def wait_until(
    fn: Callable[[], T], timeout: float = 5.0, interval: float = 0.02, what: str = ""
) -> T:
    """Polls `fn` until it returns something truthy; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or fn}; last: {value!r}")
        time.sleep(interval)


def rpc_code(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> grpc.StatusCode:
    """Calls `fn`, which must fail with an RpcError; returns its status code."""
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    return info.value.code()  # type: ignore[attr-defined]
