"""Conversions between the proto contract and the store's plain Python values.

Messages cross only as bytes: a Send's messages become ``NewMessage``s holding the sender's
encoding, and what is delivered is the stored encoding (``broker.service.frames``).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2

from broker.errors import InvalidArgument
from broker.model import (
    Backoff,
    DeadLetterReason,
    Guarantee,
    Overflow,
    QueueConfig,
    QueueKind,
    StartPosition,
)
from broker.store.base import (
    DeadLetterFilter,
    MessageStatus,
    NewMessage,
    Peeked,
    QueueStats,
    Rates,
    SubscriptionInfo,
)
from conveyor.v1 import admin_pb2, broker_pb2, types_pb2

MAX_ATTRIBUTES = 64
MAX_ATTRIBUTE_BYTES = 16 * 1024
"""Attributes are metadata (trace context, routing hints), not a second payload."""


def enum_value(value: int) -> Any:
    """A core enum as the proto enum of the same number (the stubs type enums by name)."""
    return int(value)


def seconds(d: duration_pb2.Duration) -> float:
    return d.seconds + d.nanos / 1e9


def duration(s: float) -> duration_pb2.Duration:
    out = duration_pb2.Duration()
    out.FromNanoseconds(round(s * 1e9))
    return out


def timestamp(t: float) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromNanoseconds(round(t * 1e9))
    return out


_GUARANTEES = {int(g): g for g in Guarantee}
_GUARANTEES[0] = Guarantee.AT_LEAST_ONCE


def message_input(m: types_pb2.Message) -> NewMessage:
    """A Send's message, checked. Its bytes are kept as sent, but for a ``dead_letter`` a
    sender may not set (only the server says where a dead letter came from).

    Reads only the fields that are set (``ListFields``): a message is usually a payload and
    perhaps a topic, and every field read from protobuf costs a call.
    """
    out = NewMessage(b"", "", 0)
    for field, value in m.ListFields():
        name = field.name
        if name == "payload":
            out.size = len(value)
        elif name == "topic":
            out.topic = value
        elif name == "attributes":
            if len(value) > MAX_ATTRIBUTES or (
                sum(len(k) + len(v) for k, v in value.items()) > MAX_ATTRIBUTE_BYTES
            ):
                raise InvalidArgument(
                    f"attributes exceed {MAX_ATTRIBUTES} entries or {MAX_ATTRIBUTE_BYTES} "
                    "bytes; put data in the payload"
                )
        elif name == "guarantee":
            guarantee = _GUARANTEES.get(value)
            if guarantee is None:
                raise InvalidArgument(f"unknown guarantee {value}")
            out.guarantee = guarantee
        elif name == "ordering_key":
            out.ordering_key = value
        elif name == "priority":
            out.priority = value
        elif name == "dedup_id":
            out.dedup_id = value
        elif name == "delay":
            out.delay_s = seconds(value)
        elif name == "ttl":
            out.ttl_s = seconds(value)
        elif name == "required_acks":
            out.required_acks = value
        elif name == "dead_letter":
            clean = types_pb2.Message()
            clean.CopyFrom(m)
            clean.ClearField("dead_letter")
            m = clean
    out.raw = m.SerializeToString()
    return out


def message(data: bytes) -> types_pb2.Message:
    """A stored message as the contract's ``Message`` (admin paths; deliveries use bytes)."""
    return types_pb2.Message.FromString(data)


def status(s: MessageStatus) -> types_pb2.MessageStatus:
    return types_pb2.MessageStatus(
        queue=s.queue,
        message_id=s.message_id,
        state=enum_value(s.state),
        acked_by=s.acked_by,
        required_acks=s.required_acks,
        attempts=s.attempts,
        subscriptions=[
            types_pb2.SubscriptionDeliveryStatus(
                subscription=c.subscription, state=enum_value(c.state), attempts=c.attempts
            )
            for c in s.copies
        ],
        reason=s.reason,
        update_time=timestamp(s.update_time),
        guarantee=enum_value(s.guarantee),
    )


