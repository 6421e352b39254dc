"""The ``conveyor`` command line: run a server, and drive one (send, receive, admin, stats).

``serve`` builds a ``ServerConfig`` (file < ``CONVEYOR_*`` environment < flags) and hands it to
``broker.service.server.run``. Every other command talks to a server through the Python SDK
(``conveyor_client``), imported lazily so ``serve`` and ``--help`` load only click and the config.

Output is for people by default (aligned tables, ``30s``-style durations); ``--json`` prints
JSON for scripts: one object per line for streams (``receive``, ``status --watch``), one
document otherwise. RPC failures print ``error: <CODE>: <details>`` to stderr and exit 1;
configuration and usage errors exit 2.

The modules, one job each: ``serve``; ``messages`` (send, receive, status, peek); ``admin``
(queues, bindings, subscriptions, stats, dead letters); ``wal``; ``bench``; and what they share:
``durations``, ``output`` and ``common`` (settings, error exits, the SDK client). This module is
the ``main`` group; the names it re-exports are the ones tests and scripts import.
"""

from __future__ import annotations

import click

from broker.cli import admin, auth, bench, db, health, messages, serve, wal
from broker.cli.admin import KINDS, OVERFLOW_POLICIES, QUEUE_FIELDS, queue_config
from broker.cli.common import DEFAULT_SERVER, _Settings
from broker.cli.durations import (
    DURATION,
    DURATIONS,
    DurationListType,
    DurationType,
    format_duration,
    parse_duration,
)
from broker.cli.messages import GUARANTEES, RECEIVE_WINDOW
from broker.cli.output import stats_to_dict

__all__ = [
    "DEFAULT_SERVER",
    "DURATION",
    "DURATIONS",
    "GUARANTEES",
    "KINDS",
    "OVERFLOW_POLICIES",
    "QUEUE_FIELDS",
    "RECEIVE_WINDOW",
    "DurationListType",
    "DurationType",
    "format_duration",
    "main",
    "parse_duration",
    "queue_config",
    "stats_to_dict",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--server",
    envvar="CONVEYOR_SERVER",
    default=DEFAULT_SERVER,
    show_default=True,
    metavar="HOST:PORT",
    help="Server that client commands talk to (env CONVEYOR_SERVER).",
)
@click.option(
    "--tls-ca",
    envvar="CONVEYOR_CLIENT_TLS_CA",
    type=click.Path(exists=True, dir_okay=False),
    help="Connect with TLS, trusting this PEM CA (env CONVEYOR_CLIENT_TLS_CA).",
)
@click.option(
    "--tls-cert",
    envvar="CONVEYOR_CLIENT_TLS_CERT",
    type=click.Path(exists=True, dir_okay=False),
    help="PEM client certificate for mTLS, with --tls-key (env CONVEYOR_CLIENT_TLS_CERT).",
)
@click.option(
    "--tls-key",
    envvar="CONVEYOR_CLIENT_TLS_KEY",
    type=click.Path(exists=True, dir_okay=False),
    help="PEM private key of --tls-cert (env CONVEYOR_CLIENT_TLS_KEY).",
)
@click.option(
    "--token",
    envvar="CONVEYOR_TOKEN",
    metavar="TOKEN",
    help="Bearer token for the server's auth file; prefer the env CONVEYOR_TOKEN.",
)
@click.version_option(package_name="conveyor-broker", prog_name="conveyor")
@click.pass_context
def main(
    ctx: click.Context,
    server: str,
    tls_ca: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    token: str | None,
) -> None:
    """Conveyor, a gRPC message broker: run a server and work with its queues."""
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    ctx.obj = _Settings(server, tls_ca, tls_cert, tls_key, token)


# click lists commands alphabetically in --help; this order only mirrors the modules.
for _command in (
    serve.serve,
    messages.send,
    messages.receive,
    messages.status,
    messages.peek,
    admin.queue,
    admin.bind,
    admin.unbind,
    admin.bindings,
    admin.subscriptions,
    admin.subscription,
    admin.stats,
    admin.top,
    admin.dlq,
    wal.wal,
    health.health,
    bench.bench,
    auth.auth,
    db.db,
):
    main.add_command(_command)
