"""What a subscriber owes the server: pending acks, nacks and lease changes, and its leases."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from conveyor.v1 import broker_pb2
from conveyor_client import _convert


@dataclass
class Lease:
    deadline: float  # time.monotonic() when the server's lease ends
    length: float  # the lease last set, in seconds
    received: float  # time.monotonic() of the delivery


class Acks:
    """Acks, nacks and lease changes waiting to be written on the stream, in frames."""

    def __init__(self) -> None:
        self.ack_ids: list[str] = []
        self.nack_ids: list[str] = []
        self.nack_reasons: list[str] = []  # parallel to nack_ids; "" for no reason
        self.leases: dict[str, float] = {}
        self.changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self.ack_ids) + len(self.nack_ids) + len(self.leases)

    def has_more_than_nacks(self) -> bool:
        return bool(self.ack_ids or self.leases)

    def nack(self, ack_id: str, reason: str = "") -> None:
        """Queues a nack of ``ack_id``, with why it failed (kept on its dead letter)."""
        self.nack_ids.append(ack_id)
        self.nack_reasons.append(reason)

    def nacks_by_reason(self) -> dict[str, list[str]]:
        """The waiting nacks grouped by reason, for the unary Nack (one reason a call)."""
        groups: dict[str, list[str]] = {}
        for ack_id, reason in zip(self.nack_ids, self.nack_reasons, strict=True):
            groups.setdefault(reason, []).append(ack_id)
        return groups

    def take(self, nacks: bool = True) -> broker_pb2.StreamingReceiveRequest:
        """A frame with what is waiting; ``nacks=False`` leaves the nacks waiting."""
        # Reasons travel only when there is one: a frame of plain nacks stays as small as before.
        reasons = self.nack_reasons if nacks and any(self.nack_reasons) else []
        request = broker_pb2.StreamingReceiveRequest(
            ack_ids=self.ack_ids,
            nack_ids=self.nack_ids if nacks else [],
            nack_reasons=reasons,
            modify_leases=[
                broker_pb2.LeaseModification(ack_id=a, lease=_convert.to_duration(s))
                for a, s in self.leases.items()
            ],
        )
        self.ack_ids, self.leases = [], {}
        if nacks:
            self.nack_ids, self.nack_reasons = [], []
        return request

    def restore(self, request: broker_pb2.StreamingReceiveRequest) -> None:
        """Puts back a frame that could not be written, ahead of what came since."""
        self.ack_ids[:0] = request.ack_ids
        self.nack_ids[:0] = request.nack_ids
        self.nack_reasons[:0] = request.nack_reasons or [""] * len(request.nack_ids)
        for mod in request.modify_leases:
            self.leases.setdefault(mod.ack_id, mod.lease.ToTimedelta().total_seconds())
