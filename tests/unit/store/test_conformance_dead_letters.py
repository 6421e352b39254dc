"""Conformance: dead letters that explain themselves (source queue and subscription, reason in
words and as a code, attempts, the last nack reason), listing them by reason and source, and
redrive keeping or resetting the attempt count; what survives a restart and a checkpoint."""

from __future__ import annotations

from store_harness import StoreEnv, decode

from broker.model import DeadLetterReason, Guarantee
from broker.store.base import DeadLetterFilter
from conveyor.v1 import types_pb2

MAX = DeadLetterReason.MAX_DELIVERIES
NACKED = DeadLetterReason.NACKED
EXPIRED = DeadLetterReason.EXPIRED


async def _letters(env: StoreEnv, **where: object) -> list[types_pb2.Message]:
    found = await env.store.dead_letters("dlq", 100, where=DeadLetterFilter(**where))  # type: ignore[arg-type]
    return [decode(d) for d in found]


async def _fail_with_reasons(env: StoreEnv, reasons: list[str], queue: str = "q") -> None:
    """Takes the one message of ``queue`` once per reason, nacking it with that reason."""
    for reason in reasons:
        ((_, ack, _),) = await env.take(queue=queue)
        assert await env.store.requeue([ack], 0.0, reason=reason) == []


async def test_max_deliveries_keeps_the_last_nack_reason(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq", max_deliveries=3)
    await env.sub()
    mid = await env.send(b"payload-1", topic="orders.eu")
    await _fail_with_reasons(env, ["timeout", "db down", ""])  # the last nack gives none
    (letter,) = await _letters(env)
    info = letter.dead_letter
    assert (letter.payload, letter.topic) == (b"payload-1", "orders.eu")
    assert (info.source_queue, info.source_message_id, info.subscription) == ("q", mid, "")
    assert (info.reason, info.reason_code) == ("max deliveries exceeded", MAX)
    assert (info.attempts, info.last_nack_reason) == (3, "db down")


async def test_a_lease_that_runs_out_keeps_the_nack_reason_before_it(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq", max_deliveries=2)
    await env.sub()
    await env.send()
    await _fail_with_reasons(env, ["parse error"])
    await env.take()
    env.advance(11.0)  # the second lease expires: max deliveries
    (letter,) = await _letters(env)
    assert (letter.dead_letter.reason_code, letter.dead_letter.last_nack_reason) == (
        MAX,
        "parse error",
    )


async def test_nack_to_dead_letters_and_expiry_have_their_codes(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq")
    await env.sub()
    await env.send(b"nacked")
    await env.send(b"expires", ttl_s=5.0)
    ((_, ack, _),) = await env.take(n=1)
    await env.store.dead_letter([ack], "schema mismatch")
    env.advance(6.0)
    letters = {m.payload: m.dead_letter for m in await _letters(env)}
    assert (letters[b"nacked"].reason, letters[b"nacked"].reason_code) == (
        "schema mismatch",
        NACKED,
    )
    assert (letters[b"expires"].reason, letters[b"expires"].reason_code) == ("expired", EXPIRED)
    assert letters[b"nacked"].attempts == 1
    assert letters[b"expires"].attempts == 0


async def test_dead_letters_filter_by_reason_and_source(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue("a", dead_letter_queue="dlq", max_deliveries=1)
    await env.queue("b", dead_letter_queue="dlq")
    for name in ("a", "b"):
        await env.sub("s1", queue=name)
        await env.sub("s2", queue=name)
    await env.send(b"a-max", queue="a")
    await env.take("s1", queue="a")
    env.advance(11.0)  # a-max: max deliveries
    await env.send(b"b-fan", queue="b", guarantee=Guarantee.BROADCAST)
    ((_, ack, _),) = await env.take("s2", queue="b")
    await env.store.dead_letter([ack], "no")  # b-fan, s2's copy: nacked
    await env.send(b"b-plain", queue="b")
    ((_, ack, _),) = await env.take("s2", queue="b")
    await env.store.dead_letter([ack], "")  # b-plain: nacked (no copy: no subscription)

    def payloads(found: list[types_pb2.Message]) -> list[bytes]:
        return [m.payload for m in found]

    assert payloads(await _letters(env)) == [b"a-max", b"b-fan", b"b-plain"]
    assert payloads(await _letters(env, reason=MAX)) == [b"a-max"]
    assert payloads(await _letters(env, reason=NACKED)) == [b"b-fan", b"b-plain"]
    assert payloads(await _letters(env, reason=EXPIRED)) == []
    assert payloads(await _letters(env, source_queue="b")) == [b"b-fan", b"b-plain"]
    assert payloads(await _letters(env, source_subscription="s2")) == [b"b-fan"]
    assert payloads(await _letters(env, reason=NACKED, source_queue="a")) == []
    found = await env.store.dead_letters("dlq", 1, where=DeadLetterFilter(source_queue="b"))
    assert [decode(d).payload for d in found] == [b"b-fan"]  # the limit counts matches only


async def test_redrive_keeps_the_attempt_count_by_default(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq", max_deliveries=2)
    await env.sub()
    await env.send(b"kept")
    await _fail_with_reasons(env, ["one", "two"])
    assert await env.store.redrive("dlq", "", 0) == (1, 0)
    ((_, ack, attempt),) = await env.take()
    assert attempt == 3  # counting on from the 2 attempts before
    await env.store.requeue([ack], 0.0)  # past max deliveries already: straight back
    (letter,) = await _letters(env)
    assert (letter.payload, letter.dead_letter.attempts) == (b"kept", 3)


async def test_redrive_can_reset_the_attempt_count(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq", max_deliveries=2)
    await env.sub()
    await env.send(b"fresh")
    await _fail_with_reasons(env, ["one", "two"])
    assert await env.store.redrive("dlq", "", 0, reset_attempts=True) == (1, 0)
    ((_, ack, attempt),) = await env.take()
    assert attempt == 1
    await env.store.requeue([ack], 0.0)
    assert await _letters(env) == []  # a full max_deliveries again
    ((_, _, attempt),) = await env.take()
    assert attempt == 2


async def test_redriving_a_broadcast_copy_keeps_its_attempts(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq", max_deliveries=1)
    await env.sub("a")
    await env.sub("b")
    await env.send(guarantee=Guarantee.BROADCAST)
    ((_, ack, _),) = await env.take("a")
    await env.store.requeue([ack], 0.0, reason="a broke")
    (letter,) = await _letters(env, source_subscription="a")
    assert (letter.dead_letter.attempts, letter.dead_letter.last_nack_reason) == (1, "a broke")
    await env.store.redrive("dlq", "", 0)
    ((_, _, attempt),) = await env.take("a")
    assert attempt == 2


async def test_explanations_and_kept_attempts_survive_a_restart(durable_env: StoreEnv) -> None:
    env = durable_env
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq", max_deliveries=3)
    await env.sub()
    await env.send(b"slow")
    await _fail_with_reasons(env, ["first", "second"])
    await env.restart()  # the nack reason is in the log (REQUEUED)
    await _fail_with_reasons(env, [""])
    (letter,) = await _letters(env)
    assert (letter.dead_letter.last_nack_reason, letter.dead_letter.reason_code) == ("second", MAX)
    await env.store.redrive("dlq", "", 0)
    await env.restart()  # the redriven message's attempts are in the log (PUBLISHED)
    assert await _letters(env) == []
    ((_, _, attempt),) = await env.take()
    assert attempt == 4


async def test_nack_reasons_survive_a_checkpoint(durable_env: StoreEnv) -> None:
    env = durable_env
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq", max_deliveries=2)
    await env.sub("a")
    await env.sub("b")
    await env.send(b"plain")
    await env.send(b"fan", guarantee=Guarantee.BROADCAST)
    for _, ack, _ in await env.take("a"):
        await env.store.requeue([ack], 0.0, reason="a said no")
    await env.store.checkpoint()  # type: ignore[attr-defined]
    await env.restart()  # from the snapshot's columns
    for _, ack, _ in await env.take("a"):
        await env.store.requeue([ack], 0.0)
    letters = {m.payload: m.dead_letter for m in await _letters(env)}
    assert set(letters) == {b"plain", b"fan"}
    assert {info.last_nack_reason for info in letters.values()} == {"a said no"}
    assert letters[b"fan"].subscription == "a"


async def test_redrive_of_chosen_dead_letters_moves_only_those(env: StoreEnv) -> None:
    await env.queue("dlq")
    await env.queue(dead_letter_queue="dlq", max_deliveries=1)
    await env.sub()
    for payload in (b"one", b"two", b"three"):
        await env.send(payload)
    taken = await env.take()
    assert await env.store.requeue([ack for _, ack, _ in taken], 0.0) == []
    letters = {m.payload: m.id for m in await _letters(env)}
    assert sorted(letters) == [b"one", b"three", b"two"]
    chosen = [letters[b"two"], "ffffffffff", "not-an-id"]  # two ids name nothing there
    assert await env.store.redrive("dlq", "", 0, message_ids=chosen) == (1, 2)
    assert sorted(m.payload for m in await _letters(env)) == [b"one", b"three"]
    ((mid, _, _),) = await env.take()
    assert mid != letters[b"two"]  # back in its queue as a new message
    assert await env.store.redrive("dlq", "", 1, message_ids=list(letters.values())) == (1, 1)
    assert len(await _letters(env)) == 1  # max_messages still caps a chosen set
