"""Builds request messages from Python values; shared by the sync and async clients.

Everything here is pure (no I/O), so the two clients differ only in how they call the stubs.
Durations are accepted as seconds (``int``/``float``), ``timedelta`` or ``Duration``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, TypedDict, Unpack

from google.protobuf import duration_pb2, field_mask_pb2

from conveyor.v1 import broker_pb2, types_pb2

DurationLike = float | timedelta | duration_pb2.Duration
"""A length of time: seconds as a number, a ``timedelta`` or a protobuf ``Duration``."""


class MessageFields(TypedDict, total=False):
    """Optional ``Message`` fields accepted by ``make_message`` and ``publish``."""

    topic: str
    attributes: Mapping[str, str]
    guarantee: types_pb2.Guarantee.ValueType
    required_acks: int
    priority: int
    ordering_key: str
    dedup_id: str
    delay: DurationLike | None
    ttl: DurationLike | None


class QueueConfig(TypedDict, total=False):
    """Queue settings accepted by ``create_queue`` and ``update_queue``.

    ``None`` leaves a setting at the server's default; in ``update_queue`` it resets it there.
    """

    kind: types_pb2.QueueKind.ValueType | None
    lease: DurationLike | None
    max_deliveries: int | None
    dead_letter_queue: str | None
    retry_backoff: types_pb2.RetryBackoff | None
    dedup_window: DurationLike | None
    message_ttl: DurationLike | None
    default_delay: DurationLike | None
    max_depth: int | None
    overflow_policy: types_pb2.OverflowPolicy.ValueType | None
    max_payload_bytes: int | None
    dedup_by_content: bool | None


def to_duration(value: DurationLike) -> duration_pb2.Duration:
    """A protobuf ``Duration`` from seconds, a ``timedelta`` or a ``Duration``."""
    out = duration_pb2.Duration()
    if isinstance(value, duration_pb2.Duration):
        out.CopyFrom(value)
    else:
        out.FromTimedelta(value if isinstance(value, timedelta) else timedelta(seconds=value))
    return out


def _opt_duration(value: DurationLike | None) -> duration_pb2.Duration | None:
    return None if value is None else to_duration(value)


def _check_keys(given: Mapping[str, object], allowed: type[Any], what: str) -> None:
    # TypedDict only guards typed callers; untyped ones get a TypeError instead of a setting
    # that is silently ignored.
    unknown = set(given) - set(allowed.__annotations__)
    if unknown:
        raise TypeError(
            f"unknown {what} {sorted(unknown)}; expected {sorted(allowed.__annotations__)}"
        )


def make_message(payload: bytes = b"", **fields: Unpack[MessageFields]) -> types_pb2.Message:
    """A ``Message`` to pass to ``send``; the server assigns its id."""
    _check_keys(fields, MessageFields, "message fields")
    return types_pb2.Message(
        payload=payload,
        topic=fields.get("topic", ""),
        attributes=fields.get("attributes"),
        guarantee=fields.get("guarantee", types_pb2.GUARANTEE_UNSPECIFIED),
        required_acks=fields.get("required_acks", 0),
        priority=fields.get("priority", 0),
        ordering_key=fields.get("ordering_key", ""),
        dedup_id=fields.get("dedup_id", ""),
        delay=_opt_duration(fields.get("delay")),
        ttl=_opt_duration(fields.get("ttl")),
    )


def retry_backoff(
    initial: DurationLike | None = None,
    *,
    multiplier: float = 0.0,
    max_delay: DurationLike | None = None,
    jitter: float = 0.0,
    delays: Iterable[DurationLike] = (),
) -> types_pb2.RetryBackoff:
    """A ``RetryBackoff``: ``initial * multiplier^(n-1)`` capped at ``max_delay``, or ``delays``."""
    return types_pb2.RetryBackoff(
        initial=_opt_duration(initial),
        multiplier=multiplier,
        max=_opt_duration(max_delay),
        jitter=jitter,
        delays=[to_duration(d) for d in delays],
    )


def build_queue(name: str, config: QueueConfig) -> types_pb2.Queue:
    """A ``Queue`` named ``name`` with the given settings; unset ones stay at their defaults."""
    _check_keys(config, QueueConfig, "queue settings")
    return types_pb2.Queue(
        name=name,
        kind=config.get("kind") or types_pb2.QUEUE_KIND_UNSPECIFIED,
        lease=_opt_duration(config.get("lease")),
        max_deliveries=config.get("max_deliveries") or 0,
        dead_letter_queue=config.get("dead_letter_queue") or "",
        retry_backoff=config.get("retry_backoff"),
        dedup_window=_opt_duration(config.get("dedup_window")),
        message_ttl=_opt_duration(config.get("message_ttl")),
        default_delay=_opt_duration(config.get("default_delay")),
        max_depth=config.get("max_depth") or 0,
        overflow_policy=config.get("overflow_policy") or types_pb2.OVERFLOW_POLICY_UNSPECIFIED,
        max_payload_bytes=config.get("max_payload_bytes") or 0,
        dedup_by_content=bool(config.get("dedup_by_content")),
    )


def update_mask(changes: QueueConfig) -> field_mask_pb2.FieldMask:
    """The mask naming exactly the settings in ``changes`` (an empty mask would reset all)."""
    _check_keys(changes, QueueConfig, "queue settings")
    if not changes:
        raise ValueError("update_queue needs at least one setting to change")
    return field_mask_pb2.FieldMask(paths=sorted(changes))


def send_request(
    messages: Iterable[types_pb2.Message],
    queue: str,
    wait_for: types_pb2.WaitFor.ValueType,
    timeout: DurationLike | None,
) -> broker_pb2.SendRequest:
    """A ``SendRequest``; an empty ``queue`` routes each message by its topic."""
    return broker_pb2.SendRequest(
        queue=queue, messages=messages, wait_for=wait_for, timeout=_opt_duration(timeout)
    )


def receive_request(
    queue: str,
    subscription: str,
    filter: str,
    max_outstanding_messages: int,
    max_outstanding_bytes: int,
    lease: DurationLike | None,
) -> broker_pb2.ReceiveRequest:
    """A ``ReceiveRequest``; zero flow-control values take the server's defaults."""
    return broker_pb2.ReceiveRequest(
        queue=queue,
        subscription=subscription,
        filter=filter,
        max_outstanding_messages=max_outstanding_messages,
        max_outstanding_bytes=max_outstanding_bytes,
        lease=_opt_duration(lease),
    )


