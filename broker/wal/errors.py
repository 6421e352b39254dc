"""Errors the write-ahead log raises, and what a caller should do about each.

They derive from ``broker.errors`` classes so the service layer can map them to gRPC statuses
without knowing about the WAL.
"""

from __future__ import annotations

from pathlib import Path

from broker.errors import BrokerError, Unavailable


class WalError(BrokerError):
    """Base class of every WAL error."""


class LogDamageError(WalError):
    """Bytes at ``offset`` of ``path`` are not a valid record; see the two subclasses."""

    kind = "damaged WAL data"
    advice = ""

    def __init__(self, path: Path, offset: int, reason: str) -> None:
        self.path = path
        self.offset = offset
        self.reason = reason
        super().__init__(f"{path}: {self.kind} at byte offset {offset}: {reason}{self.advice}")


class CorruptRecordError(LogDamageError):
    """Bytes in a segment (or snapshot) are not a valid record and cannot be a torn tail.

    Raised by the decoder and reader for a checksum mismatch or impossible length with more data
    after it, for any damage in a segment other than the last, and for a missing segment. The
    broker must not start on such a log: an operator runs ``repair()``, which keeps ``.broken``
    copies and reports what it dropped.
    """

    kind = "corrupt WAL data"
    advice = " (repair truncates the log here, keeping .broken copies)"


class CorruptSnapshotError(CorruptRecordError):
    """The newest snapshot file is damaged. Deliberately not skipped in favour of an older one:
    the log it covers may already be compacted, so an operator must decide."""

    kind = "corrupt snapshot"
    advice = " (an operator must move it aside; repair does not touch snapshots)"


class UnsupportedFormatError(LogDamageError):
    """A segment or snapshot was written in an on-disk format this server does not read.

    Raised at start before anything is changed. The data is intact: run the Conveyor version
    that wrote it to drain the queues, or move the directory aside to start empty.
    """

    kind = "unsupported WAL format"

    def __init__(self, path: Path, found: int, expected: int) -> None:
        self.found = found
        self.expected = expected
        super().__init__(
            path,
            0,
            f"written in format {found}, this server reads format {expected} only; start the "
            "Conveyor version that wrote it to drain its queues, or move the data directory "
            "aside to start empty",
        )


class TornTailError(LogDamageError):
    """The last segment ends in an incomplete write (short frame or zero-filled bytes).

    Expected after a crash. ``offset`` is where the good data ends; the opener truncates there.
    Never raised by ``WalReader`` iteration, which records it as ``reader.torn`` instead.
    """

    kind = "torn tail"


class RecordTooLargeError(WalError, ValueError):
    """A record exceeds ``MAX_RECORD_BYTES``. The caller must reject the request before logging."""


class WalWriteError(WalError, Unavailable):
    """A write or fsync failed. Sticky: the writer refuses every later append too.

    After a failed fsync the kernel may have dropped the dirty pages, so retrying could report
    durable data that is not; the broker must stop accepting writes and restart, which recovers
    the log from disk. The original ``OSError`` is chained as ``__cause__``.
    """


class WalClosedError(WalError, Unavailable):
    """``append`` was called on a writer that is closing or closed."""
