"""``conveyor auth``: helpers for writing an auth file (``serve --auth-file``).

``hash-token`` reads a token on stdin and prints the hex SHA-256 an auth file stores, so the
token itself is never written into a file, a command line or a shell history.
"""

from __future__ import annotations

import sys

import click

from broker.cli.common import _fail


@click.group()
def auth() -> None:
    """Helpers for the server's auth file."""


@auth.command("hash-token")
def hash_token() -> None:
    """Read a token on stdin; print the token_sha256 value for an auth file."""
    from broker.auth import hash_token as digest

    token = sys.stdin.readline().rstrip("\r\n")
    if not token:
        _fail(
            "invalid input",
            'no token on stdin (e.g. printf %s "$TOKEN" | conveyor auth hash-token)',
            exit_code=2,
        )
    click.echo(digest(token))
