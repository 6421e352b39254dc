"""Reconnect across a restart of the real server process, on the same port and data directory:
no message lost, and no handler run twice for a message whose ack the server had counted."""

from __future__ import annotations

import threading
from collections import Counter

from rpc_helpers import wait_until
from server_helpers import start_server

from conveyor.v1 import types_pb2
from conveyor_client import Backoff, Client, ReceivedMessage, Subscriber


def test_subscriber_reconnects_across_a_server_restart(tmp_path):
    data = tmp_path / "data"
    srv = start_server(data)
    address = srv.address
    handled: Counter[str] = Counter()
    cond = threading.Condition()

    def handle(m: ReceivedMessage) -> None:
        with cond:
            handled[m.id] += 1
            cond.notify_all()

    def wait_handled(n: int) -> None:
        with cond:
            assert cond.wait_for(lambda: len(handled) >= n, 30), f"handled {len(handled)}/{n}"

    sub = None
    try:
        with Client(address, timeout=10) as c:
            c.create_queue("orders", lease=30.0)
        sub = Subscriber(
            address, "orders", "billing", handle, backoff=Backoff(initial=0.05, maximum=0.5)
        )
        sub.start()
        with Client(address, timeout=10) as c:
            before = [c.publish("orders", b"before-%d" % i).message_id for i in range(10)]
            wait_handled(10)
            wait_until(lambda: c.stats("orders").acked == 10, 10, what="acks counted")

        assert srv.stop() == 0
        srv = start_server(data, "--listen", address)  # same port, same data
        assert srv.address == address

        with Client(address, timeout=10) as c:
            after = [c.publish("orders", b"after-%d" % i).message_id for i in range(10)]
            wait_handled(20)
            # (The restarted server has forgotten the statuses of messages acked before it.)
            wait_until(
                lambda: (
                    {c.message_status("orders", i).state for i in after}
                    == {types_pb2.MESSAGE_STATE_DELIVERED}
                ),
                15,
                what="the 10 sent after the restart acked",
            )
            left = c.stats("orders")
            assert (left.ready, left.in_flight, left.delayed) == (0, 0, 0)
        sub.stop()
        stats = sub.stats
        sub = None
        assert set(handled) == set(before + after)  # nothing lost
        assert set(handled.values()) == {1}  # nothing handled twice
        assert stats.reconnects >= 1
        assert stats.acked == 20
    finally:
        if sub is not None:
            sub.stop(timeout=1)
        srv.stop()