_QUEUE_FIELDS = frozenset(
    f.name for f in types_pb2.Queue.DESCRIPTOR.fields if f.name not in ("name", "create_time")
)
"""Settable ``Queue`` fields: every field of the contract's message but the identity and the
output-only timestamp."""


def queue_changes(q: types_pb2.Queue, paths: list[str] | None) -> dict[str, object]:
    """Core field values for the proto fields named by ``paths`` (all fields when None)."""
    if paths is not None:
        unknown = set(paths) - _QUEUE_FIELDS
        if unknown:
            raise InvalidArgument(
                f"update_mask names unknown or read-only fields {sorted(unknown)}; updatable: "
                f"{sorted(_QUEUE_FIELDS)}"
            )
    wanted = _QUEUE_FIELDS if paths is None else set(paths)
    defaults = QueueConfig(name=q.name)
    values: dict[str, object] = {}
    for path in wanted:
        if path == "kind":
            values["kind"] = _enum(QueueKind, q.kind, "kind") or defaults.kind
        elif path == "overflow_policy":
            values["overflow"] = _enum(Overflow, q.overflow_policy, "overflow_policy") or (
                defaults.overflow
            )
        elif path == "retry_backoff":
            values["backoff"] = backoff(q.retry_backoff)
        elif path in (
            "max_deliveries",
            "dead_letter_queue",
            "max_depth",
            "max_payload_bytes",
            "dedup_by_content",
            "retain_acked_bytes",
            "encrypted",
        ):
            values[path] = getattr(q, path)
        elif path == "compress_above_bytes":
            values[path] = q.compress_above_bytes if q.HasField("compress_above_bytes") else None
        elif path == "retain_acked":
            values["retain_acked_s"] = (
                seconds(q.retain_acked) if q.HasField("retain_acked") else 0.0
            )
        else:
            core = {
                "lease": "lease_s",
                "dedup_window": "dedup_window_s",
                "message_ttl": "message_ttl_s",
                "default_delay": "default_delay_s",
            }[path]
            values[core] = (
                seconds(getattr(q, path)) if q.HasField(path) else getattr(defaults, core)  # type: ignore[arg-type]
            )
    return values


def _enum(
    cls: type[QueueKind] | type[Overflow] | type[StartPosition], value: int, what: str
) -> object:
    if value == 0:
        return None
    try:
        return cls(value)
    except ValueError:
        raise InvalidArgument(f"unknown {what} {value}") from None


def backoff(b: types_pb2.RetryBackoff) -> Backoff:
    return Backoff(
        initial_s=seconds(b.initial),
        multiplier=b.multiplier,
        max_s=seconds(b.max),
        jitter=b.jitter,
        delays_s=tuple(seconds(d) for d in b.delays),
    )


def queue_config(q: types_pb2.Queue) -> QueueConfig:
    return QueueConfig(name=q.name).replace(**queue_changes(q, None))


def queue(c: QueueConfig) -> types_pb2.Queue:
    b = c.backoff
    return types_pb2.Queue(
        name=c.name,
        kind=enum_value(c.kind),
        lease=duration(c.lease_s),
        max_deliveries=c.max_deliveries,
        dead_letter_queue=c.dead_letter_queue,
        retry_backoff=types_pb2.RetryBackoff(
            initial=duration(b.initial_s),
            multiplier=b.multiplier,
            max=duration(b.max_s),
            jitter=b.jitter,
            delays=[duration(d) for d in b.delays_s],
        ),
        dedup_window=duration(c.dedup_window_s),
        message_ttl=duration(c.message_ttl_s),
        default_delay=duration(c.default_delay_s),
        max_depth=c.max_depth,
        overflow_policy=enum_value(c.overflow),
        max_payload_bytes=c.max_payload_bytes,
        create_time=timestamp(c.create_time),
        dedup_by_content=c.dedup_by_content,
        retain_acked=duration(c.retain_acked_s) if c.retain_acked_s else None,
        retain_acked_bytes=c.retain_acked_bytes,
        encrypted=c.encrypted,
        compress_above_bytes=c.compress_above_bytes,
    )


