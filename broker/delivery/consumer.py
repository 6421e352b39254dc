"""Flow control for one consumer (a Receive stream, or one Pull call).

The broker never hands a consumer more than ``max_messages`` unacked deliveries or, with a byte
window, more than ``max_bytes`` unacked payload. One exception keeps a stream from stalling for
ever: a message larger than the whole byte window is delivered when nothing else is outstanding.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.model import Copy


class Consumer:
    """Credit and a wake-up for one stream. ``wake`` is set when work or credit may be there."""

    def __init__(
        self,
        subscription: str,
        max_messages: int,
        max_bytes: int,
        lease_s: float,
        *,
        holds_credit: bool = True,
    ) -> None:
        self.subscription = subscription
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.lease_s = lease_s
        self.holds_credit = holds_credit
        """False for Pull: its deliveries outlive the call, so they hold no stream's window."""
        self.outstanding = 0
        self.outstanding_bytes = 0
        self.leased: set[Copy] = set()
        """Copies this stream holds, so closing it touches only those (not the whole queue)."""
        self.wake = asyncio.Event()
        self.closed = False

    def can_take(self, size: int) -> bool:
        if self.closed or self.outstanding >= self.max_messages:
            return False
        if not self.max_bytes or self.outstanding == 0:
            return True
        return self.outstanding_bytes + size <= self.max_bytes

    def taken(self, copy: Copy) -> None:
        self.outstanding += 1
        self.outstanding_bytes += copy.msg.size
        if self.holds_credit:
            self.leased.add(copy)

    def released(self, copy: Copy) -> None:
        self.outstanding -= 1
        self.outstanding_bytes -= copy.msg.size
        self.leased.discard(copy)
        self.wake.set()
