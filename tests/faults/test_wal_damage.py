"""Damaged write-ahead logs on disk (SPEC §6): a torn tail is truncated, corruption elsewhere
stops the start with a clear error, and the documented repair command gets it going again.

The damage is made by hand in the files of a server killed with SIGKILL, in the shapes a crash
(or a bad disk) leaves, following the on-disk format in ``broker/wal/__init__.py``.
"""

from __future__ import annotations

import random
import re
import struct

import google_crc32c
import pytest
from faults_helpers import (
    Client,
    conveyor_cli,
    frames,
    msg,
    segments,
    serve_expecting_exit,
    start_refused,
    text,
    wal_dir,
)
from server_helpers import start_server

_rng = random.Random(6)


def _nonzero(n: int) -> bytes:
    return bytes(_rng.randrange(1, 256) for _ in range(n))


def _header(length: int, crc: int = 0x5EED1234) -> bytes:
    """A frame header as a cut-short write leaves it: its length and header checksum intact
    (the header is written whole before its body), the body checksum whatever it is."""
    length_bytes = struct.pack("<I", length)
    return length_bytes + struct.pack("<II", google_crc32c.value(length_bytes), crc)


TORN_TAILS = {
    # The file ends inside a frame header.
    "short-header": _nonzero(5),
    # A frame whose length runs past the end of the file: the write was cut short.
    "partial-frame": _header(300) + b"\x01" + _nonzero(120),
    # Garbage that starts like a frame (a plausible length) but is cut off.
    "garbage": _header(2000, 0xDEADBEEF) + _nonzero(700),
    # The filesystem extended the file before the data landed: zeros to the end.
    "zeros": bytes(4096),
    # A whole frame's room, but its data never landed: checksum fails over trailing zeros.
    "zero-filled-frame": _header(200) + b"\x01" + bytes(199),
}


@pytest.mark.parametrize("tail", list(TORN_TAILS))
def test_torn_tail_is_truncated_and_acknowledged_messages_survive(tmp_path, tail):
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            c.create_queue("q", lease=30.0)
            sent: dict[str, str] = {}
            for b in range(10):
                payloads = [f"m{b}-{i}" for i in range(20)]
                sent.update(zip(c.send_ok("q", *payloads), payloads, strict=True))
            got = c.pull("q", max_messages=30, wait=1.0)
            assert len(got) == 30
            assert c.ack(d.ack_id for d in got) == []
            acked = {d.message.id for d in got}
    finally:
        srv.kill()

    last = segments(data)[-1]
    good_size = last.stat().st_size
    with last.open("ab") as f:
        f.write(TORN_TAILS[tail])

    srv = start_server(data)
    try:
        broken = sorted(p.name for p in wal_dir(data).glob("*.broken*"))
        assert broken, f"no .broken copy of the torn segment in {sorted(wal_dir(data).iterdir())}"
        assert last.stat().st_size == good_size, "the torn tail was not cut off exactly"
        with Client(srv.address) as c:
            # Unacked stays, acked stays gone; then more is written after the cut.
            st = c.stats("q")
            assert st.depth == len(sent) - len(acked), st
            more = c.send_ok("q", *[f"after-{i}" for i in range(10)])
    finally:
        srv.kill()

    # What was appended after the truncation is readable: nothing hides behind the garbage.
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            drained = c.drain("q")
            ids = [d.message.id for d in drained]
            assert len(ids) == len(set(ids))
            assert set(ids) == (set(sent) - acked) | set(more)
            for d in drained:
                if d.message.id in sent:
                    assert text(d) == sent[d.message.id]
    finally:
        srv.stop()
    assert conveyor_cli("wal", "verify", "--data-dir", str(data)).returncode == 0


