"""The broker's spans, after the OpenTelemetry messaging conventions (still "development").

One span per batch, never per message: ``send {queue}`` for a Send batch, ``receive {queue}``
for a delivery batch, ``ack {queue}`` / ``nack {queue}`` for a batch of settlements. A
message's creation context travels in its ``traceparent`` attribute: a sender's is kept (and
the send span links to it); a message without one gets the send span's, appended to its
bytes as one more ``attributes`` map entry (protobuf merges repeated map entries), so the
byte pass-through of plain messages stays a pass-through. Receive and settle spans *link* to
each message's creation context, deduplicated and capped at ``MAX_LINKS``.

Nothing here runs unless tracing is configured (``broker.telemetry.providers``): the service
holds ``None`` instead of a ``Tracing`` and skips every hook with one test.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from broker import wire
from broker.store.base import Claim, NewMessage, PublishResult

SYSTEM = "conveyor"
MAX_LINKS = 128
"""Links per span: a batch of 1,000 deliveries from 1,000 traces keeps the first 128."""
MAX_REMEMBERED = 200_000
"""Ack ids whose message context is kept until settled (oldest forgotten first)."""
TRACEPARENT = "traceparent"
_ENTRY_KEY = b"\n" + wire.varint(len(TRACEPARENT)) + TRACEPARENT.encode()
_TP_LEN = 55
"""``00-<32 hex>-<16 hex>-<2 hex>``."""
_TP_MARK = _ENTRY_KEY + b"\x12" + wire.varint(_TP_LEN)
_ATTRIBUTES_KEY = wire.varint(4 << 3 | 2)
_ENTRY_LEN = wire.varint(len(_TP_MARK) + _TP_LEN)
_OLD_OPERATION = {"send": "publish", "process": "deliver"}
"""``messaging.operation`` values of the conventions before 1.26, for ``messaging/dup``."""


def stability_dup(environ: Mapping[str, str] | None = None) -> bool:
    """``OTEL_SEMCONV_STABILITY_OPT_IN`` lists ``messaging/dup``: emit the pre-1.26 attribute
    (``messaging.operation``) beside the current ones. ``messaging`` (or nothing) emits only
    the current conventions: Conveyor never emitted older ones."""
    raw = (os.environ if environ is None else environ).get("OTEL_SEMCONV_STABILITY_OPT_IN", "")
    return "messaging/dup" in {part.strip() for part in raw.split(",")}


def traceparent_entry(context: SpanContext) -> bytes:
    """The ``attributes`` map entry ``traceparent`` -> ``context``, encoded."""
    value = f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
    return _ATTRIBUTES_KEY + _ENTRY_LEN + _TP_MARK + value.encode()


def parse_traceparent(value: bytes | str) -> SpanContext | None:
    """A remote span context from a W3C ``traceparent`` (version 00), or None if malformed."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    parts = text.split("-")
    if len(parts) != 4 or parts[0] != "00" or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        trace_id, span_id, flags = int(parts[1], 16), int(parts[2], 16), int(parts[3], 16)
    except ValueError:
        return None
    if not trace_id or not span_id or len(parts[3]) != 2:
        return None
    return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags))


def traceparent_in(data: bytes) -> bytes | None:
    """The ``traceparent`` attribute of a stored message's bytes, found without parsing.

    The last match wins: attributes follow the payload in the encoding, and the server's
    appended fields (id, times, queue) cannot hold the pattern."""
    i = data.rfind(_TP_MARK)
    if i < 0:
        return None
    start = i + len(_TP_MARK)
    return data[start : start + _TP_LEN]


