"""Server configuration: defaults, then a TOML file, then ``CONVEYOR_*`` environment, then flags.

Validated once at start so a bad value stops the server with a message naming the setting,
rather than failing later under load.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from broker.errors import InvalidArgument

FSYNC_POLICIES = ("always", "interval", "never")
STORAGE_KINDS = ("wal", "memory")

MAX_PAYLOAD_LIMIT = 8 * 1024 * 1024
"""Largest ``max_payload_bytes``: a message with its attributes and fields must fit one log
record (16 MiB), and a Send frame carries up to 16 of them."""

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_DATA_DIR = "./conveyor-data"


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """Everything the server reads at start. Field names are the file keys and flag names."""

    listen: str = DEFAULT_LISTEN
    http_listen: str = ""
    """``HOST:PORT`` of the HTTP listener (``/healthz``, metrics, console); empty: none."""
    data_dir: str = DEFAULT_DATA_DIR
    storage: str = "wal"
    """``wal`` (durable, the default) or ``memory`` (nothing survives a restart)."""
    fsync: str = "always"
    fsync_interval_ms: int = 50
    segment_bytes: int = 64 * 1024 * 1024
    checkpoint_bytes: int = 128 * 1024 * 1024
    """Log growth that triggers a snapshot and the deletion of the segments it covers."""
    max_payload_bytes: int = 1024 * 1024
    """Server-wide payload ceiling; a queue's own limit may only be lower."""
    max_batch_messages: int = 1000
    """Messages per Send or per stream frame; bounds the work one call can queue."""
    max_receive_window: int = 10_000
    """Upper bound on a stream's max_outstanding_messages."""
    shutdown_grace_s: float = 10.0
    log_level: str = "INFO"
    status_retention_s: float = 3600.0
    """How long a finished message's status stays readable (GetMessageStatus), restarts too."""
    encryption_keys: str = dataclasses.field(default="", repr=False)
    """``id:base64key,...`` (newest last) for encrypted queues; usually from the environment
    (``CONVEYOR_ENCRYPTION_KEYS``) rather than a file or a flag."""
    encryption_key_file: str = ""
    """A file of ``id:base64key`` lines (newest last), read before ``encryption_keys``."""
    compress_above_bytes: int = 0
    """Payloads at least this large are written compressed (zstd); 0: off. Queues override it."""
    tls_cert: str = ""
    """PEM certificate chain: with ``tls_key``, the server speaks TLS only."""
    tls_key: str = ""
    tls_client_ca: str = ""
    """PEM CA certificates: clients must present a certificate they signed (mTLS)."""
    auth_file: str = ""
    """TOML principals and grants (``broker.auth``); empty: every caller may do anything."""
    max_memory: int = 0
    """Bytes of stored messages (all queues) above which sends are refused; 0: no limit."""
    max_queues: int = 100_000
    max_streams: int = 10_000
    """Open streaming calls (Receive, StreamingReceive, SendStream, WatchMessage) in all."""
    max_streams_per_connection: int = 100
    max_request_bytes: int = 0
    """Largest request frame; 0: what ``max_payload_bytes`` and ``max_batch_messages`` need."""
    log_format: str = "text"
    """``text`` (for people) or ``json`` (one object per line, for collectors)."""
    store: str = ""
    """``postgresql://USER@HOST:PORT/DB``: keep state in that database, shared with other
    servers (``data_dir`` and the WAL settings are then unused); empty: the embedded store."""
    http_allowed_hosts: str = ""
    """Comma-separated host names the console answers to (``Host`` header) beside
    ``localhost``, IP addresses and the ``http_listen`` host; ``*``: any (no DNS-rebinding
    guard). ``/healthz`` and ``/metrics`` answer any host."""

    def validate(self) -> ServerConfig:
        _check_address("listen", self.listen, "127.0.0.1:50051")
        if self.http_listen:
            _check_address("http_listen", self.http_listen, "127.0.0.1:8080")
        if self.fsync not in FSYNC_POLICIES:
            raise InvalidArgument(
                f"fsync {self.fsync!r}: expected one of {', '.join(FSYNC_POLICIES)}"
            )
        for name in (
            "fsync_interval_ms",
            "max_payload_bytes",
            "max_batch_messages",
            "max_receive_window",
            "max_queues",
            "max_streams",
            "max_streams_per_connection",
        ):
            if getattr(self, name) <= 0:
                raise InvalidArgument(f"{name} must be positive, got {getattr(self, name)}")
        if self.max_payload_bytes > MAX_PAYLOAD_LIMIT:
            raise InvalidArgument(
                f"max_payload_bytes {self.max_payload_bytes} is above {MAX_PAYLOAD_LIMIT}, the "
                "largest message the write-ahead log frames"
            )
        if self.status_retention_s < 0 or self.compress_above_bytes < 0:
            raise InvalidArgument("status_retention_s and compress_above_bytes must be >= 0")
        if self.log_format not in ("text", "json"):
            raise InvalidArgument(f"log_format {self.log_format!r}: expected text or json")
        if self.store and not self.store.startswith(("postgresql://", "postgres://")):
            raise InvalidArgument(
                f"store {self.store!r}: expected a postgresql://USER@HOST:PORT/DB URL"
            )
        if self.shutdown_grace_s < 0:
            raise InvalidArgument(f"shutdown_grace_s must be >= 0, got {self.shutdown_grace_s}")
        for name in ("max_memory", "max_request_bytes"):
            if getattr(self, name) < 0:
                raise InvalidArgument(
                    f"{name} must be >= 0 (0: no limit), got {getattr(self, name)}"
                )
        for name in self.allowed_hosts():
            if name != "*" and not _HOST_NAME.fullmatch(name):
                raise InvalidArgument(
                    f"http_allowed_hosts entry {name!r}: expected a host name without a port "
                    "(e.g. console.example.com), or * for any"
                )
        if bool(self.tls_cert) != bool(self.tls_key):
            raise InvalidArgument("tls_cert and tls_key go together: set both or neither")
        if self.tls_client_ca and not self.tls_cert:
            raise InvalidArgument("tls_client_ca (mTLS) needs tls_cert and tls_key too")
        return self

    def allowed_hosts(self) -> list[str]:
        """``http_allowed_hosts`` as a list of names."""
        return [n.strip() for n in self.http_allowed_hosts.split(",") if n.strip()]


