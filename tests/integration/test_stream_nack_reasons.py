"""Nacks on StreamingReceive carry reasons (``nack_reasons``, parallel to ``nack_ids``) against
the real server: the last one is kept and shown on the dead letter after max deliveries; a
frame whose reasons do not pair up with its nacks is refused without losing its acks."""

from __future__ import annotations

import grpc
from rpc_helpers import create_queue, dead_letters, dur, pull, send, stats, wait_until
from stream_helpers import BidiStream, collect_deliveries, numbered

from conveyor.v1 import broker_pb2, types_pb2


def _stream(broker_stub, queue: str) -> BidiStream:
    return BidiStream(
        broker_stub.StreamingReceive,
        broker_pb2.StreamingReceiveRequest(
            queue=queue, subscription="s", max_outstanding_messages=10, lease=dur(30)
        ),
    )


def _fast_retries(admin_stub, qname: str, max_deliveries: int) -> str:
    dlq = f"{qname}-dlq"
    create_queue(admin_stub, dlq)
    create_queue(
        admin_stub,
        qname,
        dead_letter_queue=dlq,
        max_deliveries=max_deliveries,
        retry_backoff=types_pb2.RetryBackoff(initial=dur(0.01)),
    )
    return dlq


def test_stream_nack_reasons_end_up_on_the_dead_letter(broker_stub, admin_stub, qname):
    dlq = _fast_retries(admin_stub, qname, max_deliveries=3)
    first, second = (r.message_id for r in send(broker_stub, qname, *numbered(2)))
    # Per attempt, the reasons of (first, second); "" adds none, so the last one given stays.
    rounds = [("timeout", "db down"), ("db down", ""), ("disk full", "")]
    stream = _stream(broker_stub, qname)
    try:
        for attempt, (reason_a, reason_b) in enumerate(rounds, start=1):
            got, _ = collect_deliveries(stream.pump, 2, timeout=5)
            assert sorted(d.message.id for d in got) == sorted([first, second])
            assert {d.attempt for d in got} == {attempt}
            by_id = {d.message.id: d.ack_id for d in got}
            stream.send(
                broker_pb2.StreamingReceiveRequest(
                    nack_ids=[by_id[first], by_id[second]], nack_reasons=[reason_a, reason_b]
                )
            )
        wait_until(lambda: len(dead_letters(admin_stub, dlq)) == 2, what="two dead letters")
        letters = dead_letters(admin_stub, dlq)
        infos = {m.dead_letter.source_message_id: m.dead_letter for m in letters}
        assert infos[first].last_nack_reason == "disk full"
        assert infos[second].last_nack_reason == "db down"
        assert infos[first].reason_code == types_pb2.DEAD_LETTER_REASON_MAX_DELIVERIES
        assert (infos[first].attempts, infos[second].attempts) == (3, 3)
        assert stats(admin_stub, qname).nacked == 6
    finally:
        stream.close()


def test_acks_and_nacks_with_reasons_share_one_frame(broker_stub, admin_stub, qname):
    dlq = _fast_retries(admin_stub, qname, max_deliveries=1)
    kept, failed = (r.message_id for r in send(broker_stub, qname, *numbered(2)))
    stream = _stream(broker_stub, qname)
    try:
        got, _ = collect_deliveries(stream.pump, 2, timeout=5)
        by_id = {d.message.id: d.ack_id for d in got}
        stream.send(
            broker_pb2.StreamingReceiveRequest(
                ack_ids=[by_id[kept]], nack_ids=[by_id[failed]], nack_reasons=["bad payload"]
            )
        )
        (letter,) = wait_until(lambda: dead_letters(admin_stub, dlq), what="a dead letter")
        assert letter.dead_letter.source_message_id == failed
        assert letter.dead_letter.last_nack_reason == "bad payload"
        s = stats(admin_stub, qname)
        assert (s.acked, s.nacked, s.in_flight, s.depth) == (1, 1, 0, 0)
    finally:
        stream.close()


def test_nack_reasons_that_do_not_pair_up_are_refused_and_the_acks_still_count(
    broker_stub, admin_stub, qname
):
    create_queue(admin_stub, qname)
    acked, *nacked = (r.message_id for r in send(broker_stub, qname, *numbered(3)))
    stream = _stream(broker_stub, qname)
    try:
        got, _ = collect_deliveries(stream.pump, 3, timeout=5)
        by_id = {d.message.id: d.ack_id for d in got}
        stream.send(
            broker_pb2.StreamingReceiveRequest(
                ack_ids=[by_id[acked]],
                nack_ids=[by_id[m] for m in nacked],
                nack_reasons=["only one reason"],
            )
        )
        assert stream.pump.ended(5)
        assert stream.pump.code() == grpc.StatusCode.INVALID_ARGUMENT
        details = stream.pump.error.details()  # type: ignore[union-attr]
        assert "nack_reasons has 1 entries for 2 nack_ids" in details
        # The ack counted; the nacks did not, but the closed stream gave their messages back
        # at once (not at the end of their 30 s lease), attempts counted, not as failures.
        s = stats(admin_stub, qname)
        assert (s.acked, s.nacked) == (1, 0)
        wait_until(lambda: stats(admin_stub, qname).ready == 2, timeout=5, what="2 ready")
        again = pull(broker_stub, qname, "s", max_messages=10)
        assert sorted(d.message.id for d in again) == sorted(nacked)
        assert {d.attempt for d in again} == {2}
    finally:
        stream.close()


def test_reasons_without_nacks_are_refused(broker_stub, admin_stub, qname):
    create_queue(admin_stub, qname)
    stream = _stream(broker_stub, qname)
    try:
        stream.send(broker_pb2.StreamingReceiveRequest(nack_reasons=["for nothing"]))
        assert stream.pump.ended(5)
        assert stream.pump.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        stream.close()
