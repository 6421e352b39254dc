"""Dead letters that explain themselves, through the real server and the Python SDK: source
queue and subscription, reason in words and as a code, attempts, the last nack reason;
ListDeadLetters filtered by reason and source; redrive keeping or resetting attempt counts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from server_helpers import ServerProcess

from conveyor.v1 import types_pb2
from conveyor_client import Client, InvalidArgument, make_message

MAX = types_pb2.DEAD_LETTER_REASON_MAX_DELIVERIES
NACKED = types_pb2.DEAD_LETTER_REASON_NACKED
EXPIRED = types_pb2.DEAD_LETTER_REASON_EXPIRED


@pytest.fixture
def client(server: ServerProcess) -> Iterator[Client]:
    with Client(server.address, timeout=10) as c:
        yield c


def _fail(client: Client, queue: str, reasons: list[str]) -> None:
    for reason in reasons:
        (d,) = client.pull(queue, "s", wait=5)
        assert client.nack([d.ack_id], reason=reason) == []


def _wait_letters(client: Client, dlq: str, count: int, **where: object) -> list[types_pb2.Message]:
    deadline = time.monotonic() + 10
    while True:
        found = client.list_dead_letters(dlq, **where)  # type: ignore[arg-type]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_dead_letter_says_where_it_came_from_and_why(client: Client, qname: str) -> None:
    dlq = f"{qname}-dlq"
    client.create_queue(dlq)
    client.create_queue(qname, dead_letter_queue=dlq, max_deliveries=3)
    (sent,) = client.send([make_message(b"order-7", topic="orders.eu")], qname)
    _fail(client, qname, ["timeout", "db down", ""])
    (letter,) = _wait_letters(client, dlq, 1)
    info = letter.dead_letter
    assert (letter.payload, letter.topic) == (b"order-7", "orders.eu")
    assert (info.source_queue, info.source_message_id) == (qname, sent.message_id)
    assert (info.reason, info.reason_code) == ("max deliveries exceeded", MAX)
    assert (info.attempts, info.last_nack_reason) == (3, "db down")


def test_list_dead_letters_filters_by_reason_and_source(client: Client, qname: str) -> None:
    dlq, a, b = f"{qname}-dlq", f"{qname}-a", f"{qname}-b"
    client.create_queue(dlq)
    client.create_queue(a, dead_letter_queue=dlq, max_deliveries=1)
    client.create_queue(b, dead_letter_queue=dlq, message_ttl=0.3)
    for name in (a, b):
        assert client.pull(name, "s", wait=0) == []
        assert client.pull(name, "t", wait=0) == []
    client.send([make_message(b"a-max")], a)
    _fail(client, a, ["nope"])
    client.send([make_message(b"b-fan", guarantee=types_pb2.GUARANTEE_BROADCAST)], b)
    (copy,) = client.pull(b, "t", wait=5)
    client.nack([copy.ack_id], dead_letter=True, reason="t rejects it")
    client.send([make_message(b"b-expires")], b)
    every = _wait_letters(client, dlq, 4)  # b-fan's other copy expires too (its TTL)

    def names(found: list[types_pb2.Message]) -> list[tuple[bytes, str]]:
        return sorted((m.payload, m.dead_letter.subscription) for m in found)

    assert names(every) == [(b"a-max", ""), (b"b-expires", ""), (b"b-fan", ""), (b"b-fan", "t")]
    assert names(client.list_dead_letters(dlq, reason=MAX)) == [(b"a-max", "")]
    assert names(client.list_dead_letters(dlq, reason=NACKED)) == [(b"b-fan", "t")]
    assert names(client.list_dead_letters(dlq, reason=EXPIRED)) == [
        (b"b-expires", ""),
        (b"b-fan", ""),
    ]
    assert names(client.list_dead_letters(dlq, source_queue=a)) == [(b"a-max", "")]
    assert names(client.list_dead_letters(dlq, source_subscription="t")) == [(b"b-fan", "t")]
    assert client.list_dead_letters(dlq, source_queue=a, reason=EXPIRED) == []
    with pytest.raises(InvalidArgument):
        client.list_dead_letters(dlq, reason=99)  # type: ignore[arg-type]


@pytest.mark.parametrize(("reset", "next_attempt"), [(False, 3), (True, 1)])
def test_redrive_keeps_or_resets_the_attempt_count(
    client: Client, qname: str, reset: bool, next_attempt: int
) -> None:
    dlq = f"{qname}-dlq"
    client.create_queue(dlq)
    client.create_queue(qname, dead_letter_queue=dlq, max_deliveries=2)
    client.send([make_message(b"again")], qname)
    _fail(client, qname, ["one", "two"])
    assert len(_wait_letters(client, dlq, 1)) == 1
    moved = client.redrive(dlq, reset_attempts=reset)
    assert (moved.redriven, moved.skipped) == (1, 0)
    (d,) = client.pull(qname, "s", wait=5)
    assert (d.message.payload, d.attempt) == (b"again", next_attempt)
    assert client.nack([d.ack_id]) == []
    # Kept: past max deliveries already, so straight back; reset: one more try left.
    back = _wait_letters(client, dlq, 1) if not reset else client.list_dead_letters(dlq)
    assert len(back) == (0 if reset else 1)


def test_redrive_of_chosen_dead_letters_by_id(client: Client, qname: str) -> None:
    dlq = f"{qname}-dlq"
    client.create_queue(dlq)
    client.create_queue(qname, dead_letter_queue=dlq, max_deliveries=1)
    client.send([make_message(p) for p in (b"a", b"b", b"c")], qname)
    for _ in range(3):
        _fail(client, qname, ["no"])
    letters = {m.payload: m.id for m in _wait_letters(client, dlq, 3)}
    moved = client.redrive(dlq, message_ids=[letters[b"c"], letters[b"a"], "0"])
    assert (moved.redriven, moved.skipped) == (2, 1)  # "0" names no dead letter there
    assert [m.payload for m in client.list_dead_letters(dlq)] == [b"b"]
    got = sorted(d.message.payload for d in client.pull(qname, "s", max_messages=5, wait=5))
    assert got == [b"a", b"c"]
