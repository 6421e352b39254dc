"""What message bytes look like at rest: compressed above a size, sealed for encrypted queues.

Both stores use it: the embedded one for its log and snapshots, the PostgreSQL one for its
payload rows. The hot path stores a message's bytes as they are (the sender's encoding with
the server's fields appended). Only a queue that is encrypted, or a payload at or above the
compression threshold, takes the slower path here:

- compression (zstd) of a message's whole encoding, kept only when it is smaller;
- sealing with AES-256-GCM under the newest key: a fresh 12-byte random nonce per message,
  then the ciphertext and its 16-byte tag; the associated data is ``{queue}:{seq hex}``, so a
  sealed entry cannot be moved to another message unnoticed. The store keeps the key id with
  the entry (the log's ``Published.sealed_key``, a payload row's ``key_id``); any configured
  key opens what it sealed, so a new key can be added (it seals from then on) while older
  entries still open (rotation).

Random 96-bit nonces are safe for about 2**32 messages per key: rotate well before that.
Topics, ordering keys and dedup ids stay readable (routing needs them without a key), as do
the log's framing and checksums, so ``conveyor wal verify`` needs no key.

Keys come from ``CONVEYOR_ENCRYPTION_KEYS`` or a key file, as ``id:base64-of-32-bytes``
entries (comma- or newline-separated, ``#`` starts a comment); the last listed is the newest.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from pathlib import Path

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from broker.errors import FailedPrecondition, InvalidArgument
from broker.model import QueueConfig

CODEC_NONE = 0
CODEC_ZSTD = 1
_NONCE = 12
_LEVEL = 3
"""zstd's default: most of the saving for a few milliseconds per MiB."""
_MAX_MESSAGE = 64 * 1024 * 1024
"""Largest decompressed entry accepted (a message is at most 8 MiB): a damaged frame must
not make recovery allocate without bound."""


def check_sealing(config: QueueConfig, can_seal: bool, dead_letters: QueueConfig | None) -> None:
    """The rules of an encrypted queue's settings, which every store applies: the server
    needs a key, and its dead-letter queue (``dead_letters``, when it has one) must be
    encrypted too."""
    if config.encrypted and not can_seal:
        raise FailedPrecondition(
            f"queue {config.name!r} is encrypted but the server has no encryption key; start it "
            "with --encryption-key-file or CONVEYOR_ENCRYPTION_KEYS"
        )
    if dead_letters is not None and config.encrypted and not dead_letters.encrypted:
        raise FailedPrecondition(
            f"queue {config.name!r} is encrypted, so its dead-letter queue "
            f"{config.dead_letter_queue!r} must be too (dead letters keep the payload)"
        )


def check_encryption_kept(current: QueueConfig, changes: dict[str, object]) -> None:
    if "encrypted" in changes and changes["encrypted"] != current.encrypted:
        raise FailedPrecondition(
            f"queue {current.name!r}: encrypted is fixed when the queue is created; create a new "
            "queue"
        )


class MissingKeyError(FailedPrecondition):
    """The log holds records sealed with a key the server was not given. The server must not
    start without it: serving would lose those messages."""


def refuse_unkeyed(encrypted: Sequence[str]) -> None:
    """At start: a store holding encrypted queues needs a key to store anything in them, so
    a server given none refuses to start rather than fail their first Send."""
    if encrypted:
        raise MissingKeyError(
            f"queues {list(encrypted)} are encrypted but this server was given no encryption "
            "key; set CONVEYOR_ENCRYPTION_KEYS or --encryption-key-file and start again"
        )


