"""SIGKILL the real server and restart it on the same data directory (SPEC §6, §2, §3, §4).

- Under concurrent producers and consumers, killed and restarted several times: no message
  whose Send returned OK is lost, no message whose Ack returned OK comes back, a lease in
  flight at the kill counts as an attempt, and the queue drains to zero.
- Configuration and message state survive: queues with their settings, bindings and
  subscriptions (and they still route and filter), FIFO order per key, delays, dead letters
  with their reasons, per-subscription acks of a broadcast, and max_deliveries counting attempts
  made before the crash.
"""

from __future__ import annotations

import random
import time

from faults_helpers import Client, Ledger, Load, msg, text
from rpc_helpers import dur, secs, wait_until
from server_helpers import start_server

from conveyor.v1 import types_pb2

KILLS = 4


def test_sigkill_under_load_loses_nothing_and_keeps_acks(tmp_path):
    data = tmp_path / "data"
    queue = "work"
    ledger = Ledger()
    rng = random.Random(20261123)
    for life in range(KILLS):
        srv = start_server(data)
        try:
            if life == 0:
                with Client(srv.address) as c:
                    c.create_queue(queue, lease=3.0)
            load = Load(srv.address, queue, ledger, life, lease=3.0).start()
            # Kill mid-load: producers still sending, consumers pulling and acking.
            target = rng.randint(500, 1000)
            wait_until(
                lambda load=load, target=target: load.sent >= target or ledger.unexpected,
                timeout=30,
                what=f"{target} messages sent in life {life}",
            )
            time.sleep(rng.uniform(0.0, 0.15))
            load.killing.set()
            srv.kill()
            load.join()
        finally:
            srv.kill()
        assert not ledger.unexpected, ledger.unexpected[:10]

    final = KILLS
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            # Counts match: what the server holds after the last crash is what was sent and
            # not acked, give or take the calls a kill cut off (which may or may not count).
            depth = c.stats(queue).depth
            sent, acked = set(ledger.sent_ok), set(ledger.acked_ok)
            must = len(sent - acked - set(ledger.ack_unknown))
            may = len(set(ledger.ack_unknown) - acked) + len(ledger.send_unknown)
            assert must <= depth <= must + may, (depth, must, may)
            drained = c.drain(queue, "workers", lease=30.0)
            assert len({d.message.id for d in drained}) == depth
            ledger.record_seen(final, drained)
            for d in drained:
                ledger.acked_ok[d.message.id].append((final, d.attempt))
            st = c.stats(queue)
            assert (st.depth, st.ready, st.in_flight, st.delayed) == (0, 0, 0, 0), st
    finally:
        srv.stop()

    counts = ledger.check()
    print(f"ledger: {counts}")
    # The checks above are not vacuous: messages were in flight at the kills and came back.
    assert counts["sent_ok"] >= 4 * 500, counts
    assert counts["came_back_after_kill"] > 0, counts
    assert counts["max_attempt"] >= 2, counts


def _pull_exactly(c: Client, queue: str, want: set[str], **kw) -> dict[str, types_pb2.Delivery]:
    """Pulls until the deliveries of exactly the payloads ``want`` arrived (no others)."""
    got: dict[str, types_pb2.Delivery] = {}
    deadline = time.monotonic() + 5
    while set(got) != want and time.monotonic() < deadline:
        for d in c.pull(queue, max_messages=len(want), wait=0.5, **kw):
            assert text(d) in want, (text(d), want)
            assert text(d) not in got, (text(d), set(got))
            got[text(d)] = d
    assert set(got) == want
    return got


def _config(q: types_pb2.Queue) -> types_pb2.Queue:
    out = types_pb2.Queue()
    out.CopyFrom(q)
    out.ClearField("create_time")
    return out


