"""Conveyor's write-ahead log: opaque ``(type, body)`` records, framed, in segment files.

This docstring is the specification of the on-disk format. Integers are little-endian.

Segment header
    Every segment file starts with 16 bytes: ``b"CONVEYOR"``, the format version u32
    (``FORMAT_VERSION``, 2), and the CRC32C of those 12 bytes u32. A segment with another
    version is refused with ``UnsupportedFormatError`` naming it; format 1 (Conveyor 0.1) had
    no header and is recognised by its first frame.

Frame (one record)
    ::

        offset  size    field
        0       4       length       u32: bytes of type + body, 1 .. MAX_RECORD_BYTES (16 MiB)
        4       4       header_crc   u32: CRC32C of the 4 length bytes
        8       4       crc          u32: CRC32C of length + type + body
        12      1       type         u8: opaque to the WAL; the caller's record kind
        13      len-1   body         opaque bytes (the caller's encoding)

    Frames follow the segment header and each other with no padding. A frame is valid when its
    header checksum matches, its length is in range, it lies wholly inside the file and its
    checksum matches. The CRC is per record (not chained), so a record's validity never depends
    on older, compacted segments. The header checksum makes a damaged length field corruption,
    never a frame that merely "runs past the end of the file".

Segments
    Files named ``{index:016x}.wal`` (lower-case hex, e.g. ``000000000000002a.wal``), index
    counting up from 0 with no gaps among those present. Only the last is appended to. A new
    segment is cut before a batch when the current one has reached ``segment_bytes`` (64 MiB by
    default), so a segment overshoots by at most one batch, and a batch never spans segments.
    Cutting fsyncs the old segment in full first, whatever the fsync policy, then creates the new
    one (header only) as ``<name>.tmp`` (fsync), renames it (fsync the directory). A log
    position is ``Position(segment index, byte offset)``; positions returned by writes are
    frame ends.

Torn tail vs corruption
    A crash can only damage the end of the last segment. There, these are a *torn tail*, which
    opening the log truncates (keeping a ``<name>.broken`` copy): the file ends inside a frame
    header, or after a sound header whose frame runs past EOF; or zero-filled bytes reach EOF
    from inside the frame (a checksum mismatch where the zeros start inside the frame - a
    filesystem may extend a file before the data lands). Everything else is *corruption* and
    stops recovery with ``CorruptRecordError`` naming file and byte offset: a header checksum
    mismatch (a damaged length) with data after it, a body checksum mismatch with data after
    it, any damage in a segment other than the last, a missing segment. ``repair()`` truncates
    there, renames later segments to ``.broken`` and reports what was dropped.

Snapshots
    Files named ``{segment:016x}-{offset:016x}.snap``: the log position the snapshot covers,
    i.e. every record before it is reflected, so replay starts there. Contents are frames in the
    format above (no segment header): first a header frame (type 0, body ``b"CVSNAP02"`` +
    segment u64 + offset u64 + record count u64), then the records; any damage is corruption.
    Written incrementally as ``.snap.tmp``, fsynced, renamed, directory fsynced. After a
    snapshot, segments with an index below its position's segment can be deleted; only the
    newest snapshot is kept.

Other files in the directory (``*.tmp`` left by a crash, ``*.broken``) are ignored by readers.
"""

from __future__ import annotations

from broker.wal.errors import (
    CorruptRecordError,
    CorruptSnapshotError,
    LogDamageError,
    RecordTooLargeError,
    TornTailError,
    UnsupportedFormatError,
    WalClosedError,
    WalError,
    WalWriteError,
)
from broker.wal.fileops import FileOps
from broker.wal.reader import WalReader
from broker.wal.record import MAX_RECORD_BYTES, Record, decode_at, encode
from broker.wal.repair import RepairReport, VerifyReport, prepare_for_append, repair, verify
from broker.wal.segment import (
    DEFAULT_SEGMENT_BYTES,
    FORMAT_VERSION,
    SEGMENT_HEADER_BYTES,
    Position,
)
from broker.wal.snapshot import (
    Snapshot,
    SnapshotWriter,
    delete_segments_before,
    load_snapshot,
    write_snapshot,
)
from broker.wal.writer import FsyncPolicy, WalWriter, WriterStats

__all__ = [
    "DEFAULT_SEGMENT_BYTES",
    "FORMAT_VERSION",
    "MAX_RECORD_BYTES",
    "SEGMENT_HEADER_BYTES",
    "CorruptRecordError",
    "CorruptSnapshotError",
    "FileOps",
    "FsyncPolicy",
    "LogDamageError",
    "Position",
    "Record",
    "RecordTooLargeError",
    "RepairReport",
    "Snapshot",
    "SnapshotWriter",
    "TornTailError",
    "UnsupportedFormatError",
    "VerifyReport",
    "WalClosedError",
    "WalError",
    "WalReader",
    "WalWriteError",
    "WalWriter",
    "WriterStats",
    "decode_at",
    "delete_segments_before",
    "encode",
    "load_snapshot",
    "prepare_for_append",
    "repair",
    "verify",
    "write_snapshot",
]