def pull_request(
    queue: str,
    subscription: str,
    filter: str,
    max_messages: int,
    wait: DurationLike,
    lease: DurationLike | None,
) -> broker_pb2.PullRequest:
    """A ``PullRequest`` that waits up to ``wait`` for the first message."""
    return broker_pb2.PullRequest(
        queue=queue,
        subscription=subscription,
        filter=filter,
        max_messages=max_messages,
        wait=to_duration(wait),
        lease=_opt_duration(lease),
    )


def nack_request(
    ack_ids: Iterable[str], delay: DurationLike | None, dead_letter: bool, reason: str
) -> broker_pb2.NackRequest:
    """A ``NackRequest``; without ``delay`` the queue's retry backoff applies."""
    return broker_pb2.NackRequest(
        ack_ids=ack_ids, delay=_opt_duration(delay), dead_letter=dead_letter, reason=reason
    )


def seconds(value: DurationLike | None) -> float:
    """``value`` in seconds (0 for ``None``), for adding to call deadlines."""
    return 0.0 if value is None else to_duration(value).ToTimedelta().total_seconds()


SERVER_DELIVERED_WAIT_S = 30.0
"""How long the server holds a ``WAIT_FOR_DELIVERED`` Send without a timeout (SendRequest doc);
a client deadline must outlast it."""


def send_wait_seconds(wait_for: types_pb2.WaitFor.ValueType, timeout: DurationLike | None) -> float:
    """How long the server may hold a Send before answering, beyond normal processing."""
    if wait_for != types_pb2.WAIT_FOR_DELIVERED:
        return 0.0
    return SERVER_DELIVERED_WAIT_S if timeout is None else seconds(timeout)


def publish_message(
    destination: str, payload: bytes, by_topic: bool, fields: MessageFields
) -> tuple[types_pb2.Message, str]:
    """The message and queue for ``publish``: by topic, the queue is empty and routing decides."""
    if not by_topic:
        return make_message(payload, **fields), destination
    if "topic" in fields:
        raise TypeError("publish(by_topic=True) takes the topic as destination, not topic=")
    message = make_message(payload, **fields)
    message.topic = destination
    return message, ""