def test_flipped_byte_mid_log_stops_start_until_repaired(tmp_path):
    data = tmp_path / "data"
    env = {
        "CONVEYOR_SEGMENT_BYTES": "4096",
        "CONVEYOR_CHECKPOINT_BYTES": str(1 << 30),  # no checkpoint may delete a segment
    }
    srv = start_server(data, env=env)
    payloads = [f"m{i:04d}-" + "y" * 120 for i in range(300)]
    try:
        with Client(srv.address) as c:
            c.create_queue("q", lease=30.0)
            sent: dict[str, str] = {}
            for b in range(0, len(payloads), 5):
                batch = payloads[b : b + 5]
                sent.update(zip(c.send_ok("q", *batch), batch, strict=True))
    finally:
        srv.kill()

    segs = segments(data)
    assert len(segs) >= 6, f"expected several segments, got {[p.name for p in segs]}"
    damaged = segs[len(segs) // 2]
    assert damaged != segs[-1]
    size = damaged.stat().st_size
    start, end = next((s, e) for s, e in frames(damaged) if s <= size // 2 < e)
    flip_at = start + 12 + (end - start - 12) // 2  # inside the record, past its header
    raw = bytearray(damaged.read_bytes())
    # Records before the damage: every earlier segment, and this one up to the damaged frame.
    before = b"".join(p.read_bytes() for p in segs[: segs.index(damaged)]) + raw[:start]
    intact = {p for p in payloads if p.encode() in before}
    assert 0 < len(intact) < len(payloads)
    raw[flip_at] ^= 0x40
    damaged.write_bytes(bytes(raw))

    # The server refuses, naming the file and the offset, and says how to repair.
    out = start_refused(data, env=env)
    assert damaged.name in out, out
    assert re.search(rf"\b({start}|{flip_at})\b", out), f"offset {start} not named: {out}"
    assert "wal repair" in out, out
    proc = serve_expecting_exit(data)
    assert proc.returncode == 1, proc
    assert damaged.name in proc.stdout + proc.stderr

    verify = conveyor_cli("wal", "verify", "--data-dir", str(data))
    assert verify.returncode == 1, verify
    assert damaged.name in verify.stdout + verify.stderr, verify
    repair = conveyor_cli("wal", "repair", "--data-dir", str(data))
    assert repair.returncode == 0, repair
    verify = conveyor_cli("wal", "verify", "--data-dir", str(data))
    assert verify.returncode == 0, verify

    srv = start_server(data, env=env)
    try:
        with Client(srv.address) as c:
            drained = c.drain("q")
            got = [text(d) for d in drained]
            assert len(got) == len(set(got)), "a message came back twice"
            assert set(got) <= set(payloads)
            missing = intact - set(got)
            assert not missing, f"{len(missing)} messages before the damage were lost"
            for d in drained:
                assert sent[d.message.id] == text(d)
            # The repaired log takes new writes that survive another crash.
            more = c.send_ok("q", *[msg(f"after-{i}") for i in range(5)])
    finally:
        srv.kill()
    srv = start_server(data, env=env)
    try:
        with Client(srv.address) as c:
            assert {d.message.id for d in c.drain("q")} == set(more)
    finally:
        srv.stop()


def test_a_damaged_length_in_the_last_segment_is_refused_not_cut_off(tmp_path):
    """A flipped bit that sends a length past the end of the file looks like a write cut
    short; format 1 truncated there, silently dropping every acknowledged record after it.
    The header checksum tells the two apart: the start is refused."""
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        with Client(srv.address) as c:
            c.create_queue("q", lease=30.0)
            for b in range(20):
                c.send_ok("q", *[f"m{b}-{i}" for i in range(5)])
    finally:
        srv.kill()
    last = segments(data)[-1]
    spans = frames(last)
    start, _ = spans[len(spans) // 2]
    raw = bytearray(last.read_bytes())
    raw[start : start + 4] = struct.pack("<I", len(raw) - start + 100)
    last.write_bytes(bytes(raw))
    size = last.stat().st_size
    out = start_refused(data)
    assert last.name in out, out
    assert str(start) in out, out
    assert "wal repair" in out, out
    assert last.stat().st_size == size, "the log was cut"


def test_a_format_1_data_directory_is_refused_naming_its_version(tmp_path):
    wal = tmp_path / "data" / "wal"
    wal.mkdir(parents=True)
    body = b"\x01" + b'{"queue_put": "an old record"}'
    (wal / "0000000000000000.wal").write_bytes(
        struct.pack("<II", len(body), google_crc32c.value(body)) + body
    )
    before = sorted(p.name for p in wal.iterdir())
    out = start_refused(tmp_path / "data")
    assert "written in format 1, this server reads format 2" in out, out
    assert "wal repair" not in out, "repair would cut a log it cannot read"
    for command in ("verify", "repair"):
        done = conveyor_cli("wal", command, "--data-dir", str(tmp_path / "data"))
        assert done.returncode == 1, done
        assert "format 1" in done.stderr, done
    assert sorted(p.name for p in wal.iterdir()) == before, "an old directory was changed"
