"""The system calls through which the WAL writes and syncs: the fault seam for tests.

A test passes a subclass whose ``write`` or ``fsync`` fails after N calls, instead of
monkeypatching ``os``. Only calls whose failure changes what is durable go through here.
"""

from __future__ import annotations

import os


class FileOps:
    """Real file operations. Stateless, so one instance may be shared by any number of writers."""

    def write(self, fd: int, data: bytes | memoryview) -> int:
        """Write some of ``data``; return how many bytes were written (may be short)."""
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        """Flush the file (or directory) ``fd`` to stable storage."""
        os.fsync(fd)


DEFAULT_OPS = FileOps()


def write_all(ops: FileOps, fd: int, data: bytes) -> None:
    """Write all of ``data``, resuming after short writes."""
    view = memoryview(data)
    while view:
        view = view[ops.write(fd, view) :]


def fsync_dir(ops: FileOps, directory: os.PathLike[str] | str) -> None:
    """Make creations, renames and deletions in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        ops.fsync(fd)
    finally:
        os.close(fd)
