"""Helpers specific to the unary-API integration tests; the shared ones are in ``rpc_helpers``."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import grpc
from rpc_helpers import RPC_TIMEOUT, dur, pull, send

from conveyor.v1 import broker_pb2, broker_pb2_grpc, types_pb2

MS = types_pb2.MessageState
G = types_pb2.Guarantee


def code(c: grpc.StatusCode) -> int:
    """The integer value of a status code, as found in google.rpc.Status.code."""
    return int(c.value[0])


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


def send_one(
    broker: broker_pb2_grpc.BrokerStub, queue: str, m: types_pb2.Message | str | bytes
) -> str:
    return send(broker, queue, m)[0].message_id


def pull_n(
    broker: broker_pb2_grpc.BrokerStub,
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


def modify_lease(
    broker: broker_pb2_grpc.BrokerStub, ack_ids: Iterable[str], lease: float
) -> list[str]:
    req = broker_pb2.ModifyLeaseRequest(ack_ids=list(ack_ids), lease=dur(lease))
    return list(broker.ModifyLease(req, timeout=RPC_TIMEOUT).failed_ack_ids)


def payloads(deliveries: Iterable[types_pb2.Delivery]) -> list[str]:
    return [d.message.payload.decode() for d in deliveries]
