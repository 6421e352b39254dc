"""The web console of ``conveyor serve --http-listen``: pages at ``/``, their JSON at ``/api/``.

The pages are static files shipped in this package (``static/``: plain ES modules, one
stylesheet, hand-drawn SVG charts), so nothing is built and nothing is fetched from elsewhere:
the content security policy allows this origin only. ``api`` holds the JSON API, ``access``
the token check, ``hosts`` the ``Host`` check against DNS rebinding. The console is one
``Part`` of the HTTP listener, made from the broker by ``serve()``; its checks apply to its own
paths only, so ``/healthz`` and ``/metrics`` answer probes and scrapers by any name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from broker.auth import Authority
from broker.console.api import Api
from broker.console.hosts import AllowedHosts
from broker.delivery.broker import Broker
from broker.http import Part
from broker.service.broker_servicer import Gate
from broker.store.base import Store

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""Only this origin, for every console answer: the page makes no request elsewhere."""


def _is_console(path: str) -> bool:
    return path == "/" or path.startswith(("/console/", "/api/"))


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if _is_console(request.path):
        response.headers.update(SECURITY_HEADERS)
        # The API is never cached; the pages are checked each time (an upgrade shows at once).
        no_cache = "no-store" if request.path.startswith("/api/") else "no-cache"
        response.headers.setdefault("Cache-Control", no_cache)
    return response


def _host_check(hosts: AllowedHosts) -> Middleware:
    """Refuses console requests naming a host it does not know (``broker.console.hosts``).

    Applied with an auth file too: a console behind a token is not open to a rebound page (its
    token stays in the real origin's ``sessionStorage``), but the sign-in page would still be
    served under the attacker's name, asking for a token; and one rule either way means a
    name missing from the option shows when the console is set up, not when auth is turned
    off."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Host")
        if not _is_console(request.path) or hosts.allows(header):
            return await handler(request)
        message = hosts.refusal(header)
        if request.path.startswith("/api/"):
            return web.json_response({"error": message, "code": "PERMISSION_DENIED"}, status=421)
        return web.Response(status=421, text=message + "\n")

    return check


def console_part(
    broker: Broker,
    gate: Gate,
    store: Store,
    authority: Callable[[], Authority | None] = lambda: None,
    *,
    listen_host: str = "127.0.0.1",
    allowed_hosts: Sequence[str] = (),
) -> Part:
    """The console's routes. ``authority`` gives the auth file's principals in force (they
    change when the file is reloaded), or None (no auth file) for an open console;
    ``listen_host`` (the listener's) and ``allowed_hosts`` are the names it answers to beside
    ``localhost`` and IP addresses."""
    api = Api(broker, gate, store, authority)
    hosts = AllowedHosts(listen_host, allowed_hosts)

    async def index(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    def install(app: web.Application) -> None:
        app.middlewares.append(_host_check(hosts))
        app.middlewares.append(_headers)
        app.on_shutdown.append(api.close_streams)
        app.router.add_get("/", index)
        app.router.add_routes(api.routes())
        app.router.add_static("/console/", STATIC, append_version=False)

    return install
