"""Checkpoints and compaction under load, then SIGKILL (SPEC §6).

With a small checkpoint interval and small segments, snapshots are written again and again
while producers and consumers work, and old segments are deleted. Killing the server in the
middle of that loses no message whose Send returned OK and brings back no acked message; the
number of segment files stays bounded however long the log's history grows.
"""

from __future__ import annotations

import contextlib
import time

from faults_helpers import Client, Ledger, Load, segments, snapshots, wal_dir
from rpc_helpers import wait_until
from server_helpers import start_server

SEGMENT_BYTES = 8 * 1024
CHECKPOINT_BYTES = 64 * 1024
SLACK_SEGMENTS = 4
"""Growth while a checkpoint is being written, and the segment being appended to."""


def segment_bound(largest_snapshot: int) -> int:
    """Most segments that may exist at once: a checkpoint follows log growth of
    max(CHECKPOINT_BYTES, last snapshot size), i.e. the log stays proportional to live data."""
    return max(CHECKPOINT_BYTES, largest_snapshot) // SEGMENT_BYTES + SLACK_SEGMENTS


LIVES = 2
MESSAGES_PER_LIFE = 3000


def _segment_index(name: str) -> int:
    return int(name.split(".")[0], 16)


def test_checkpoints_under_load_then_sigkill(tmp_path):
    data = tmp_path / "data"
    env = {
        "CONVEYOR_SEGMENT_BYTES": str(SEGMENT_BYTES),
        "CONVEYOR_CHECKPOINT_BYTES": str(CHECKPOINT_BYTES),
    }
    queue = "work"
    ledger = Ledger()
    most_segments = 0
    newest_segment = 0
    largest_snapshot = 0
    for life in range(LIVES):
        srv = start_server(data, env=env)
        try:
            if life == 0:
                with Client(srv.address) as c:
                    c.create_queue(queue, lease=3.0)
            load = Load(
                srv.address,
                queue,
                ledger,
                life,
                payload_bytes=200,
                max_sent=MESSAGES_PER_LIFE + 2000,
            ).start()
            deadline = time.monotonic() + 30
            while (
                load.sent < MESSAGES_PER_LIFE
                and not ledger.unexpected
                and time.monotonic() < deadline
            ):
                names = [p.name for p in segments(data)]
                most_segments = max(most_segments, len(names))
                if names:
                    newest_segment = max(newest_segment, _segment_index(names[-1]))
                for snap in snapshots(data):
                    with contextlib.suppress(FileNotFoundError):
                        largest_snapshot = max(largest_snapshot, snap.stat().st_size)
                time.sleep(0.02)
            load.killing.set()
            srv.kill()
            load.join()
        finally:
            srv.kill()
        assert not ledger.unexpected, ledger.unexpected[:10]
        assert snapshots(data), (
            f"no snapshot after a life of load: {sorted(wal_dir(data).iterdir())}"
        )

    srv = start_server(data, env=env)
    try:
        with Client(srv.address) as c:
            drained = c.drain(queue, "workers", lease=30.0)
            ledger.record_seen(LIVES, drained)
            for d in drained:
                ledger.acked_ok[d.message.id].append((LIVES, d.attempt))
            st = c.stats(queue)
            assert (st.depth, st.ready, st.in_flight, st.delayed) == (0, 0, 0, 0), st
    finally:
        srv.stop()

    counts = ledger.check()
    print(
        f"ledger: {counts}; segments: at most {most_segments}, newest {newest_segment}, "
        f"largest snapshot {largest_snapshot} B"
    )
    assert counts["sent_ok"] >= LIVES * MESSAGES_PER_LIFE * 0.9, counts
    bound = segment_bound(largest_snapshot)
    # Not vacuous: the log's history is well beyond what was on disk at any time.
    assert newest_segment + 1 >= 2 * most_segments, (
        f"the log grew to only {newest_segment + 1} segments: not enough history to show compaction"
    )
    assert most_segments <= bound, (
        f"{most_segments} segment files at once (bound {bound}): old segments are not deleted"
    )
    final = segments(data)
    assert 1 <= len(final) <= bound, [p.name for p in final]
    assert 1 <= len(snapshots(data)) <= 2, [p.name for p in snapshots(data)]


def test_recovery_from_snapshot_alone(tmp_path):
    """After checkpoints deleted the early segments, queue and messages come from the snapshot."""
    data = tmp_path / "data"
    env = {
        "CONVEYOR_SEGMENT_BYTES": str(SEGMENT_BYTES),
        "CONVEYOR_CHECKPOINT_BYTES": str(CHECKPOINT_BYTES),
    }
    srv = start_server(data, env=env)
    try:
        with Client(srv.address) as c:
            c.create_queue("keep", lease=30.0, max_deliveries=5)
            kept = c.send_ok("keep", *[f"keep-{i}" for i in range(50)])
            c.create_queue("churn", lease=30.0)
            # Churn: send and ack until checkpoints have deleted the segment holding "keep".
            n = 0
            while segments(data)[0].name == "0000000000000000.wal" and n < 200:
                c.send_ok("churn", *[f"c{n}-{i}-" + "z" * 200 for i in range(50)])
                got = c.pull("churn", max_messages=100, wait=0.5)
                assert c.ack(d.ack_id for d in got) == []
                n += 1
            wait_until(
                lambda: segments(data)[0].name != "0000000000000000.wal",
                what="the first segment deleted by a checkpoint",
            )
    finally:
        srv.kill()

    srv = start_server(data, env=env)
    try:
        with Client(srv.address) as c:
            assert c.get_queue("keep").max_deliveries == 5
            assert {d.message.id for d in c.drain("keep")} == set(kept)
            c.drain("churn")
    finally:
        srv.stop()
