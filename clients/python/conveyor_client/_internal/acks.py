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
        self.leases: dict[str, float] = {}
        self.changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self.ack_ids) + len(self.nack_ids) + len(self.leases)

    def has_more_than_nacks(self) -> bool:
        return bool(self.ack_ids or self.leases)

    def take(self, nacks: bool = True) -> broker_pb2.StreamingReceiveRequest:
        """A frame with what is waiting; ``nacks=False`` leaves the nacks waiting."""
        request = broker_pb2.StreamingReceiveRequest(
            ack_ids=self.ack_ids,
            nack_ids=self.nack_ids if nacks else [],
            modify_leases=[
                broker_pb2.LeaseModification(ack_id=a, lease=_convert.to_duration(s))
                for a, s in self.leases.items()
            ],
        )
        self.ack_ids, self.leases = [], {}
        if nacks:
            self.nack_ids = []
        return request

    def restore(self, request: broker_pb2.StreamingReceiveRequest) -> None:
        """Puts back a frame that could not be written, ahead of what came since."""
        self.ack_ids[:0] = request.ack_ids
        self.nack_ids[:0] = request.nack_ids
        for mod in request.modify_leases:
            self.leases.setdefault(mod.ack_id, mod.lease.ToTimedelta().total_seconds())
