"""Response frames assembled from bytes: Send results and delivery batches.

The hot responses are not built as protobuf objects: a delivery frame is the stored message
bytes wrapped in a few fields (``broker.wire``), and a Send's results are ids and queue names.
``handlers`` passes these bytes to gRPC as they are; everything else is a normal message.
"""

from __future__ import annotations

from collections.abc import Sequence

from broker import wire
from broker.service.status import to_rpc_status
from broker.store.base import Claim, Outcome, PublishResult


def send_results(queue: str, results: Sequence[PublishResult | BaseException]) -> bytes:
    """The ``results`` field of a SendResponse or SendStreamResponse."""
    queue_field = wire.field(wire.R_QUEUES, queue.encode()) if queue else b""
    parts: list[bytes] = []
    add = parts.append
    key, varint = wire.RESULTS, wire.varint
    # A stored message's result is "id, queue, [id]": ids of one length share the bytes
    # around them, so each costs two additions.
    around: dict[int, tuple[bytes, bytes]] = {}
    for result in results:
        if result.__class__ is str:
            encoded = result.encode()
            n = len(encoded)
            frame = around.get(n)
            if frame is None:
                id_len = varint(n)
                body_len = 2 * (len(wire.R_MESSAGE_ID) + len(id_len) + n) + len(queue_field)
                frame = around[n] = (
                    key + varint(body_len) + wire.R_MESSAGE_ID + id_len,
                    queue_field + wire.R_MESSAGE_IDS + id_len,
                )
            add(frame[0])
            add(encoded)
            add(frame[1])
            add(encoded)
            continue
        if isinstance(result, Outcome):
            body = _outcome(result)
        else:
            error = to_rpc_status(result)  # type: ignore[arg-type]
            body = wire.field(wire.R_ERROR, error.SerializeToString())
        add(key)
        add(varint(len(body)))
        add(body)
    return b"".join(parts)


def _outcome(o: Outcome) -> bytes:
    if o.error is not None:
        body = wire.field(wire.R_ERROR, to_rpc_status(o.error).SerializeToString())
        if not o.message_id:
            return body
    else:
        body = b""
    if o.message_id:
        body = wire.field(wire.R_MESSAGE_ID, o.message_id.encode()) + body
    if o.duplicate:
        body += wire.uint_field(wire.R_DUPLICATE, 1)
    return (
        body
        + wire.strings_field(wire.R_QUEUES, o.queues)
        + wire.strings_field(wire.R_MESSAGE_IDS, o.message_ids)
    )


def send_stream_sequence(sequence: int) -> bytes:
    """The ``sequence`` field of a SendStreamResponse (echoing its request's)."""
    return wire.uint_field(wire.STREAM_SEQUENCE, sequence) if sequence else b""


def deliveries(claim: Claim, subscription: str) -> bytes:
    """The ``deliveries`` field of a Receive, StreamingReceive or Pull response."""
    if not claim.deliveries:
        return b""
    tail = wire.delivery_tail(claim.deadline, subscription)
    return wire.deliveries_field(claim.deliveries, tail)


def failed_ack_ids(ack_ids: list[str]) -> bytes:
    return wire.strings_field(wire.FAILED_ACK_IDS, ack_ids)
