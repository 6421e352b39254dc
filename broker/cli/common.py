"""What the commands share: the global settings, error exits, the SDK client, shared options.

The SDK (``conveyor_client``) is imported inside ``_rpc_errors`` and ``_client``, when a client
command runs, so ``--help`` and ``serve`` never load it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from conveyor_client import Client

DEFAULT_SERVER = "127.0.0.1:50051"
"""Where client commands connect unless ``--server`` or ``CONVEYOR_SERVER`` says otherwise."""


@dataclasses.dataclass(frozen=True)
class _Settings:
    server: str
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    token: str | None = None

    def client_kwargs(self) -> dict[str, Any]:
        """The SDK client's security arguments."""
        return {
            "tls_ca": self.tls_ca,
            "tls_cert": self.tls_cert,
            "tls_key": self.tls_key,
            "token": self.token,
        }


def _fail(code: str, details: str, exit_code: int = 1) -> NoReturn:
    click.echo(f"error: {code}: {details}", err=True)
    raise SystemExit(exit_code)


@contextlib.contextmanager
def _rpc_errors() -> Iterator[None]:
    """Turns the SDK's typed errors into ``error: CODE: details`` and exit status 1."""
    from conveyor_client import ConveyorError

    try:
        yield
    except ConveyorError as exc:
        _fail(exc.code.name, exc.details)


@contextlib.contextmanager
def _client(settings: _Settings) -> Iterator[Client]:
    from conveyor_client import Client

    try:
        client = Client(settings.server, **settings.client_kwargs())
    except (OSError, ValueError) as exc:
        _fail("invalid TLS settings", str(exc), exit_code=2)
    with _rpc_errors(), client:
        yield client


_F = TypeVar("_F", bound=Callable[..., Any])


def _options(*decorators: Callable[[_F], _F]) -> Callable[[_F], _F]:
    """Applies several click decorators as one, in the order listed (shared option groups)."""

    def apply(f: _F) -> _F:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f

    return apply


_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