class Tracing:
    """The broker's spans; owned by the event loop."""

    def __init__(self, tracer: trace.Tracer, *, dup: bool = False) -> None:
        self.tracer = tracer
        self.dup = dup
        self._contexts: dict[str, SpanContext] = {}
        """Ack id -> its message's creation context, from delivery until settled."""

    def _attributes(
        self, operation: str, kind: str, destination: str, count: int
    ) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "messaging.system": SYSTEM,
            "messaging.operation.type": kind,
            "messaging.operation.name": operation,
        }
        if destination:
            attributes["messaging.destination.name"] = destination
        if count != 1:
            attributes["messaging.batch.message_count"] = count
        if self.dup:
            attributes["messaging.operation"] = _OLD_OPERATION.get(kind, kind)
        return attributes

    # -- sending -------------------------------------------------------------------------

    def start_send(self, queue: str, batch: Sequence[NewMessage]) -> trace.Span:
        """Starts the span of a Send batch and gives every message that came without a
        creation context this span's. PRODUCER when its context creates some message, else
        CLIENT (per the conventions: the sender's ``create`` spans were the producers)."""
        destination = queue or _common_topic(batch)
        if _TP_MARK not in b"".join([m.raw for m in batch]):
            # No message came with a context (the common case): one search in C instead
            # of one per message. A mark straddling two messages only means the long way.
            span = self.tracer.start_span(
                f"send {destination}" if destination else "send",
                kind=SpanKind.PRODUCER,
                attributes=self._attributes("send", "send", destination, len(batch)),
            )
            entry = traceparent_entry(span.get_span_context())
            for message in batch:
                message.raw += entry
            return span
        parsed: dict[bytes, SpanContext | None] = {}
        senders: list[SpanContext | None] = []
        for message in batch:
            value = traceparent_in(message.raw)
            if value is None:
                senders.append(None)
                continue
            if value not in parsed:
                parsed[value] = parse_traceparent(value)
            senders.append(parsed[value])
        links = _links(c for c in senders if c is not None)
        creates = any(c is None for c in senders)
        span = self.tracer.start_span(
            f"send {destination}" if destination else "send",
            kind=SpanKind.PRODUCER if creates else SpanKind.CLIENT,
            attributes=self._attributes("send", "send", destination, len(batch)),
            links=links,
        )
        if creates:
            entry = traceparent_entry(span.get_span_context())
            for message, sender in zip(batch, senders, strict=True):
                if sender is None:
                    message.raw += entry
        return span

    @staticmethod
    def end_send(span: trace.Span, results: Sequence[PublishResult | BaseException]) -> None:
        if len(results) == 1 and results[0].__class__ is str:
            span.set_attribute("messaging.message.id", results[0])
        span.end()

    # -- consuming -----------------------------------------------------------------------

    def received(self, queue: str, subscription: str, claim: Claim) -> None:
        """One ``receive`` span for a delivery batch, linked to each message's creation
        context; the contexts are kept per ack id for the settle spans."""
        deliveries = claim.deliveries
        if not deliveries:
            return
        seen: dict[bytes, SpanContext | None] = {}
        remembered = self._contexts
        for ack_id, data, _attempt, _size in deliveries:
            value = traceparent_in(data)
            if value is None:
                continue
            context = seen.get(value)
            if context is None:
                if value in seen:
                    continue
                context = seen[value] = parse_traceparent(value)
                if context is None:
                    continue
            remembered[ack_id] = context
        while len(remembered) > MAX_REMEMBERED:
            del remembered[next(iter(remembered))]
        attributes = self._attributes("receive", "receive", queue, len(deliveries))
        attributes["messaging.destination.subscription.name"] = subscription
        if len(deliveries) == 1:
            attributes["messaging.message.id"] = _message_id(deliveries[0][1])
        self.tracer.start_span(
            f"receive {queue}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            links=_links(c for c in seen.values() if c is not None),
        ).end()

    def settled(
        self,
        operation: str,
        ack_ids: Sequence[str],
        failed: Sequence[str],
        subscription: str = "",
        error: tuple[str, str] | None = None,
    ) -> None:
        """One settle span (``ack`` or ``nack``) for a batch of ack ids, linked to their
        messages' creation contexts."""
        if not ack_ids:
            return
        remembered = self._contexts
        contexts = [c for c in (remembered.pop(a, None) for a in ack_ids) if c is not None]
        queue = _queue_of(ack_ids)
        attributes = self._attributes(operation, "settle", queue, len(ack_ids))
        if subscription:
            attributes["messaging.destination.subscription.name"] = subscription
        if failed:
            attributes["conveyor.failed_ack_ids"] = len(failed)
        span = self.tracer.start_span(
            f"{operation} {queue}" if queue else operation,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            links=_links(contexts),
        )
        if error is not None:
            failure(span, *error)
        span.end()


def failure(span: trace.Span, error_type: str, message: str) -> None:
    """Marks a span failed; ``error_type`` is low-cardinality (a status code's name)."""
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, message))


def _links(contexts: Iterable[SpanContext]) -> list[Link]:
    links: list[Link] = []
    seen: set[tuple[int, int]] = set()
    for context in contexts:
        key = (context.trace_id, context.span_id)
        if key in seen:
            continue
        seen.add(key)
        links.append(Link(context))
        if len(links) >= MAX_LINKS:
            break
    return links


def _common_topic(batch: Sequence[NewMessage]) -> str:
    topics = {m.topic for m in batch}
    return topics.pop() if len(topics) == 1 else ""


def _queue_of(ack_ids: Sequence[str]) -> str:
    """The queue named by every ack id (``queue:seq:index:token``), or "" when they differ."""
    queues = {a.rsplit(":", 3)[0] for a in ack_ids}
    return queues.pop() if len(queues) == 1 else ""


def _message_id(data: bytes) -> str:
    from conveyor.v1 import types_pb2

    try:
        return str(types_pb2.Message.FromString(data).id)
    except Exception:
        return ""
