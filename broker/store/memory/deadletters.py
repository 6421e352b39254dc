"""Dead letters: moving a unit to its queue's dead-letter queue, and what a dead letter holds.

A dead letter is a new message in the dead-letter queue: the original's content (not its
server fields), its ``dead_letter`` origin (source queue and message, subscription for a
fan-out copy, attempts, reason in words and as a code, the last nack reason a consumer
gave, time), at-least-once (fire-and-forget stays so, and unstored),
deliverable at once, with no TTL. Without a dead-letter queue the unit is dropped (counted by
the caller). A full dead-letter queue still takes dead letters: losing them would hide the
failures they record.
"""

from __future__ import annotations

from broker import wire
from broker.model import DeadLetterReason, Guarantee
from broker.store.ids import message_id
from broker.store.memory import messages
from broker.store.memory.machine import Machine
from broker.store.memory.queue import QueueState
from broker.store.memory.records import Msg, Unit, unit_key, units
from conveyor.v1 import types_pb2

_SERVER_FIELDS = ("id", "queue", "publish_time", "dead_letter", "guarantee", "required_acks")


def content(data: bytes) -> types_pb2.Message:
    """A stored message's bytes without the fields the server assigns."""
    message = types_pb2.Message.FromString(data)
    for name in _SERVER_FIELDS:
        message.ClearField(name)  # type: ignore[arg-type]
    return message


def origin(data: bytes) -> types_pb2.DeadLetterInfo | None:
    message = types_pb2.Message.FromString(data)
    return message.dead_letter if message.HasField("dead_letter") else None


def move(
    m: Machine, q: QueueState, msg: Msg, unit: Unit | None, reason: str, code: DeadLetterReason
) -> Msg | None:
    """Copies ``msg`` (one unit of it, or all for an expiry) into the dead-letter queue."""
    dlq = m.queues.get(q.config.dead_letter_queue)
    if dlq is None:
        return None
    now = m.clock()
    tries = unit.attempts if unit is not None else sum(u.attempts for u in units(msg))
    stored = msg.guarantee != Guarantee.FIRE_AND_FORGET
    last_nack = ""
    if q.nack_reasons:
        for u in (unit,) if unit is not None else units(msg):
            last_nack = q.nack_reasons.get(unit_key(u), "") or last_nack
    info = wire.dead_letter_field(
        source_queue=q.name,
        reason=reason,
        attempts=tries,
        time=now,
        subscription=(unit.sub or "") if unit is not None and msg.copies is not None else "",
        source_message_id=message_id(msg.seq),
        reason_code=code,
        last_nack_reason=last_nack,
    )
    new = messages.create(
        dlq,
        m.take_seqs(1),
        content(msg.data).SerializeToString(),
        msg.topic,
        msg.size,
        Guarantee.AT_LEAST_ONCE if stored else Guarantee.FIRE_AND_FORGET,
        msg.priority,
        msg.key,
        now,
        wire.publish_time_field(now),
        now,
        0.0,
        extra=info,
    )
    dlq.counters.sent += 1
    m.journal.published(dlq, (new,), ())
    return new