_HOST_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?")


def _check_address(name: str, value: str, example: str) -> None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InvalidArgument(f"{name} {value!r}: expected HOST:PORT, e.g. {example}")


def load_config(
    file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServerConfig:
    """Layers file < environment < overrides (flags; ``None`` values are ignored)."""
    fields = {f.name: f for f in dataclasses.fields(ServerConfig)}
    values: dict[str, Any] = {}
    if file is not None:
        with open(file, "rb") as fh:
            data = tomllib.load(fh)
        unknown = set(data) - set(fields)
        if unknown:
            raise InvalidArgument(f"config file {file}: unknown settings {sorted(unknown)}")
        for name, value in data.items():
            values[name] = _check_type(name, fields[name].type, value, f"config file {file}")
    environ = os.environ if env is None else env
    for name, field in fields.items():
        raw = environ.get(f"CONVEYOR_{name.upper()}")
        if raw is not None:
            values[name] = _parse(name, field.type, raw)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return ServerConfig(**values).validate()


def _check_type(name: str, kind: Any, value: Any, where: str) -> Any:
    expected: Any = {"int": int, "float": (int, float), "str": str}.get(str(kind), object)
    if isinstance(value, bool) or not isinstance(value, expected):
        raise InvalidArgument(f"{where}: {name} = {value!r} should be of type {kind}")
    return value


def _parse(name: str, kind: Any, raw: str) -> Any:
    try:
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
    except ValueError:
        raise InvalidArgument(f"CONVEYOR_{name.upper()}={raw!r}: not a number") from None
    return raw
