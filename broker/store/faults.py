"""Failpoints for fault tests of the real server process: a failing disk on demand.

``CONVEYOR_FAILPOINT=wal-fsync-fails-after:N`` (or ``wal-write-fails-after:N``) makes the
write-ahead log's N+1-th fsync (or write) and every later one fail with EIO, so a test can
prove that an error is sticky and that nothing is acknowledged that was not written. Unset in
production; the seam is the WAL's ``FileOps``, so no OS function is patched.
"""

from __future__ import annotations

import errno
import os

from broker.errors import InvalidArgument
from broker.wal import FileOps
from broker.wal.fileops import DEFAULT_OPS

ENV = "CONVEYOR_FAILPOINT"


class FailingOps(FileOps):
    """Real file operations until ``after`` calls of ``op``, then EIO for ever."""

    def __init__(self, op: str, after: int) -> None:
        self.op = op
        self.remaining = after

    def _tick(self, op: str) -> None:
        if op != self.op:
            return
        if self.remaining <= 0:
            raise OSError(errno.EIO, f"failpoint: {op} fails")
        self.remaining -= 1

    def write(self, fd: int, data: bytes | memoryview) -> int:
        self._tick("write")
        return super().write(fd, data)

    def fsync(self, fd: int) -> None:
        self._tick("fsync")
        super().fsync(fd)


def file_ops_from_env() -> FileOps:
    spec = os.environ.get(ENV, "")
    if not spec:
        return DEFAULT_OPS
    name, _, count = spec.partition(":")
    ops = {"wal-fsync-fails-after": "fsync", "wal-write-fails-after": "write"}
    if name not in ops or not count.isdigit():
        raise InvalidArgument(
            f"{ENV}={spec!r}: expected wal-fsync-fails-after:N or wal-write-fails-after:N"
        )
    return FailingOps(ops[name], int(count))
