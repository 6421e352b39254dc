"""Payload rows at rest in the PostgreSQL store: sealed for encrypted queues, compressed above
the threshold (``broker.store.at_rest``), in clear and as sent otherwise.

A plain message's row is built by the insert statement itself (the sender's bytes, then the
server's fields around the sequence number it draws). A message to seal or compress needs
its whole encoding first, and sealing binds it to ``{queue}:{seq}``: so such messages draw
their sequence numbers before the insert, and their rows are stored as built here, with the
codec and the sealing key's id in their own columns.

Every key id that seals a row is recorded in ``conveyor_keys`` before the row is written, so
a server started without a key that live or retained rows still need refuses to start
(``check_keys``) instead of failing deliveries one by one. Rotation across servers: give
every server the new key first (listed before the current one, so it opens but does not
seal), then make it the newest everywhere; drop the old key once nothing live needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import asyncpg

from broker import wire
from broker.store.at_rest import CODEC_NONE, AtRest, MissingKeyError, refuse_unkeyed

if TYPE_CHECKING:
    from broker.store.postgres import QueueRow


_STILL_NEEDED = """
SELECT EXISTS (
    SELECT 1 FROM conveyor_messages m WHERE m.key_id = $1 AND (
        EXISTS (SELECT 1 FROM conveyor_units u WHERE u.seq = m.seq AND u.state < 2)
        OR EXISTS (SELECT 1 FROM conveyor_retained r WHERE r.seq = m.seq)))
"""
"""Whether a key still seals a row someone may read: a live message's or a retained one's
(a finished message's payload is never read again, though its row stays until its partition
is dropped)."""


class Payloads:
    """The server's keys and compression threshold, applied to payload rows."""

    def __init__(self, at_rest: AtRest) -> None:
        self.at_rest = at_rest
        self._recorded: set[str] = set()
        """Key ids known to be in ``conveyor_keys``."""

    def floor(self, q: QueueRow) -> int | None:
        """The smallest payload size at which this queue's messages are sealed or compressed
        (0 for an encrypted queue: all of them); None: none are."""
        if q.config.encrypted:
            return 0
        threshold = self.at_rest.threshold(q.config.compress_above_bytes)
        return threshold or None

    async def encode(
        self,
        conn: asyncpg.Connection,
        q: QueueRow,
        seqs: Sequence[int],
        encodings: Sequence[bytes],
        sizes: Sequence[int],
        now: float,
    ) -> tuple[list[bytes], list[int], str, int, int]:
        """(rows' bytes, codecs, sealing key id or "", compressed, bytes saved) for whole
        encodings of one queue's messages."""
        threshold = self.at_rest.threshold(q.config.compress_above_bytes)
        out, codecs, key_id, compressed, saved = self.at_rest.encode(
            q.name, seqs, encodings, sizes, threshold, q.config.encrypted
        )
        if key_id and key_id not in self._recorded:
            await conn.execute(
                "INSERT INTO conveyor_keys (key_id, first_used) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING",
                key_id,
                now,
            )
            self._recorded.add(key_id)
        return out, codecs or [CODEC_NONE] * len(out), key_id, compressed, saved

    def open(self, queue: str, seq: int, data: bytes, codec: int, key_id: str | None) -> bytes:
        """A row's message encoding as it was sent (with the server's fields)."""
        if not codec and not key_id:
            return data
        return self.at_rest.decode(queue, [seq], [data], [codec], key_id or "")[0]

    def open_rows(self, queue: str, rows: Sequence[Any]) -> dict[int, bytes]:
        """seq -> encoding of rows with ``seq, data, codec, key_id``."""
        return {
            r["seq"]: self.open(queue, r["seq"], r["data"], r["codec"], r["key_id"]) for r in rows
        }

    async def check_keys(self, conn: asyncpg.Connection) -> None:
        """Refuses to start without a key that encrypted queues or stored rows need."""
        ring = self.at_rest.keyring
        if not ring:
            encrypted = await conn.fetch(
                "SELECT name FROM conveyor_queues WHERE (config->>'encrypted')::bool ORDER BY name"
            )
            refuse_unkeyed([r["name"] for r in encrypted])
        for r in await conn.fetch("SELECT key_id FROM conveyor_keys ORDER BY key_id"):
            key_id = r["key_id"]
            if key_id in ring:
                continue
            if await conn.fetchval(_STILL_NEEDED, key_id):
                raise MissingKeyError(
                    f"the database holds messages sealed with encryption key {key_id!r}, which "
                    "this server was not given; add it to CONVEYOR_ENCRYPTION_KEYS or the key "
                    "file (id:base64key) and start again"
                )


def encoding(raw: bytes, seq: int, tail: bytes) -> bytes:
    """A message's whole encoding, as the insert statement builds it for a plain row."""
    return raw + wire.field(wire.M_ID, f"{seq:x}".encode()) + tail
