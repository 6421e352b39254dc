"""Operating queues through the real server and the Python SDK: pause and resume, rates after
a known workload, per-subscription lag, and ListQueueStats over every queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from rpc_helpers import secs
from server_helpers import ServerProcess

from conveyor.v1 import types_pb2
from conveyor_client import Client, NotFound, make_message


@pytest.fixture
def client(server: ServerProcess) -> Iterator[Client]:
    with Client(server.address, timeout=10) as c:
        yield c


def _send(client: Client, queue: str, count: int, prefix: str = "m") -> list[str]:
    results = client.send([make_message(f"{prefix}{i}".encode()) for i in range(count)], queue)
    assert not any(r.HasField("error") for r in results)
    return [r.message_id for r in results]


def test_pause_stores_sends_and_delivers_nothing_until_resumed(client: Client, qname: str) -> None:
    client.create_queue(qname)
    assert client.pull(qname, "s", wait=0) == []  # creates the subscription
    assert client.pause_queue(qname) is True
    assert client.pause_queue(qname) is False
    ids = _send(client, qname, 5)
    assert client.pull(qname, "s", max_messages=10, wait=0.3) == []
    stats = client.stats(qname)
    assert (stats.paused, stats.ready, stats.sent) == (True, 5, 5)

    # A stream opened while paused stays idle, then gets everything on resume.
    got: list[str] = []
    stream = client.receive(qname, "s")
    reader = threading.Thread(
        target=lambda: got.extend(next(stream).message.id for _ in range(5)), daemon=True
    )
    reader.start()
    time.sleep(0.5)
    assert got == []
    assert client.resume_queue(qname) is True
    reader.join(timeout=10)
    assert sorted(got) == sorted(ids)
    assert client.stats(qname).paused is False
    assert client.resume_queue(qname) is False


def test_leases_in_flight_run_on_while_paused(client: Client, qname: str) -> None:
    client.create_queue(qname)
    _send(client, qname, 2)
    first, second = client.pull(qname, "s", max_messages=2, wait=5, lease=1)
    client.pause_queue(qname)
    assert client.ack([first.ack_id]) == []
    time.sleep(1.5)  # the second lease ends while paused: ready again, not redelivered
    assert client.pull(qname, "s", wait=0.3) == []
    stats = client.stats(qname)
    assert (stats.ready, stats.in_flight, stats.acked) == (1, 0, 1)
    client.resume_queue(qname)
    (again,) = client.pull(qname, "s", wait=5)
    assert (again.message.id, again.attempt) == (second.message.id, 2)


def test_pause_of_a_missing_queue_is_not_found(client: Client, qname: str) -> None:
    with pytest.raises(NotFound):
        client.pause_queue(qname)
    with pytest.raises(NotFound):
        client.resume_queue(qname)


def test_rates_after_a_known_workload(client: Client, qname: str) -> None:
    client.create_queue(qname)
    client.pull(qname, "s", wait=0)
    _send(client, qname, 300)
    deliveries = client.pull(qname, "s", max_messages=200, wait=5)
    assert len(deliveries) == 200
    assert client.ack([d.ack_id for d in deliveries[:120]]) == []
    stats = client.stats(qname)
    r1, r5 = stats.rates_1m, stats.rates_5m
    window = secs(r1.window)
    assert 0 < window < 60  # the queue is younger than a minute: the rates cover its life
    assert secs(r5.window) == pytest.approx(window, abs=0.05)
    assert r1.sent * window == pytest.approx(300, rel=0.02)
    assert r1.delivered * window == pytest.approx(200, rel=0.02)
    assert r1.acked * window == pytest.approx(120, rel=0.02)
    assert r1.dead_lettered == 0
    (lag,) = stats.subscription_lag
    assert (lag.subscription, lag.ready, lag.in_flight) == ("s", 100, 80)
    assert secs(lag.oldest_age) > 0


def test_list_queue_stats_returns_every_queue(client: Client, qname: str) -> None:
    client.create_queue(f"{qname}-a")
    client.create_queue(f"{qname}-b", kind=types_pb2.QUEUE_KIND_PRIORITY)
    client.pull(f"{qname}-a", "s", wait=0)
    _send(client, f"{qname}-a", 3)
    client.pause_queue(f"{qname}-b")
    listed = client.list_queue_stats(qname)
    assert [s.queue for s in listed] == [f"{qname}-a", f"{qname}-b"]
    a, b = listed
    assert (a.ready, a.sent, a.paused, a.kind) == (3, 3, False, types_pb2.QUEUE_KIND_STANDARD)
    assert (b.ready, b.paused, b.kind) == (0, True, types_pb2.QUEUE_KIND_PRIORITY)
    assert list(a.subscription_lag) == []  # only when asked for
    (with_lag, _) = client.list_queue_stats(qname, include_subscriptions=True)
    assert [(lag.subscription, lag.ready) for lag in with_lag.subscription_lag] == [("s", 3)]
    everything = {s.queue for s in client.list_queue_stats()}
    assert {f"{qname}-a", f"{qname}-b"} <= everything
