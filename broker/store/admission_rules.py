"""The admission rules every store applies to one message for one queue, before storing it.

Kept apart from any store's state so the embedded and PostgreSQL stores refuse the same
messages with the same words: payload ceiling, deliver delay and TTL with the queue's
defaults, and how many subscriptions a broadcast or quorum message needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from broker import wire
from broker.errors import FailedPrecondition, InvalidArgument, ResourceExhausted
from broker.model import Guarantee, QueueConfig, check_duration
from broker.store.base import NewMessage


def check_payload(item: NewMessage, limit: int, queue: str) -> None:
    if item.size > limit:
        raise ResourceExhausted(
            f"payload of {item.size} bytes exceeds max_payload_bytes, the limit of {limit} bytes "
            f"for queue {queue!r}"
        )


def timing(config: QueueConfig, item: NewMessage) -> tuple[float, float, bytes]:
    """(delay, ttl, extra message fields): the message's own, else the queue's defaults,
    which are then written into the stored message so it says what applied to it."""
    extra = b""
    if item.delay_s is None:
        delay = config.default_delay_s
        if delay:
            extra += wire.delay_field(delay)
    else:
        delay = check_duration("delay", item.delay_s)
    if item.ttl_s is None:
        ttl = config.message_ttl_s
        if ttl:
            extra += wire.ttl_field(ttl)
    else:
        ttl = check_duration("ttl", item.ttl_s)
    return delay, ttl, extra


def fanout_acks(item: NewMessage, subs: Sequence[str], queue: str) -> int:
    """Acks a broadcast or quorum message needs, given the subscriptions its topic matches."""
    if item.guarantee == Guarantee.QUORUM:
        if item.required_acks < 1:
            raise InvalidArgument("a QUORUM message needs required_acks of 1 or more")
        if len(subs) < item.required_acks:
            raise FailedPrecondition(
                f"quorum of {item.required_acks} needs that many subscriptions matching "
                f"topic {item.topic!r} on queue {queue!r}; {len(subs)} match"
            )
        return item.required_acks
    if not subs:
        raise FailedPrecondition(
            f"no subscription of queue {queue!r} matches topic {item.topic!r}; a broadcast "
            "needs at least one"
        )
    return len(subs)


def routed(match: Callable[[str], Iterable[str]], topic: str) -> list[str]:
    """The queues a topic send goes to (the bindings' ``match``), sorted; refused when none."""
    if not topic:
        raise InvalidArgument("message has no topic and the request names no queue")
    found = sorted(match(topic))
    if not found:
        raise FailedPrecondition(
            f"no binding matches topic {topic!r}; bind a pattern to a queue or send to a "
            "queue by name"
        )
    return found
