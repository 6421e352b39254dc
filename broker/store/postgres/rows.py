"""Plain helpers of the PostgreSQL store: queue configuration as JSON, filters as regular
expressions, tokens as signed 64-bit integers, and message statuses built from unit rows."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from broker.model import Backoff, Guarantee, MessageState, Overflow, QueueConfig, QueueKind
from broker.store.base import CopyStatus, MessageStatus
from broker.store.ids import message_id

WAITING, LEASED, DONE = 0, 1, 2
"""``conveyor_units.state``: waiting (ready once ``visible_at`` has passed, delayed before),
leased (``visible_at`` is the lease deadline), done (``final`` says how it ended)."""

_SIGN = 1 << 63


def config_json(config: QueueConfig) -> str:
    data = dataclasses.asdict(config)
    data["kind"] = int(config.kind)
    data["overflow"] = int(config.overflow)
    return json.dumps(data)


def config_from(text: str) -> QueueConfig:
    data: dict[str, Any] = json.loads(text)
    backoff = data.pop("backoff")
    backoff["delays_s"] = tuple(backoff["delays_s"])
    return QueueConfig(
        **{
            **data,
            "kind": QueueKind(data["kind"]),
            "overflow": Overflow(data["overflow"]),
            "backoff": Backoff(**backoff),
        }
    )


def db_token(token: int) -> int:
    """An unsigned 64-bit token as PostgreSQL's signed ``bigint``."""
    return token - (1 << 64) if token >= _SIGN else token


def token_hex(db_value: int) -> str:
    return f"{db_value % (1 << 64):x}"


@lru_cache(maxsize=1024)
def filter_regex(pattern: str) -> str | None:
    """A POSIX regular expression matching ``'.' || topic`` for the topics ``pattern``
    matches; None for ``#`` (everything, the empty topic too)."""
    if pattern == "#":
        return None
    parts = []
    for segment in pattern.split("."):
        if segment == "*":
            parts.append(r"\.[^.]+")
        elif segment == "#":
            parts.append(r"(\.[^.]+)*")
        else:
            parts.append(r"\." + re.escape(segment))
    return "^" + "".join(parts) + "$"


@lru_cache(maxsize=1024)
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def matches(pattern: str, topic: str) -> bool:
    regex = filter_regex(pattern)
    return regex is None or (bool(topic) and _compiled(regex).match("." + topic) is not None)


def matching(subs: Sequence[tuple[str, str]], topic: str) -> list[str]:
    """Names of the subscriptions ``(name, filter)`` whose filter matches ``topic``, sorted."""
    return sorted(name for name, pattern in subs if matches(pattern, topic))


def _copy_state(final: int, state: int) -> MessageState:
    if final:
        return MessageState(final)
    return MessageState.IN_FLIGHT if state == LEASED else MessageState.PENDING


def status_from(queue: str, seq: int, rows: Iterable[Any]) -> MessageStatus:
    """A message's status from its unit rows (copy order): columns ``sub, state, final,
    attempts, reason, changed, guarantee, required_acks, fanout``.

    The message's own state is derived the way the memory store decides it: fire-and-forget
    is delivered once handed out; a fan-out message is delivered once ``required_acks``
    copies were acked and failed once too few can still be (taking how the latest copy
    ended); any other message is its unit's outcome.
    """
    rows = list(rows)
    first = rows[0]
    guarantee = Guarantee(first["guarantee"])
    copies = tuple(
        CopyStatus(r["sub"] or "", _copy_state(r["final"], r["state"]), r["attempts"]) for r in rows
    )
    attempts = sum(r["attempts"] for r in rows)
    open_ = [r for r in rows if r["state"] != DONE]
    ended = sorted((r for r in rows if r["state"] == DONE), key=lambda r: r["changed"])
    delivered = MessageState.DELIVERED
    state: MessageState
    if first["fanout"]:
        acked = sum(1 for r in rows if r["final"] == delivered)
        acked_by = tuple(r["sub"] for r in rows if r["final"] == delivered)
        required = first["required_acks"]
        failed_last = [r["final"] for r in ended if r["final"] != delivered]
        if acked >= required:
            state = delivered
        elif acked + len(open_) < required:
            state = MessageState(failed_last[-1]) if failed_last else MessageState.DEAD_LETTERED
        elif any(r["state"] == LEASED for r in open_):
            state = MessageState.IN_FLIGHT
        else:
            state = MessageState.PENDING
    else:
        required = 1
        unit = first
        if guarantee is Guarantee.FIRE_AND_FORGET and attempts:
            state = delivered
        elif unit["state"] == DONE:
            state = MessageState(unit["final"])
        else:
            state = MessageState.IN_FLIGHT if unit["state"] == LEASED else MessageState.PENDING
        acked_by = (unit["sub"],) if state is delivered and unit["sub"] else ()
    return MessageStatus(
        queue=queue,
        message_id=message_id(seq),
        state=state,
        acked_by=acked_by,
        required_acks=required,
        attempts=attempts,
        copies=copies,
        reason=ended[-1]["reason"] if ended else "",
        update_time=max(r["changed"] for r in rows),
        guarantee=guarantee,
    )
