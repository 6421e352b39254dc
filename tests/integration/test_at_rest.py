"""Encryption and compression at rest, through a real server and its data directory.

- An encrypted queue's payloads and attributes appear nowhere in the data directory's bytes
  (log segments and snapshots, before and after a checkpoint), while a plain queue's marker
  does (so the search would find one); messages are delivered as sent, after restarts too.
- Keys rotate: a key added later seals from then on, older records still open with the old
  key listed; a data directory with records sealed by a key the server lacks is refused at
  start with a message naming the key id; ``conveyor wal verify`` needs no key.
- Payloads at or above the compression threshold (server option, per-queue override) are
  written compressed and delivered as sent - 0 B, 1 KiB and 1 MiB - with the saving in stats.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
import rpc_helpers as rpc
from server_helpers import ServerProcess, start_server

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2_grpc, types_pb2

MARKER = b"MARKER-c0nvey0r-secret-7f3a91"
ATTR_MARKER = "ATTRMARK-5e2b77"
PLAIN_MARKER = b"PLAINMARK-visible-19ad"


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class _Conn:
    def __init__(self, srv: ServerProcess) -> None:
        self.channel = grpc.insecure_channel(srv.address)
        self.broker = broker_pb2_grpc.BrokerStub(self.channel)
        self.admin = admin_pb2_grpc.AdminStub(self.channel)

    def __enter__(self) -> _Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.channel.close()

    def send(self, queue: str, payload: bytes, **fields: object) -> str:
        (result,) = rpc.send(self.broker, queue, rpc.message(payload, **fields))
        return result.message_id

    def drain(self, queue: str, sub: str = "s") -> list[types_pb2.Message]:
        got = rpc.pull(self.broker, queue, sub, max_messages=100)
        rpc.ack(self.broker, [d.ack_id for d in got])
        return [d.message for d in got]


def _disk_bytes(data: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file())


def _start(data: Path, keys: str = "", *extra: str) -> ServerProcess:
    env = {"CONVEYOR_CHECKPOINT_BYTES": "4096"}
    if keys:
        env["CONVEYOR_ENCRYPTION_KEYS"] = keys
    return start_server(data, *extra, env=env)


def _fails_to_start(data: Path, keys: str) -> str:
    env = {**os.environ, "CONVEYOR_ENCRYPTION_KEYS": keys}
    cmd = [sys.executable, "-m", "broker", "serve", "--listen", "127.0.0.1:0"]
    done = subprocess.run(
        [*cmd, "--data-dir", str(data)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_encrypted_payloads_never_reach_the_disk_in_the_clear(tmp_path: Path) -> None:
    data = tmp_path / "data"
    k1 = f"k1:{_key()}"
    srv = _start(data, k1)
    try:
        with _Conn(srv) as c:
            rpc.create_queue(c.admin, "secret", encrypted=True)
            rpc.create_queue(c.admin, "plain")
            assert rpc.create_queue(c.admin, "secret2", encrypted=True).encrypted
            rpc.pull(c.broker, "secret", "s")
            rpc.pull(c.broker, "plain", "s")
            sent = c.send("secret", MARKER, attributes={"note": ATTR_MARKER})
            c.send("plain", PLAIN_MARKER)
            disk = _disk_bytes(data)
            assert PLAIN_MARKER in disk  # the search finds what is there
            assert MARKER not in disk
            assert ATTR_MARKER.encode() not in disk
            # Enough traffic for snapshots (CONVEYOR_CHECKPOINT_BYTES is tiny).
            for i in range(40):
                c.send("secret", MARKER + b"-%d" % i + b"x" * 200)
            assert any(p.suffix == ".snap" for p in (data / "wal").iterdir())
            disk = _disk_bytes(data)
            assert MARKER not in disk
            assert ATTR_MARKER.encode() not in disk
        assert srv.stop() == 0
        srv = _start(data, k1)
        with _Conn(srv) as c:
            got = c.drain("secret")
            assert got[0].id == sent
            assert (got[0].payload, got[0].attributes["note"]) == (MARKER, ATTR_MARKER)
            assert len(got) == 41
        assert srv.stop() == 0
        assert MARKER not in _disk_bytes(data)
    finally:
        srv.kill()


def test_keys_rotate_and_a_missing_key_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    k1, k2 = f"k1:{_key()}", f"k2:{_key()}"
    srv = _start(data, k1)
    try:
        with _Conn(srv) as c:
            rpc.create_queue(c.admin, "secret", encrypted=True)
            rpc.pull(c.broker, "secret", "s")
            c.send("secret", b"sealed-with-k1")
        srv.kill()
        srv = _start(data, f"{k1},{k2}")  # k2 added: newest, seals from now on
        with _Conn(srv) as c:
            c.send("secret", b"sealed-with-k2")
        srv.kill()
        # Without k1 the records it sealed cannot be read: refused, naming the key.
        out = _fails_to_start(data, k2)
        assert "'k1'" in out, out
        assert "CONVEYOR_ENCRYPTION_KEYS" in out, out
        out = _fails_to_start(data, "")
        assert "'k1'" in out, out
        # Without any key, the log still verifies (framing and checksums are not sealed).
        verify = subprocess.run(
            [sys.executable, "-m", "broker", "wal", "verify", "--data-dir", str(data)],
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if k != "CONVEYOR_ENCRYPTION_KEYS"},
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "ok" in verify.stdout
        # With both keys listed, everything opens; a checkpoint then re-seals what is live
        # with the newest key, so once the log it covers is gone the old key can go too.
        srv = _start(data, f"{k1},{k2}")
        wal = data / "wal"
        before = {p.name for p in wal.glob("*.snap")}
        with _Conn(srv) as c:
            rpc.create_queue(c.admin, "filler")
            for _ in range(100):
                c.send("filler", b"f" * 300)
                if {p.name for p in wal.glob("*.snap")} - before:
                    break
            assert {p.name for p in wal.glob("*.snap")} - before
        assert srv.stop() == 0
        srv = _start(data, k2)
        with _Conn(srv) as c:
            assert sorted(m.payload for m in c.drain("secret")) == [
                b"sealed-with-k1",
                b"sealed-with-k2",
            ]
    finally:
        srv.kill()


def test_encryption_needs_a_key_and_is_fixed(tmp_path: Path) -> None:
    srv = _start(tmp_path / "nokey")
    try:
        with _Conn(srv) as c:
            with pytest.raises(grpc.RpcError) as refused:
                rpc.create_queue(c.admin, "secret", encrypted=True)
            assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "encryption key" in (refused.value.details() or "")
    finally:
        srv.kill()
    srv = _start(tmp_path / "keyed", f"k1:{_key()}")
    try:
        with _Conn(srv) as c:
            rpc.create_queue(c.admin, "secret", encrypted=True)
            rpc.create_queue(c.admin, "open-dlq")
            update = admin_pb2.UpdateQueueRequest(queue=types_pb2.Queue(name="secret"))
            update.update_mask.paths.append("encrypted")
            with pytest.raises(grpc.RpcError) as fixed:
                c.admin.UpdateQueue(update, timeout=rpc.RPC_TIMEOUT)
            assert fixed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            with pytest.raises(grpc.RpcError) as leak:
                rpc.create_queue(c.admin, "secret3", encrypted=True, dead_letter_queue="open-dlq")
            assert leak.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        srv.kill()


def test_key_file_and_an_encrypted_queue_without_messages(tmp_path: Path) -> None:
    data = tmp_path / "data"
    keys = tmp_path / "keys"
    keys.write_text(f"# old, then newest\nold:{_key()}\nnew:{_key()}\n")
    srv = start_server(data, "--encryption-key-file", str(keys))
    try:
        with _Conn(srv) as c:
            rpc.create_queue(c.admin, "secret", encrypted=True)
            rpc.pull(c.broker, "secret", "s")
            c.send("secret", MARKER)
            assert MARKER not in _disk_bytes(data)
            assert [m.payload for m in c.drain("secret")] == [MARKER]
        srv.kill()
        out = _fails_to_start(data, "")  # records sealed with "new", no key at all
        assert "'new'" in out, out
    finally:
        srv.kill()
    # A data directory whose encrypted queue holds nothing yet is refused without a key too:
    # its next Send could not be stored.
    empty = tmp_path / "empty"
    srv = _start(empty, f"k1:{_key()}")
    try:
        with _Conn(srv) as c:
            rpc.create_queue(c.admin, "secret", encrypted=True)
    finally:
        srv.kill()
    out = _fails_to_start(empty, "")
    assert "['secret']" in out, out
    assert "no encryption key" in out, out


def test_bad_keys_stop_the_start_with_a_clear_message(tmp_path: Path) -> None:
    out = _fails_to_start(tmp_path / "data", "k1:" + base64.b64encode(b"short").decode())
    assert "32" in out, out
    assert "k1" in out, out


_SIZES = (0, 1024, 1024 * 1024)


def _compressible(size: int) -> bytes:
    return (b"conveyor compresses this line well. " * (size // 36 + 1))[:size]


def test_compression_round_trip_and_saving(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = start_server(data, "--compress-above", "1024")
    try:
        with _Conn(srv) as c:
            rpc.create_queue(c.admin, "z")
            rpc.create_queue(c.admin, "never", compress_above_bytes=0)
            rpc.create_queue(c.admin, "always", compress_above_bytes=1)
            for q in ("z", "never", "always"):
                rpc.pull(c.broker, q, "s")
            sent = {size: _compressible(size) for size in _SIZES}
            noise = os.urandom(4096)
            for payload in sent.values():
                c.send("z", payload)
            c.send("z", noise)  # does not shrink: kept as it is
            c.send("never", sent[1024 * 1024])
            c.send("always", b"x" * 100)
            stats = rpc.stats(c.admin, "z")
            assert stats.compressed == 2  # 1 KiB and 1 MiB; not 0 B, not the noise
            assert stats.compression_saved_bytes > 1024 * 1024 * 0.9
            assert rpc.stats(c.admin, "never").compressed == 0
            assert rpc.stats(c.admin, "always").compressed == 1
            wal = sum(p.stat().st_size for p in (data / "wal").glob("*.wal"))
            assert wal < 1024 * 1024 + 300 * 1024  # the "never" copy plus little else
        srv.kill()
        srv = start_server(data, "--compress-above", "1024")
        with _Conn(srv) as c:
            got = sorted((m.payload for m in c.drain("z")), key=len)
            assert got == sorted([*sent.values(), noise], key=len)
            assert [m.payload for m in c.drain("never")] == [sent[1024 * 1024]]
    finally:
        srv.kill()


def test_compression_and_encryption_together(tmp_path: Path) -> None:
    data = tmp_path / "data"
    k1 = f"k1:{_key()}"
    srv = _start(data, k1, "--compress-above", "1024")
    try:
        with _Conn(srv) as c:
            rpc.create_queue(c.admin, "both", encrypted=True)
            rpc.pull(c.broker, "both", "s")
            payload = MARKER * 4000
            c.send("both", payload)
            assert rpc.stats(c.admin, "both").compressed == 1
            assert MARKER not in _disk_bytes(data)
        srv.kill()
        # Another key under the same id does not open them: refused, not served.
        out = _fails_to_start(data, f"k1:{_key()}")
        assert "does not open" in out, out
        srv = _start(data, k1)
        with _Conn(srv) as c:
            assert [m.payload for m in c.drain("both")] == [payload]
    finally:
        srv.kill()
