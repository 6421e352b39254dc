"""Content-based dedup through the real server and the Python SDK: the same topic, ordering key
and payload inside the window is one message; outside it, a new one."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from server_helpers import ServerProcess

from conveyor_client import Client, make_message


@pytest.fixture
def client(server: ServerProcess) -> Iterator[Client]:
    with Client(server.address, timeout=10) as c:
        yield c


def test_same_content_inside_the_window_is_one_message(client: Client, qname: str) -> None:
    created = client.create_queue(qname, dedup_by_content=True, dedup_window=0.5)
    assert created.dedup_by_content
    first, again, other, keyed = client.send(
        [
            make_message(b"invoice 9", topic="billing"),
            make_message(b"invoice 9", topic="billing"),
            make_message(b"invoice 9", topic="billing.eu"),
            make_message(b"invoice 9", topic="billing", dedup_id="explicit"),
        ],
        qname,
    )
    assert (again.duplicate, again.message_id) == (True, first.message_id)
    assert not other.duplicate
    assert not keyed.duplicate  # an explicit dedup id wins
    assert client.stats(qname).depth == 3
    time.sleep(0.7)  # past the window
    (later,) = client.send([make_message(b"invoice 9", topic="billing")], qname)
    assert not later.duplicate
    assert later.message_id != first.message_id
    assert client.stats(qname).duplicates == 1


def test_dedup_by_content_is_off_by_default_and_can_be_switched(client: Client, qname: str) -> None:
    assert not client.create_queue(qname).dedup_by_content
    a, b = client.send([make_message(b"same"), make_message(b"same")], qname)
    assert (a.duplicate, b.duplicate) == (False, False)
    assert client.update_queue(qname, dedup_by_content=True).dedup_by_content
    c, d = client.send([make_message(b"same"), make_message(b"same")], qname)
    assert (c.duplicate, d.duplicate, d.message_id) == (False, True, c.message_id)
    assert not client.update_queue(qname, dedup_by_content=None).dedup_by_content