def peeked(p: Peeked) -> admin_pb2.PeekedMessage:
    return admin_pb2.PeekedMessage(
        message=message(p.data),
        state=enum_value(p.state),
        attempts=p.attempts,
        due_in=duration(p.due_in_s),
    )


def subscription(info: SubscriptionInfo, consumers: int) -> types_pb2.Subscription:
    return types_pb2.Subscription(
        name=info.name,
        queue=info.queue,
        filter=info.filter,
        create_time=timestamp(info.create_time),
        in_flight=info.in_flight,
        consumers=consumers,
    )


def stats(s: QueueStats) -> admin_pb2.GetQueueStatsResponse:
    return admin_pb2.GetQueueStatsResponse(
        ready=s.ready,
        delayed=s.delayed,
        in_flight=s.in_flight,
        dead_lettered=s.dead_lettered,
        oldest_age=duration(s.oldest_age_s),
        sent=s.sent,
        delivered=s.delivered,
        acked=s.acked,
        nacked=s.nacked,
        redelivered=s.redelivered,
        expired=s.expired,
        dropped=s.dropped,
        duplicates=s.duplicates,
        depth=s.depth,
        subscriptions=s.subscriptions,
        paused=s.paused,
        rates_1m=rates(s.rates_1m),
        rates_5m=rates(s.rates_5m),
        subscription_lag=[
            admin_pb2.SubscriptionLag(
                subscription=lag.subscription,
                ready=lag.ready,
                delayed=lag.delayed,
                in_flight=lag.in_flight,
                oldest_age=duration(lag.oldest_age_s),
                partial=lag.partial,
            )
            for lag in s.lag
        ],
        queue=s.queue,
        kind=enum_value(s.kind or QueueKind.STANDARD),
        retained=s.retained,
        retained_bytes=s.retained_bytes,
        compressed=s.compressed,
        compression_saved_bytes=s.compression_saved_bytes,
    )


def rates(r: Rates) -> admin_pb2.QueueRates:
    return admin_pb2.QueueRates(
        sent=r.sent,
        delivered=r.delivered,
        acked=r.acked,
        dead_lettered=r.dead_lettered,
        window=duration(r.window_s),
    )


MAX_LISTED = 1000
"""Most messages one peek or dead-letter listing returns (``max_messages``), over gRPC and in
the console alike: a bigger look is paged, not one answer the size of a queue."""


def listed_count(requested: int, default: int) -> int:
    """How many messages a peek or dead-letter listing returns: ``requested`` (a request's
    ``max_messages``), ``default`` when 0, ``InvalidArgument`` above ``MAX_LISTED``."""
    if requested > MAX_LISTED:
        raise InvalidArgument(f"max_messages {requested} is above the limit of {MAX_LISTED}")
    return requested or default


def dead_letter_filter(request: admin_pb2.ListDeadLettersRequest) -> DeadLetterFilter:
    try:
        reason = DeadLetterReason(request.reason)
    except ValueError:
        raise InvalidArgument(f"unknown dead-letter reason {request.reason}") from None
    return DeadLetterFilter(reason, request.source_queue, request.source_subscription)


def start_position(
    r: broker_pb2.ReceiveRequest | broker_pb2.StreamingReceiveRequest | broker_pb2.PullRequest,
) -> tuple[StartPosition, float]:
    """Where a subscription the request creates starts (NEW when unset)."""
    position = _enum(StartPosition, r.start_position, "start_position") or StartPosition.NEW
    since = 0.0
    if r.HasField("start_time"):
        since = r.start_time.seconds + r.start_time.nanos / 1e9
    if position is StartPosition.FROM_TIME and not r.HasField("start_time"):
        raise InvalidArgument("start_position FROM_TIME needs start_time")
    return position, since  # type: ignore[return-value]