class Keyring:
    """Encryption keys by id; the newest seals."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        self._keys: dict[str, AESGCM] = {}
        self.newest = ""
        for key_id, key in keys:
            if not key_id or ":" in key_id or "," in key_id:
                raise InvalidArgument(f"encryption key id {key_id!r} is empty or has ':' or ','")
            if len(key) != 32:
                raise InvalidArgument(
                    f"encryption key {key_id!r} is {len(key)} bytes; AES-256 needs 32 "
                    "(make one with: head -c 32 /dev/urandom | base64)"
                )
            self._keys[key_id] = AESGCM(key)
            self.newest = key_id

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    @classmethod
    def parse(cls, text: str, where: str) -> Keyring:
        keys = []
        lines = (line.partition("#")[0] for line in text.splitlines())  # "#" starts a comment
        for entry in ",".join(lines).split(","):
            entry = entry.strip()
            if not entry:
                continue
            key_id, sep, encoded = entry.partition(":")
            if not sep:
                raise InvalidArgument(f"{where}: expected id:base64key, got {entry[:20]!r}...")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except binascii.Error:
                raise InvalidArgument(f"{where}: key {key_id!r} is not valid base64") from None
            keys.append((key_id.strip(), key))
        return cls(keys)

    @classmethod
    def load(cls, env_value: str, key_file: str) -> Keyring:
        """Keys from a file, then from the environment variable's value (newest last)."""
        ring = cls([])
        for text, where in (
            (Path(key_file).read_text() if key_file else "", f"key file {key_file}"),
            (env_value, "CONVEYOR_ENCRYPTION_KEYS"),
        ):
            part = cls.parse(text, where)
            ring._keys.update(part._keys)
            ring.newest = part.newest or ring.newest
        return ring

    def seal(self, data: bytes, aad: bytes) -> bytes:
        return self.seal_all([data], [aad])[0]

    def seal_all(self, datas: Sequence[bytes], aads: Sequence[bytes]) -> list[bytes]:
        """Seals each entry under the newest key with its own random nonce (drawn for the
        whole batch at once: one system call, not one per message)."""
        encrypt = self._keys[self.newest].encrypt
        nonces = os.urandom(_NONCE * len(datas))
        out = []
        for i, (data, aad) in enumerate(zip(datas, aads, strict=True)):
            nonce = nonces[i * _NONCE : (i + 1) * _NONCE]
            out.append(nonce + encrypt(nonce, data, aad))
        return out

    def open(self, key_id: str, sealed: bytes, aad: bytes) -> bytes:
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise MissingKeyError(
                f"stored messages (in the data directory or database) are sealed with "
                f"encryption key {key_id!r}, which this server was not given; add it to "
                "CONVEYOR_ENCRYPTION_KEYS or the "
                "key file (id:base64key) and start again"
            )
        try:
            return cipher.decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
        except InvalidTag:
            raise FailedPrecondition(
                f"a message sealed with key {key_id!r} does not open with the key of that id "
                "this server was given (wrong key, or damaged data)"
            ) from None


class AtRest:
    """The server's at-rest settings: its keys and default compression threshold (0: off)."""

    def __init__(self, keyring: Keyring | None = None, compress_above: int = 0) -> None:
        self.keyring = keyring or Keyring([])
        self.compress_above = compress_above
        self._compressor = zstandard.ZstdCompressor(level=_LEVEL)
        self._decompressor = zstandard.ZstdDecompressor()

    def threshold(self, compress_above: int | None) -> int:
        """A queue's threshold (its override, else the server's); 0: never."""
        return self.compress_above if compress_above is None else compress_above

    def encode(
        self,
        queue: str,
        seqs: Sequence[int],
        datas: Sequence[bytes],
        sizes: Sequence[int],
        threshold: int,
        seal: bool,
    ) -> tuple[list[bytes], list[int], str, int, int]:
        """(entries, codecs or [], sealing key id or "", messages compressed, bytes saved)."""
        out = list(datas)
        codecs: list[int] = []
        compressed = saved = 0
        if threshold:
            for i, size in enumerate(sizes):
                if size >= threshold:
                    packed = self._compressor.compress(out[i])
                    if len(packed) < len(out[i]):
                        if not codecs:
                            codecs = [CODEC_NONE] * len(out)
                        codecs[i] = CODEC_ZSTD
                        compressed += 1
                        saved += len(out[i]) - len(packed)
                        out[i] = packed
        key_id = ""
        if seal:
            ring = self.keyring
            if not ring:
                raise FailedPrecondition(
                    f"queue {queue!r} is encrypted but the server has no encryption key"
                )
            key_id = ring.newest
            out = ring.seal_all(out, [_aad(queue, s) for s in seqs])
        return out, codecs, key_id, compressed, saved

    def decode(
        self,
        queue: str,
        seqs: Sequence[int],
        entries: Sequence[bytes],
        codecs: Sequence[int],
        key_id: str,
    ) -> list[bytes]:
        out = list(entries)
        if key_id:
            ring = self.keyring
            out = [ring.open(key_id, d, _aad(queue, s)) for d, s in zip(out, seqs, strict=True)]
        for i, codec in enumerate(codecs):
            if codec == CODEC_ZSTD:
                out[i] = self._decompressor.decompress(out[i], max_output_size=_MAX_MESSAGE)
            elif codec != CODEC_NONE:
                raise FailedPrecondition(f"unknown compression codec {codec} in the log")
        return out


def _aad(queue: str, seq: int) -> bytes:
    return f"{queue}:{seq:x}".encode()
