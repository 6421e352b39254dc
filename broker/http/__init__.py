"""The HTTP listener of ``conveyor serve --http-listen``: one aiohttp app on the gRPC loop.

Off unless the flag is given. It carries what plain HTTP clients need (Prometheus scrapes, the
console, load balancers without gRPC probes); each of those adds its routes through a
``Part`` so this module knows none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import web

Part = Callable[[web.Application], None]
"""Adds routes (and their state) to the app before it starts."""


class HttpListener:
    """Serves the parts on ``HOST:PORT`` until stopped; port 0 picks a free one."""

    def __init__(self, listen: str, parts: Sequence[Part]) -> None:
        self._host, _, port = listen.rpartition(":")
        self._port = int(port)
        self._app = web.Application()
        for part in parts:
            part(self._app)
        self._runner = web.AppRunner(self._app, access_log=None, handle_signals=False)

    async def start(self) -> str:
        """Binds and serves; returns the ``HOST:PORT`` it listens on."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, reuse_port=False)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"{self._host}:{port}"

    async def stop(self) -> None:
        await self._runner.cleanup()


def health_part(serving: Callable[[], bool]) -> Part:
    """``GET /healthz``: 200 while the broker serves, 503 otherwise (starting, stopping, failed
    storage), for load balancers and probes that speak HTTP but not gRPC health."""

    async def healthz(_request: web.Request) -> web.Response:
        if serving():
            return web.Response(text="SERVING\n")
        return web.Response(status=503, text="NOT_SERVING\n")

    def install(app: web.Application) -> None:
        app.router.add_get("/healthz", healthz)

    return install
