"""Who may use the console: the same tokens as gRPC, and the ``admin`` grant.

``caller`` finds the principal, taking the server's ``Authority`` or None. Without an auth file
the console is open, as the gRPC API is. With one, every ``/api/`` call carries
``Authorization: Bearer TOKEN`` (the page keeps the token in ``sessionStorage``) and needs
``admin`` on each queue it names (``check``). The calls that show the server as a whole (who
am I, the server's state, the overview's list of queues) need ``admin`` on some queue
(``check_somewhere``) and list only the queues the principal may administer (``visible``), so
an operator of ``orders*`` sees those queues; other calls that name no queue (a send routed by
topic) need ``admin`` on every queue (``broker.auth.ANY_QUEUE``).
Tokens never reach a log line or an error message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiohttp import web

from broker.auth import Authority, Principal

log = logging.getLogger(__name__)

_BEARER = "bearer "


class Refused(Exception):
    """The caller is not let in: ``status`` is 401 (no or unknown token) or 403 (no grant)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def caller(authority: Authority | None, request: web.Request) -> Principal | None:
    """Who sent ``request``: None when the console is open (no auth file); ``Refused`` (401)
    without a known bearer token."""
    if authority is None:
        return None
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith(_BEARER) or not header[len(_BEARER) :].strip():
        raise Refused(401, "sign in: this server needs a bearer token with the admin grant")
    principal = authority.authenticate(header[len(_BEARER) :].strip())
    if principal is None:
        raise Refused(401, "the token is not known to this server")
    return principal


def check(principal: Principal | None, request: web.Request, queues: Iterable[str]) -> None:
    """``Refused`` (403) unless ``principal`` (None: open console) may ``admin`` each queue."""
    if principal is None:
        return
    for queue in queues:
        if not principal.allows("admin", queue):
            log.warning("console: %s may not admin %r (%s)", principal.name, queue, request.path)
            raise Refused(403, f"principal {principal.name!r} may not admin on queue {queue!r}")


def check_somewhere(principal: Principal | None, request: web.Request) -> None:
    """``Refused`` (403) unless ``principal`` (None: open console) may ``admin`` some queue."""
    if principal is None or principal.may_somewhere("admin"):
        return
    log.warning("console: %s may not admin any queue (%s)", principal.name, request.path)
    raise Refused(403, f"principal {principal.name!r} may not admin any queue")


def visible(principal: Principal | None, queue: str) -> bool:
    """Whether ``queue`` is shown to ``principal`` (None: open console, every queue)."""
    return principal is None or principal.allows("admin", queue)
