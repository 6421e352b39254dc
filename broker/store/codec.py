"""Encodes the core's state as write-ahead-log entries (``conveyor.wal.v1``) and back.

Times are stored as integer Unix nanoseconds so a replay reproduces them exactly.
"""

from __future__ import annotations

from typing import Any

from broker import convert
from broker.model import (
    Copy,
    CopyState,
    DeadLetterInfo,
    Guarantee,
    MessageState,
    StoredMessage,
)
from conveyor.v1 import types_pb2
from conveyor.wal.v1 import records_pb2

ENTRY = 1
"""The WAL record type of every entry: the body's oneof says what it is."""


def _ns(t: float) -> int:
    return round(t * 1e9)


def _s(ns: int) -> float:
    return ns / 1e9


def copy_record(c: Copy) -> records_pb2.CopyRecord:
    out = records_pb2.CopyRecord(
        attempts=c.attempts,
        visible_at_ns=_ns(c.visible_at),
        done=c.state is CopyState.DONE,
        leased=c.state is CopyState.IN_FLIGHT,
        final=convert.enum_value(c.final or 0),
    )
    if c.sub is not None:
        out.subscription = c.sub
    return out


def _state(msg: StoredMessage) -> dict[str, Any]:
    return {
        "copies": [copy_record(c) for c in msg.copies],
        "acked_by": msg.acked_by,
        "state": convert.enum_value(msg.state),
        "reason": msg.reason,
    }


def _message_fields(msg: StoredMessage) -> types_pb2.Message:
    """The message as the record keeps it. The times live in the record as integers, so the
    Timestamp and Duration objects ``convert.message`` builds for clients are skipped: this
    runs once per stored message on the publish path."""
    out = types_pb2.Message(
        id=msg.id,
        topic=msg.topic,
        payload=msg.payload,
        attributes=msg.attributes,
        guarantee=convert.enum_value(msg.guarantee),
        required_acks=msg.required_acks,
        priority=msg.priority,
        ordering_key=msg.ordering_key,
        dedup_id=msg.dedup_id,
        queue=msg.queue,
    )
    if msg.dead_letter is not None:
        out.dead_letter.CopyFrom(convert.dead_letter_info(msg.dead_letter))
    return out


def message_put(msg: StoredMessage) -> bytes:
    info = msg.dead_letter
    record = records_pb2.MessageRecord(
        message=_message_fields(msg),
        seq=msg.seq,
        publish_time_ns=_ns(msg.publish_time),
        deliver_at_ns=_ns(msg.deliver_at),
        expires_at_ns=_ns(msg.expires_at),
        dead_letter_guarantee=convert.enum_value(info.guarantee if info else 0),
        **_state(msg),
    )
    return records_pb2.Entry(message_put=record).SerializeToString()


def message_update(msg: StoredMessage) -> bytes:
    update = records_pb2.MessageUpdate(queue=msg.queue, id=msg.id, **_state(msg))
    return records_pb2.Entry(message_update=update).SerializeToString()


def apply_update(msg: StoredMessage, update: records_pb2.MessageUpdate) -> None:
    msg.copies = [_copy(msg, r) for r in update.copies]
    msg.acked_by = list(update.acked_by)
    msg.state = MessageState(update.state or MessageState.PENDING)
    msg.reason = update.reason


def _copy(msg: StoredMessage, r: records_pb2.CopyRecord) -> Copy:
    state = CopyState.DONE if r.done else (CopyState.IN_FLIGHT if r.leased else CopyState.DELAYED)
    return Copy(
        msg,
        r.subscription if r.HasField("subscription") else None,
        state=state,
        attempts=r.attempts,
        visible_at=_s(r.visible_at_ns),
        final=MessageState(r.final) if r.final else None,
    )


def stored_message(record: records_pb2.MessageRecord) -> StoredMessage:
    m = record.message
    info = None
    if m.HasField("dead_letter"):
        d = m.dead_letter
        info = DeadLetterInfo(
            source_queue=d.source_queue,
            reason=d.reason,
            attempts=d.attempts,
            time=convert.seconds_of(d.dead_letter_time),
            subscription=d.subscription,
            source_message_id=d.source_message_id,
            guarantee=Guarantee(record.dead_letter_guarantee or Guarantee.AT_LEAST_ONCE),
        )
    msg = StoredMessage(
        id=m.id,
        queue=m.queue,
        topic=m.topic,
        payload=m.payload,
        attributes=dict(m.attributes),
        guarantee=Guarantee(m.guarantee or Guarantee.AT_LEAST_ONCE),
        required_acks=m.required_acks,
        priority=m.priority,
        ordering_key=m.ordering_key,
        dedup_id=m.dedup_id,
        publish_time=_s(record.publish_time_ns),
        seq=record.seq,
        deliver_at=_s(record.deliver_at_ns),
        expires_at=_s(record.expires_at_ns),
        dead_letter=info,
        update_time=_s(record.publish_time_ns),
    )
    msg.copies = [_copy(msg, r) for r in record.copies]
    msg.acked_by = list(record.acked_by)
    msg.state = MessageState(record.state or MessageState.PENDING)
    msg.reason = record.reason
    return msg


def queue_put(queue: types_pb2.Queue) -> bytes:
    return records_pb2.Entry(queue_put=queue).SerializeToString()
