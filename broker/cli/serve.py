"""``conveyor serve``: a ``ServerConfig`` from file < ``CONVEYOR_*`` environment < flags, then run.

The server (grpc and the core) is imported only once the configuration is valid.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import click

from broker.cli.common import _fail
from broker.config import (
    DEFAULT_DATA_DIR,
    DEFAULT_LISTEN,
    FSYNC_POLICIES,
    ServerConfig,
    load_config,
)
from broker.errors import InvalidArgument

_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}
_UNITS |= {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
}


class _Size(click.ParamType):  # type: ignore[type-arg]
    """Bytes, with an optional unit: ``1048576``, ``512MiB``, ``2G``."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        m = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", str(value))
        unit = m and _UNITS.get(m.group(2).lower())
        if m is None or unit is None:
            self.fail(f"{value!r} is not a size, e.g. 1048576, 512MiB or 2G", param, ctx)
        return int(m.group(1)) * unit


SIZE = _Size()


@click.command()
@click.option(
    "--listen", metavar="HOST:PORT", help=f"Address to serve on [default: {DEFAULT_LISTEN}]."
)
@click.option(
    "--http-listen",
    metavar="HOST:PORT",
    help="Also serve HTTP here: /healthz, /metrics, the console [default: off].",
)
@click.option(
    "--http-allowed-hosts",
    metavar="NAME,...",
    help="Host names the console answers to beside localhost, IP addresses and the "
    "--http-listen host (DNS-rebinding guard); * for any.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help=f"Where the WAL lives [default: {DEFAULT_DATA_DIR}].",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="TOML file of settings (flags override it).",
)
@click.option(
    "--fsync", type=click.Choice(FSYNC_POLICIES), help="When the WAL is fsynced [default: always]."
)
@click.option(
    "--fsync-interval-ms", type=int, help="With --fsync interval: milliseconds between fsyncs."
)
@click.option(
    "--storage",
    type=click.Choice(["wal", "memory"]),
    help="wal: durable (default); memory: nothing survives a restart.",
)
@click.option(
    "--store",
    metavar="URL",
    help="postgresql://USER@HOST:PORT/DB: share state with other servers through PostgreSQL "
    "[default: the embedded store in --data-dir].",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Log verbosity [default: INFO].",
)
@click.option(
    "--encryption-key-file",
    type=click.Path(dir_okay=False),
    help="File of id:base64key lines (newest last) for encrypted queues; or set "
    "CONVEYOR_ENCRYPTION_KEYS=id:base64key,...",
)
@click.option(
    "--compress-above",
    "compress_above_bytes",
    type=int,
    help="Write payloads of at least this many bytes compressed (zstd); 0: off [default: 0].",
)
@click.option(
    "--status-retention",
    "status_retention_s",
    type=float,
    help="Seconds a finished message's status stays readable, restarts too [default: 3600].",
)
@click.option("--tls-cert", metavar="FILE", help="PEM certificate chain: serve TLS only.")
@click.option("--tls-key", metavar="FILE", help="PEM private key of --tls-cert.")
@click.option(
    "--tls-client-ca", metavar="FILE", help="PEM CA: require client certificates it signed."
)
@click.option("--auth-file", metavar="FILE", help="TOML principals and grants (token auth).")
@click.option(
    "--max-memory",
    type=SIZE,
    help="Refuse sends once stored messages take this much (e.g. 512MiB) [default: no limit].",
)
@click.option("--max-queues", type=int, help="Most queues on the server [default: 100000].")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="text, or json: one object per line [default: text].",
)
def serve(
    listen: str | None,
    http_listen: str | None,
    data_dir: str | None,
    config_file: str | None,
    storage: str | None,
    fsync: str | None,
    fsync_interval_ms: int | None,
    log_level: str | None,
    encryption_key_file: str | None,
    compress_above_bytes: int | None,
    status_retention_s: float | None,
    tls_cert: str | None,
    tls_key: str | None,
    tls_client_ca: str | None,
    auth_file: str | None,
    max_memory: int | None,
    max_queues: int | None,
    log_format: str | None,
    store: str | None,
    http_allowed_hosts: str | None,
) -> None:
    """Run a broker server until SIGTERM or Ctrl-C."""
    # Unset flags stay None so values from the file or CONVEYOR_* environment win.
    overrides = {
        "listen": listen,
        "http_listen": http_listen,
        "data_dir": data_dir,
        "storage": storage,
        "fsync": fsync,
        "fsync_interval_ms": fsync_interval_ms,
        "log_level": log_level.upper() if log_level else None,
        "encryption_key_file": encryption_key_file,
        "compress_above_bytes": compress_above_bytes,
        "status_retention_s": status_retention_s,
        "tls_cert": tls_cert,
        "tls_key": tls_key,
        "tls_client_ca": tls_client_ca,
        "auth_file": auth_file,
        "max_memory": max_memory,
        "max_queues": max_queues,
        "log_format": log_format,
        "store": store,
        "http_allowed_hosts": http_allowed_hosts,
    }
    try:
        config = load_config(config_file, env=None, overrides=overrides)
        _check_files(config)
    except InvalidArgument as exc:
        _fail("invalid configuration", str(exc), exit_code=2)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        _fail("invalid configuration", f"config file {config_file}: {exc}", exit_code=2)
    from broker.service.server import run  # heavy (grpc, the core); only serve needs it

    raise SystemExit(run(config))


def _check_files(config: ServerConfig) -> None:
    """The files the config names, read now so a bad one exits 2 naming its setting."""
    if config.auth_file:
        from broker.auth import load_auth_file

        load_auth_file(config.auth_file)
    if config.tls_cert:
        from broker.service.tls import check_files

        check_files(config.tls_cert, config.tls_key, config.tls_client_ca or None)
