"""Conformance: content-based dedup (``dedup_by_content``): with no dedup id, topic + ordering
key + payload is the id inside the queue's window; outside it, or with other content, a
message is new; an explicit dedup id still wins; the window survives a restart."""

from __future__ import annotations

from store_harness import StoreEnv, new

from broker.model import QueueKind
from broker.store.base import Outcome


async def _send(env: StoreEnv, payload: bytes, queue: str = "q", **fields: object) -> Outcome:
    """The outcome of one message, as an ``Outcome`` even when it was simply stored."""
    (result,) = await env.send_many(queue, [new(payload, **fields)])
    if isinstance(result, str):
        return Outcome(message_id=result)
    assert result.error is None, result.error
    return result


async def test_the_same_content_inside_the_window_is_stored_once(env: StoreEnv) -> None:
    await env.queue(dedup_by_content=True, dedup_window_s=60.0)
    await env.sub()
    first = await _send(env, b"order 42")
    again = await _send(env, b"order 42")
    assert (again.duplicate, again.message_id) == (True, first.message_id)
    stats = await env.store.stats("q")
    assert (stats.depth, stats.sent, stats.duplicates) == (1, 1, 1)
    # In one batch too.
    results = await env.send_many("q", [new(b"x"), new(b"x"), new(b"y")])
    assert [isinstance(r, str) for r in results] == [True, False, True]
    assert isinstance(results[1], Outcome)
    assert (results[1].duplicate, results[1].message_id) == (True, results[0])


async def test_content_means_topic_ordering_key_and_payload(env: StoreEnv) -> None:
    await env.queue(kind=QueueKind.FIFO, dedup_by_content=True)
    base = await _send(env, b"body", topic="orders.eu", ordering_key="k1")
    others = [
        await _send(env, b"body", topic="orders.us", ordering_key="k1"),
        await _send(env, b"body", topic="orders.eu", ordering_key="k2"),
        await _send(env, b"body2", topic="orders.eu", ordering_key="k1"),
        # Lengths are hashed first: these do not run together into the same bytes.
        await _send(env, b"body", topic="orders.e", ordering_key="uk1"),
    ]
    assert not any(o.duplicate for o in others)
    assert len({base.message_id, *(o.message_id for o in others)}) == 5
    # Attributes and other fields are not content.
    same = await _send(env, b"body", topic="orders.eu", ordering_key="k1", priority=5)
    assert (same.duplicate, same.message_id) == (True, base.message_id)


async def test_after_the_window_the_same_content_is_new(env: StoreEnv) -> None:
    await env.queue(dedup_by_content=True, dedup_window_s=10.0)
    await env.sub()
    first = await _send(env, b"tick")
    env.advance(9.0)
    assert (await _send(env, b"tick")).duplicate
    env.advance(1.5)
    later = await _send(env, b"tick")
    assert not later.duplicate
    assert later.message_id != first.message_id
    # Acking the first message does not end its window (as with explicit dedup ids).
    await env.take()
    assert (await _send(env, b"tick")).duplicate


async def test_an_explicit_dedup_id_wins_over_content(env: StoreEnv) -> None:
    await env.queue(dedup_by_content=True)
    a = await _send(env, b"same", dedup_id="a")
    b = await _send(env, b"same", dedup_id="b")
    assert not b.duplicate
    assert a.message_id != b.message_id
    assert (await _send(env, b"other", dedup_id="a")).duplicate


async def test_queues_without_it_keep_every_copy(env: StoreEnv) -> None:
    await env.queue("plain")
    await env.queue("hashed", dedup_by_content=True)
    await env.store.create_binding("jobs.#", "plain")
    await env.store.create_binding("jobs.#", "hashed")
    for _ in range(2):
        (result,) = await env.send_many("", [new(b"job", topic="jobs.x")])
        assert isinstance(result, Outcome)
    assert result.queues == ["hashed", "plain"]
    assert result.duplicates == [True, False]
    assert (await env.store.stats("plain")).depth == 2
    assert (await env.store.stats("hashed")).depth == 1
    # Switched on later: from then on.
    await env.store.update_queue("plain", {"dedup_by_content": True})
    assert not (await _send(env, b"late", queue="plain")).duplicate
    assert (await _send(env, b"late", queue="plain")).duplicate
    assert (await env.store.get_queue("plain")).dedup_by_content is True


async def test_the_content_window_survives_a_restart(durable_env: StoreEnv) -> None:
    env = durable_env
    await env.queue(dedup_by_content=True, dedup_window_s=30.0)
    first = await _send(env, b"once")
    await env.restart()
    assert (await env.store.get_queue("q")).dedup_by_content is True
    again = await _send(env, b"once")
    assert (again.duplicate, again.message_id) == (True, first.message_id)
    await env.store.checkpoint()  # type: ignore[attr-defined]
    await env.restart()
    assert (await _send(env, b"once")).duplicate
    env.advance(31.0)
    await env.restart()
    assert not (await _send(env, b"once")).duplicate
