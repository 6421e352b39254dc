"""``conveyor serve``: a ``ServerConfig`` from file < ``CONVEYOR_*`` environment < flags, then run.

The server (grpc and the core) is imported only once the configuration is valid.
"""

from __future__ import annotations

import tomllib

import click

from broker.cli.common import _fail
from broker.config import DEFAULT_DATA_DIR, DEFAULT_LISTEN, FSYNC_POLICIES, load_config
from broker.errors import InvalidArgument


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
def serve(
    listen: str | None,
    http_listen: str | None,
    data_dir: str | None,
    config_file: str | None,
    storage: str | None,
    fsync: str | None,
    fsync_interval_ms: int | None,
    log_level: str | None,
    store: str | None,
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
        "store": store,
    }
    try:
        config = load_config(config_file, env=None, overrides=overrides)
    except InvalidArgument as exc:
        _fail("invalid configuration", str(exc), exit_code=2)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        _fail("invalid configuration", f"config file {config_file}: {exc}", exit_code=2)
    from broker.service.server import run  # heavy (grpc, the core); only serve needs it

    raise SystemExit(run(config))
