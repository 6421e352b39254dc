"""Making a message live in a queue: its bytes, its units, its place in the ready order.

Shared by publish, dead-lettering and redrive. A message's bytes are the sender's encoding
with the fields the server assigns appended (``broker.wire``), built once here.
"""

from __future__ import annotations

from collections.abc import Sequence

from broker import wire
from broker.store.ids import message_id
from broker.store.memory.queue import QueueState, footprint
from broker.store.memory.records import DELAYED, READY, Copy, FanoutMsg, Msg


def create(
    q: QueueState,
    seq: int,
    raw: bytes,
    topic: str,
    size: int,
    guarantee: int,
    priority: int,
    key: str,
    publish_time: float,
    publish_time_field: bytes,
    due: float,
    expires_at: float,
    subs: Sequence[str] | None = None,
    required_acks: int = 1,
    extra: bytes = b"",
) -> Msg:
    """Creates, indexes and (when ready) offers a message. ``subs``: one copy per
    subscription (broadcast, quorum, or a redrive to one subscription); ``extra``: encoded
    fields appended last (a dead letter's origin, a default delay or TTL)."""
    data = b"".join(
        (
            raw,
            wire.message_fields(
                message_id(seq), guarantee, required_acks, publish_time_field, q.queue_field
            ),
            extra,
        )
    )
    state = DELAYED if due > publish_time else READY
    q.usage.stored += footprint(len(data), len(subs) if subs is not None else 0)
    if subs is None:
        msg = Msg(
            seq, data, size, topic, publish_time, state, due, guarantee, priority, key, expires_at
        )
        q.messages[seq] = msg
        q.add_unit(msg)
        if state == READY:
            q.offer(msg)
        return msg
    fan = FanoutMsg(
        seq, data, size, topic, publish_time, state, due, guarantee, priority, key, expires_at
    )
    fan.required_acks = required_acks
    fan.copies = [Copy(fan, i, sub, state, due) for i, sub in enumerate(subs)]
    fan.open = len(subs)
    q.messages[seq] = fan
    for copy in fan.copies:
        q.add_unit(copy)
        if state == READY:
            q.offer(copy)
    return fan
