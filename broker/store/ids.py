"""Message ids and ack ids: self-describing, so any holder of the state can check one.

A message id is its sequence number in lower-case hex. Sequence numbers only grow, and a new
data directory starts them from the clock (milliseconds << 16), so ids of a wiped directory
are not reused by its successor.

An ack id names one delivery attempt: ``{queue}:{seq hex}:{copy}:{token hex}``. ``copy`` is
the index of the message's per-subscription copy (0 for a message with one copy); ``token``
is 64 random bits drawn for the claim that leased it (queue names cannot contain ``:``). An ack
whose token is not the copy's current one is for an attempt whose lease has ended.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

TOKEN_BITS = 64


def first_seq() -> int:
    return int(time.time() * 1000) << 16


def message_id(seq: int) -> str:
    return f"{seq:x}"


def parse_message_id(message_id: str) -> int | None:
    if not 0 < len(message_id) <= 16:
        return None
    try:
        return int(message_id, 16)
    except ValueError:
        return None


def chosen_seqs(message_ids: Sequence[str]) -> tuple[set[int], int] | None:
    """The sequence numbers ``message_ids`` name and how many of them name none; None when
    no ids were given (every message is a candidate)."""
    if not message_ids:
        return None
    seqs = {s for s in map(parse_message_id, message_ids) if s is not None}
    return seqs, len(set(message_ids)) - len(seqs)


def new_token() -> int:
    return secrets.randbits(TOKEN_BITS)


def ack_id(prefix: str, seq: int, copy: int, token_hex: str) -> str:
    return f"{prefix}{seq:x}:{copy}:{token_hex}"


def parse_ack_id(ack_id: str) -> tuple[str, int, int, str] | None:
    """``(queue, seq, copy, token hex)``, or None for anything that is not an ack id. The
    token stays text: it is compared with the claim's, never computed with."""
    parts = ack_id.rsplit(":", 3)
    if len(parts) != 4 or len(ack_id) > 400:
        return None
    queue, seq, copy, token = parts
    try:
        return queue, int(seq, 16), 0 if copy == "0" else int(copy), token
    except ValueError:
        return None