def test_configuration_and_message_state_survive_sigkill(tmp_path):
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            c.create_queue("dlq")
            c.create_queue("jobs", lease=20.0, max_deliveries=3, dead_letter_queue="dlq")
            c.create_queue("fifo", kind=types_pb2.QUEUE_KIND_FIFO, lease=20.0)
            c.create_queue("timed", lease=20.0)
            c.create_queue(
                "events",
                kind=types_pb2.QUEUE_KIND_PRIORITY,
                lease=15.0,
                max_deliveries=7,
                dead_letter_queue="dlq",
                retry_backoff=types_pb2.RetryBackoff(
                    initial=dur(0.5), multiplier=2.0, max=dur(8), jitter=0.25
                ),
                dedup_window=120,
                message_ttl=3600,
                max_depth=1000,
                overflow_policy=types_pb2.OVERFLOW_POLICY_DROP_OLDEST,
                max_payload_bytes=4096,
            )
            c.bind("orders.#", "events")
            c.bind("*.alert.*", "events")
            # Subscriptions are created by their first Pull.
            assert c.pull("events", "eu-only", filter_="orders.eu.#") == []
            assert c.pull("events", "all", filter_="#") == []
            queues_before = {q.name: q for q in c.list_queues()}
            bindings_before = c.bindings()
            subs_before = c.subscriptions("events")
            assert set(queues_before) == {"dlq", "jobs", "fifo", "timed", "events"}
            assert len(bindings_before) == 2
            assert subs_before == {"eu-only": "orders.eu.#", "all": "#"}

            # Broadcast to both subscriptions; "all" acks its copy before the kill.
            [r] = c.send_topic(
                msg("bc", topic="orders.eu.created", guarantee=types_pb2.GUARANTEE_BROADCAST)
            )
            assert not r.HasField("error"), r
            assert list(r.queues) == ["events"], r
            [d] = c.pull("events", "all", wait=1.0)
            assert text(d) == "bc"
            assert c.ack([d.ack_id]) == []

            # FIFO: two keys; a0 acked, b0 in flight at the kill.
            c.send_ok("fifo", *[msg(f"{k}{i}", ordering_key=k) for i in range(5) for k in "ab"])
            heads = _pull_exactly(c, "fifo", {"a0", "b0"}, lease=20.0)
            assert c.ack([heads["a0"].ack_id]) == []

            # Dead letters and attempts: "bad" is nacked straight to the DLQ with a reason;
            # "poison" uses up its 3 deliveries; "twice" has 2 attempts (one in flight at the
            # kill), "thrice" has 3 (the last in flight at the kill).
            c.send_ok("jobs", "poison", "bad", "twice", "thrice")
            first = _pull_exactly(c, "jobs", {"poison", "bad", "twice", "thrice"})
            assert c.nack([first["bad"].ack_id], dead_letter=True, reason="bad payload") == []
            assert c.nack([first[p].ack_id for p in ("poison", "twice", "thrice")]) == []
            second = _pull_exactly(c, "jobs", {"poison", "twice", "thrice"})
            assert all(d.attempt == 2 for d in second.values())
            assert c.nack([second[p].ack_id for p in ("poison", "thrice")]) == []
            third = _pull_exactly(c, "jobs", {"poison", "thrice"})
            assert all(d.attempt == 3 for d in third.values())
            assert c.nack([third["poison"].ack_id]) == []
            dead_before = wait_until(
                lambda: (
                    {text(m): m.dead_letter for m in c.dead_letters("dlq")}
                    if len(c.dead_letters("dlq")) == 2
                    else None
                ),
                what="poison and bad in the DLQ",
            )
            assert set(dead_before) == {"poison", "bad"}
            assert dead_before["bad"].reason == "bad payload"
            assert dead_before["poison"].reason
            assert dead_before["poison"].attempts == 3

            # Delays: one far in the future, one due a few seconds after the restart.
            c.send_ok("timed", msg("later", delay=600))
            soon_due = time.time() + 4.0
            c.send_ok("timed", msg("soon", delay=4.0))
    finally:
        srv.kill()

    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            # Configuration, exactly.
            queues_after = {q.name: q for q in c.list_queues()}
            assert set(queues_after) == set(queues_before)
            for name, before in queues_before.items():
                after = queues_after[name]
                assert _config(after) == _config(before), name
                assert c.get_queue(name) == after
                created = before.create_time.ToNanoseconds()
                assert abs(after.create_time.ToNanoseconds() - created) < 1_000_000, name
            assert c.bindings() == bindings_before
            assert c.subscriptions("events") == subs_before

            # Delays hold: "soon" is not handed out before it is due, "later" stays delayed.
            if time.time() < soon_due - 0.5:
                assert c.pull("timed", max_messages=10) == []
            [soon] = wait_until(lambda: c.pull("timed", wait=0.5), timeout=10, what="soon")
            assert text(soon) == "soon"
            assert time.time() >= soon_due - 0.05
            assert c.ack([soon.ack_id]) == []
            st = c.stats("timed")
            assert (st.delayed, st.ready, st.in_flight) == (1, 0, 0), st
            [peeked] = c.peek("timed")
            assert text(peeked.message) == "later"
            assert secs(peeked.due_in) > 500

            # Bindings route and filters filter; the broadcast copy acked by "all" stays acked.
            [r] = c.send_topic(msg("us", topic="orders.us.created"))
            assert not r.HasField("error"), r
            assert list(r.queues) == ["events"], r
            all_got = c.pull("events", "all", wait=0.5)
            assert [text(d) for d in all_got] == ["us"]
            eu_got = c.pull("events", "eu-only", wait=0.5)
            assert [text(d) for d in eu_got] == ["bc"]
            assert eu_got[0].attempt == 1
            assert c.ack([d.ack_id for d in all_got + eu_got]) == []
            assert c.pull("events", "all", wait=0.3) == []
            assert c.pull("events", "eu-only", wait=0.3) == []
            assert c.stats("events").depth == 0

            # FIFO: per-key order survives; a0 never again, b0 back first with attempt 2.
            order: dict[str, list[tuple[str, int]]] = {"a": [], "b": []}
            deadline = time.monotonic() + 10
            while c.stats("fifo").depth and time.monotonic() < deadline:
                got = c.pull("fifo", max_messages=10, wait=0.5, lease=20.0)
                keys = [d.message.ordering_key for d in got]
                assert len(keys) == len(set(keys)), f"two of one key in flight: {keys}"
                for d in got:
                    order[d.message.ordering_key].append((text(d), d.attempt))
                assert c.ack([d.ack_id for d in got]) == []
            assert order["a"] == [("a1", 1), ("a2", 1), ("a3", 1), ("a4", 1)]
            assert order["b"] == [("b0", 2), ("b1", 1), ("b2", 1), ("b3", 1), ("b4", 1)]

            # Dead letters keep their reasons; "thrice" had used its 3 deliveries when the
            # server died, so it is dead-lettered without another delivery; "twice" gets its
            # third and last.
            [twice] = c.pull("jobs", wait=1.0)
            assert (text(twice), twice.attempt) == ("twice", 3)
            assert c.nack([twice.ack_id]) == []
            dead_after = wait_until(
                lambda: (
                    {text(m): m.dead_letter for m in c.dead_letters("dlq")}
                    if len(c.dead_letters("dlq")) == 4
                    else None
                ),
                what="four dead letters",
            )
            for p in ("poison", "bad"):
                assert dead_after[p] == dead_before[p], p
            for p in ("twice", "thrice"):
                assert dead_after[p].reason == dead_before["poison"].reason, dead_after[p]
                assert dead_after[p].attempts == 3, dead_after[p]
                assert dead_after[p].source_queue == "jobs"
            assert c.pull("jobs", wait=0.3) == []
            assert c.stats("jobs").depth == 0
    finally:
        srv.stop()
