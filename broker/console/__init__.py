"""The web console of ``conveyor serve --http-listen``: pages at ``/``, their JSON at ``/api/``.

The pages are static files shipped in this package (``static/``: plain ES modules, one
stylesheet, hand-drawn SVG charts), so nothing is built and nothing is fetched from elsewhere:
the content security policy allows this origin only. ``api`` holds the JSON API, ``access``
the token check. The console is one ``Part`` of the HTTP listener, made from the broker by
``serve()``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from broker.auth import Authority
from broker.console.api import Api
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


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if request.path == "/" or request.path.startswith(("/console/", "/api/")):
        response.headers.update(SECURITY_HEADERS)
        # The API is never cached; the pages are checked each time (an upgrade shows at once).
        no_cache = "no-store" if request.path.startswith("/api/") else "no-cache"
        response.headers.setdefault("Cache-Control", no_cache)
    return response


def console_part(
    broker: Broker,
    gate: Gate,
    store: Store,
    authority: Callable[[], Authority | None] = lambda: None,
) -> Part:
    """The console's routes. ``authority`` gives the auth file's principals in force (they
    change when the file is reloaded), or None (no auth file) for an open console."""
    api = Api(broker, gate, store, authority)

    async def index(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    def install(app: web.Application) -> None:
        app.middlewares.append(_headers)
        app.on_shutdown.append(api.close_streams)
        app.router.add_get("/", index)
        app.router.add_routes(api.routes())
        app.router.add_static("/console/", STATIC, append_version=False)

    return install
