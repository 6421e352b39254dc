"""The sharp edges of ``broker.store.at_rest``: key parsing, sealing bound to its
message, rotation, compression kept only when it shrinks, and a durable store that writes
sealed, compressed records and reads them back after a restart."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from store_harness import Clock, decode, new

from broker.errors import FailedPrecondition, InvalidArgument
from broker.model import QueueConfig
from broker.store.at_rest import CODEC_NONE, CODEC_ZSTD, AtRest, Keyring, MissingKeyError
from broker.store.durable import DurableStore


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


K1, K2 = os.urandom(32), os.urandom(32)


def test_keys_parse_newest_last_and_bad_ones_are_named() -> None:
    ring = Keyring.parse(f"a:{_b64(K1)}, b:{_b64(K2)}", "env")
    assert ring.newest == "b"
    with pytest.raises(InvalidArgument, match="'a' is 5 bytes"):
        Keyring.parse(f"a:{_b64(b'short')}", "env")
    with pytest.raises(InvalidArgument, match="not valid base64"):
        Keyring.parse("a:***", "env")
    with pytest.raises(InvalidArgument, match="expected id:base64key"):
        Keyring.parse("just-a-key", "env")
    assert not Keyring.parse("", "env")


def test_key_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# comment\nold:{_b64(K1)}\n")
    ring = Keyring.load(f"new:{_b64(K2)}", str(path))
    assert ring.newest == "new"
    sealed = Keyring.load("", str(path)).seal(b"data", b"q:1")
    assert ring.open("old", sealed, b"q:1") == b"data"


def test_a_sealed_entry_opens_only_for_its_message_and_key() -> None:
    ring = Keyring.parse(f"a:{_b64(K1)}", "env")
    sealed = ring.seal(b"secret", b"q:1")
    assert b"secret" not in sealed
    assert ring.open("a", sealed, b"q:1") == b"secret"
    with pytest.raises(FailedPrecondition, match="does not open"):
        ring.open("a", sealed, b"q:2")  # moved to another message
    with pytest.raises(MissingKeyError, match="'zz'"):
        ring.open("zz", sealed, b"q:1")


def test_encode_compresses_only_what_shrinks_then_seals() -> None:
    at_rest = AtRest(Keyring.parse(f"a:{_b64(K1)}", "env"), compress_above=100)
    datas = [b"", b"x" * 1000, os.urandom(1000)]
    entries, codecs, key_id, count, saved = at_rest.encode(
        "q", [1, 2, 3], datas, [len(d) for d in datas], at_rest.threshold(None), seal=True
    )
    assert (codecs, key_id, count) == ([CODEC_NONE, CODEC_ZSTD, CODEC_NONE], "a", 1)
    assert saved > 900
    assert at_rest.decode("q", [1, 2, 3], entries, codecs, key_id) == datas
    assert at_rest.threshold(0) == 0  # a queue's 0 turns it off


def test_encrypted_queue_without_a_key_fails_before_anything_changes() -> None:
    with pytest.raises(FailedPrecondition, match="no encryption key"):
        AtRest().encode("q", [1], [b"x"], [1], 0, seal=True)


async def test_durable_store_reads_its_sealed_compressed_log_back(tmp_path: Path) -> None:
    clock = Clock()

    def make(keys: str) -> DurableStore:
        at_rest = AtRest(Keyring.parse(keys, "test"), compress_above=64)
        return DurableStore(tmp_path / "data", clock=clock, run_timers=False, at_rest=at_rest)

    store = make(f"a:{_b64(K1)}")
    await store.open()
    await store.create_queue(QueueConfig(name="q", encrypted=True))
    await store.subscription("q", "s", "")
    payloads = [b"", b"MARK" * 100, b"small"]
    await store.publish("q", [new(p) for p in payloads])
    stats = await store.stats("q")
    assert (stats.compressed, stats.compression_saved_bytes > 300) == (1, True)
    await store.checkpoint()
    await store.publish("q", [new(b"MARK" * 50)])
    await store.close()
    disk = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert b"MARKMARK" not in disk

    store = make(f"a:{_b64(K1)},b:{_b64(K2)}")
    await store.open()
    claim = await store.claim("q", "s", 10, 0, 10.0)
    assert [decode(d).payload for _, d, _, _ in claim.deliveries] == [*payloads, b"MARK" * 50]
    await store.close()

    store = make(f"b:{_b64(K2)}")
    with pytest.raises(MissingKeyError, match="'a'"):
        await store.open()


async def test_a_postgresql_server_lacking_the_sealing_key_hands_the_claim_back(
    postgres_cluster: object,
) -> None:
    """Two servers on one database, the second not yet given the key the first now seals
    with (a rotation done in the wrong order): its claim is refused and the message goes back
    at once, unharmed, for a server that can open it."""
    from broker.store.postgres import PostgresStore

    dsn = postgres_cluster.database()  # type: ignore[attr-defined]
    clock = Clock()
    old = Keyring.parse(f"a:{_b64(K1)}", "env")
    both = Keyring.parse(f"a:{_b64(K1)},b:{_b64(K2)}", "env")
    behind = PostgresStore(dsn, clock=clock, run_timers=False, at_rest=AtRest(old))
    ahead = PostgresStore(dsn, clock=clock, run_timers=False, at_rest=AtRest(both))
    await behind.open()
    await ahead.open()
    try:
        await ahead.create_queue(QueueConfig(name="q", encrypted=True, max_deliveries=1))
        await ahead.subscription("q", "s", "")
        (mid,) = await ahead.publish("q", [new(b"sealed with b")])
        with pytest.raises(MissingKeyError, match="'b'"):
            await behind.claim("q", "s", 10, 0, 30.0)
        claim = await ahead.claim("q", "s", 10, 0, 30.0)
        assert [(decode(d).id, decode(d).payload) for _, d, _, _ in claim.deliveries] == [
            (mid, b"sealed with b")
        ]
    finally:
        await behind.close()
        await ahead.close()
