"""The console's JSON API under ``/api/``: the Admin service's calls, over HTTP.

Each handler does what the matching Admin or Broker RPC does - the same ``Broker`` facade
verb, the same conversions (``broker.service.convert``: an update is the ``UpdateQueue``
fields with their mask, a send is a contract ``Message``) - and answers the contract's
messages as proto JSON (snake_case field names, enums by name, 64-bit numbers as numbers).
A ``BrokerError`` becomes the HTTP status of its kind (``STATUSES``) with the same message the
gRPC call would carry, as ``{"error": message, "code": "NOT_FOUND"}``.

What the Admin service lacks is only shown, never decided, here: the message browser's filter
(peeked messages kept by topic pattern, matched by the broker's own ``PatternTrie``, and by
state), the samples behind the sparklines (``history``), and the server's state (health as
the gate and store say, the log's bytes on disk, the newest snapshot's time for a store that
keeps a log).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import Message as ProtoMessage

from broker import errors
from broker.auth import ANY_QUEUE, Authority, Principal
from broker.console.access import Refused, caller, check, check_somewhere, visible
from broker.console.history import History
from broker.delivery.broker import Broker
from broker.model import MessageState
from broker.routing.trie import PatternTrie
from broker.service import convert, frames
from broker.service.broker_servicer import Gate
from broker.service.status import code_of
from broker.store.base import MessageStatus, Peeked, Store
from broker.wal.snapshot import list_snapshots
from conveyor.v1 import admin_pb2, broker_pb2, types_pb2

STATUSES: dict[type[errors.BrokerError], int] = {
    errors.InvalidArgument: 400,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.FailedPrecondition: 412,
    errors.ResourceExhausted: 429,
    errors.Unavailable: 503,
    errors.DeadlineExceeded: 504,
    errors.Unimplemented: 501,
}
"""HTTP status of each core error, the HTTP reading of ``broker.service.status.CODES``."""

_BY_CODE = {code_of(cls("")).value[0]: status for cls, status in STATUSES.items()}
"""HTTP status by gRPC code number, for the per-message errors of a send."""

PEEK_STATES = ("all", "ready", "delayed", "in_flight")
"""The browser's state filter: pending messages split by whether they are due yet."""

JSON = "application/json"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Every other call must say it sends JSON: a browser cannot send that type to another origin
without asking it first (a CORS preflight, which this server never grants), so no other site's
page can drive an open console by posting a form."""

HEARTBEAT_S = 15.0
"""Seconds between keep-alive comments on a watch stream: proxies keep it open, and a write
to a browser that left ends the watch."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PRINCIPAL = "conveyor.principal"
"""Where the guard leaves the caller on the request (None: an open console)."""


def http_status(exc: errors.BrokerError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUSES:
            return STATUSES[cls]
    return 500


def to_json(message: ProtoMessage) -> dict[str, Any]:
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )


def _parse(value: Any, message: ProtoMessage, what: str) -> Any:
    """A JSON value as a contract message; a value that does not fit is a 400."""
    if not isinstance(value, dict):
        raise errors.InvalidArgument(f"{what} must be a JSON object")
    try:
        return json_format.ParseDict(value, message)
    except json_format.ParseError as exc:
        raise errors.InvalidArgument(f"{what}: {exc}") from None


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise errors.InvalidArgument("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise errors.InvalidArgument("the request body must be a JSON object")
    return body


def _int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise errors.InvalidArgument(f"{name} must be a whole number, got {raw[:32]!r}") from None


class Api:
    """The ``/api/`` handlers over one broker; ``authority()`` None means an open console."""

    def __init__(
        self,
        broker: Broker,
        gate: Gate,
        store: Store,
        authority: Callable[[], Authority | None],
    ) -> None:
        self.broker = broker
        self.gate = gate
        self.store = store
        self.authority = authority
        self.started = time.time()
        self._streams: set[asyncio.Task[None]] = set()
        self.history = History()

    def routes(self) -> list[web.RouteDef]:
        g = self._guard
        return [
            web.get("/api/whoami", g(self.whoami, somewhere=True)),
            web.get("/api/server", g(self.server, somewhere=True)),
            web.get("/api/queues", g(self.list_queues, somewhere=True)),
            web.post("/api/queues", g(self.create_queue, body_queue="name")),
            web.get("/api/queues/{queue}", g(self.get_queue)),
            web.patch("/api/queues/{queue}", g(self.update_queue)),
            web.delete("/api/queues/{queue}", g(self.delete_queue)),
            web.post("/api/queues/{queue}/purge", g(self.purge_queue)),
            web.post("/api/queues/{queue}/pause", g(self.pause_queue)),
            web.post("/api/queues/{queue}/resume", g(self.resume_queue)),
            web.post("/api/queues/{queue}/bindings", g(self.create_binding)),
            web.delete("/api/queues/{queue}/bindings", g(self.delete_binding)),
            web.delete(
                "/api/queues/{queue}/subscriptions/{subscription}", g(self.delete_subscription)
            ),
            web.get("/api/queues/{queue}/messages", g(self.peek)),
            web.get("/api/queues/{queue}/messages/{id}", g(self.message_status)),
            web.get("/api/queues/{queue}/messages/{id}/watch", g(self.watch)),
            web.post("/api/queues/{queue}/messages/{id}/cancel", g(self.cancel)),
            web.get("/api/queues/{queue}/dead-letters", g(self.dead_letters)),
            web.post("/api/queues/{queue}/redrive", g(self.redrive, body_queue="destination")),
            web.post("/api/send", g(self.send, body_queue="queue")),
        ]

    def _guard(self, handler: Handler, *, body_queue: str = "", somewhere: bool = False) -> Handler:
        """Checks the caller (admin on the path's queue, and on the body's ``body_queue``
        field where one is named; with ``somewhere``, admin on some queue, the handler showing
        only what it covers), keeps it as ``request[PRINCIPAL]``, and turns errors into JSON
        answers."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            if request.method not in SAFE_METHODS and request.content_type != JSON:
                return web.json_response(
                    {"error": f"send the request as {JSON}", "code": "INVALID_ARGUMENT"},
                    status=415,
                )
            try:
                principal = caller(self.authority(), request)
                queues = [request.match_info["queue"]] if "queue" in request.match_info else []
                if body_queue and principal is not None:
                    queues.append(_named(await _body(request), body_queue))
                if somewhere:
                    check_somewhere(principal, request)
                else:
                    check(principal, request, [q for q in queues if q] or [ANY_QUEUE])
                request[PRINCIPAL] = principal
                return await handler(request)
            except Refused as exc:
                return web.json_response(
                    {
                        "error": str(exc),
                        "code": "UNAUTHENTICATED" if exc.status == 401 else "PERMISSION_DENIED",
                    },
                    status=exc.status,
                )
            except errors.BrokerError as exc:
                return web.json_response(
                    {"error": str(exc), "code": code_of(exc).name}, status=http_status(exc)
                )

        return guarded

    # -- the server ------------------------------------------------------------------------

    async def whoami(self, request: web.Request) -> web.Response:
        principal: Principal | None = request[PRINCIPAL]
        return web.json_response(
            {"principal": principal.name if principal else "", "auth": principal is not None}
        )

    async def server(self, _request: web.Request) -> web.Response:
        serving = self.gate.open and not self.store.failed
        info: dict[str, Any] = {
            "health": "SERVING" if serving else "NOT_SERVING",
            "started": self.started,
            "uptime_s": time.time() - self.started,
            "storage": "memory",
        }
        wal_dir = getattr(self.store, "wal_dir", None)  # only a store with a log has one
        if isinstance(wal_dir, Path):
            info.update(await asyncio.to_thread(_wal_state, wal_dir))
        return web.json_response(info)

    # -- queues ----------------------------------------------------------------------------

    async def list_queues(self, request: web.Request) -> web.Response:
        """Each queue's configuration and ``ListQueueStats`` entry, with its samples: every
        queue the caller may administer (all of them on an open console)."""
        principal: Principal | None = request[PRINCIPAL]
        prefix = request.query.get("prefix", "")
        configs = {c.name: c for c in await self.broker.list_queues(prefix)}
        now = time.time()
        rows = []
        for found in await self.broker.list_stats(prefix):
            config = configs.get(found.queue)
            if config is None or not visible(principal, found.queue):
                continue  # not the caller's, or created between the two reads (next poll)
            stats = to_json(convert.stats(found))
            rows.append(
                {
                    "queue": to_json(convert.queue(config)),
                    "stats": stats,
                    "history": self.history.record(now, found.queue, stats),
                }
            )
        if not prefix:
            self.history.keep_only(configs)
        return web.json_response({"queues": rows, "time": now})

    async def create_queue(self, request: web.Request) -> web.Response:
        self.gate.check()
        queue = _parse(await _body(request), types_pb2.Queue(), "queue")
        if not queue.name:
            raise errors.InvalidArgument("queue.name is required")
        created = await self.broker.create_queue(convert.queue_config(queue))
        return web.json_response({"queue": to_json(convert.queue(created))}, status=201)

    async def get_queue(self, request: web.Request) -> web.Response:
        name = request.match_info["queue"]
        config = await self.broker.get_queue(name)
        stats = to_json(convert.stats(await self.broker.stats(name)))
        now = time.time()
        bindings = await self.broker.list_bindings(name)
        subs = await self.broker.list_subscriptions(name)
        return web.json_response(
            {
                "queue": to_json(convert.queue(config)),
                "stats": stats,
                "history": self.history.record(now, name, stats),
                "bindings": [to_json(types_pb2.Binding(pattern=p, queue=q)) for p, q in bindings],
                "subscriptions": [to_json(convert.subscription(i, n)) for i, n in subs],
                "time": now,
            }
        )

    async def update_queue(self, request: web.Request) -> web.Response:
        """The body is ``UpdateQueueRequest``'s: ``{"queue": {...}, "update_mask": [...]}``
        (no mask: every field, as with gRPC)."""
        self.gate.check()
        body = await _body(request)
        queue = _parse(body.get("queue", {}), types_pb2.Queue(), "queue")
        queue.name = request.match_info["queue"]
        mask = body.get("update_mask") or None
        if mask is not None and (
            not isinstance(mask, list) or not all(isinstance(p, str) for p in mask)
        ):
            raise errors.InvalidArgument("update_mask must be a list of field names")
        changes = convert.queue_changes(queue, mask)
        updated = await self.broker.update_queue(queue.name, changes)
        return web.json_response({"queue": to_json(convert.queue(updated))})

    async def delete_queue(self, request: web.Request) -> web.Response:
        count = await self.broker.delete_queue(request.match_info["queue"])
        return web.json_response({"messages_deleted": count})

    async def purge_queue(self, request: web.Request) -> web.Response:
        count = await self.broker.purge_queue(request.match_info["queue"])
        return web.json_response({"purged": count})

    async def pause_queue(self, request: web.Request) -> web.Response:
        self.gate.check()
        return web.json_response({"changed": await self.broker.pause(request.match_info["queue"])})

    async def resume_queue(self, request: web.Request) -> web.Response:
        self.gate.check()
        changed = await self.broker.resume(request.match_info["queue"])
        return web.json_response({"changed": changed})

    async def create_binding(self, request: web.Request) -> web.Response:
        pattern = (await _body(request)).get("pattern", "")
        queue = request.match_info["queue"]
        await self.broker.create_binding(str(pattern), queue)
        return web.json_response(
            {"binding": to_json(types_pb2.Binding(pattern=pattern, queue=queue))}, status=201
        )

    async def delete_binding(self, request: web.Request) -> web.Response:
        await self.broker.delete_binding(
            request.query.get("pattern", ""), request.match_info["queue"]
        )
        return web.json_response({})

    async def delete_subscription(self, request: web.Request) -> web.Response:
        await self.broker.delete_subscription(
            request.match_info["queue"], request.match_info["subscription"]
        )
        return web.json_response({})

    # -- messages --------------------------------------------------------------------------

    async def peek(self, request: web.Request) -> web.Response:
        """``PeekMessages`` (never changes a message), kept by ``?topic=PATTERN`` and
        ``?state=`` (one of ``PEEK_STATES``); a filtered look reads up to ``convert.MAX_LISTED``."""
        name = request.match_info["queue"]
        limit = convert.listed_count(_int_param(request, "max_messages", 0), 50)
        state = request.query.get("state", "all") or "all"
        if state not in PEEK_STATES:
            raise errors.InvalidArgument(f"state {state[:32]!r}: expected one of {PEEK_STATES}")
        pattern = request.query.get("topic", "")
        matcher: PatternTrie[bool] | None = None
        if pattern:
            matcher = PatternTrie()
            matcher.insert(pattern, True)
        filtered = matcher is not None or state != "all"
        found = await self.broker.peek(name, convert.MAX_LISTED if filtered else limit)
        shown = []
        for p in found:
            if state != "all" and _state_of(p) != state:
                continue
            out = convert.peeked(p)
            if matcher is not None and not matcher.match(out.message.topic):
                continue
            shown.append({**to_json(out), "view": _state_of(p)})
            if len(shown) >= limit:
                break
        return web.json_response({"messages": shown, "scanned": len(found)})

    async def message_status(self, request: web.Request) -> web.Response:
        status = await self.broker.status(request.match_info["queue"], request.match_info["id"])
        return web.json_response({"status": to_json(convert.status(status))})

    async def watch(self, request: web.Request) -> web.StreamResponse:
        """``WatchMessage`` as server-sent events: one ``status`` event per change, then
        ``end`` once the message is settled; an error is one ``problem`` event. A comment line
        every ``HEARTBEAT_S`` finds browsers that left, so their watches end."""
        updates = self.broker.watch(request.match_info["queue"], request.match_info["id"])
        try:
            first = await anext(updates)
        except BaseException:
            await updates.aclose()
            raise
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        pump = asyncio.create_task(_pump(response, first, updates), name="console-watch")
        self._streams.add(pump)
        try:
            while not (await asyncio.wait([pump], timeout=HEARTBEAT_S))[0]:
                await response.write(b": watching\n\n")
        except ConnectionError:
            pass  # the browser went away
        finally:
            self._streams.discard(pump)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await pump
        return response

    async def close_streams(self, _app: web.Application) -> None:
        """Ends the open watch streams (the listener is stopping)."""
        for pump in list(self._streams):
            pump.cancel()

    async def cancel(self, request: web.Request) -> web.Response:
        status = await self.broker.cancel(request.match_info["queue"], request.match_info["id"])
        return web.json_response({"status": to_json(convert.status(status))})

    async def dead_letters(self, request: web.Request) -> web.Response:
        """``ListDeadLetters``; ``?reason=`` (a ``DeadLetterReason`` name), ``?source_queue=``
        and ``?source_subscription=`` filter as its request fields do."""
        fields = {
            k: request.query[k]
            for k in ("reason", "source_queue", "source_subscription")
            if request.query.get(k)
        }
        req = _parse(fields, admin_pb2.ListDeadLettersRequest(), "dead-letter filter")
        found = await self.broker.dead_letters(
            request.match_info["queue"],
            convert.listed_count(_int_param(request, "max_messages", 0), 100),
            convert.dead_letter_filter(req),
        )
        return web.json_response({"messages": [to_json(convert.message(d)) for d in found]})

    async def redrive(self, request: web.Request) -> web.Response:
        """``RedriveDeadLetters``: ``{"destination": "" (each one's source), "max_messages":
        0 (all), "reset_attempts": false, "message_ids": [] (the oldest first)}``."""
        req = _parse(await _body(request), admin_pb2.RedriveDeadLettersRequest(), "redrive")
        moved, skipped = await self.broker.redrive(
            request.match_info["queue"],
            req.destination,
            req.max_messages,
            reset_attempts=req.reset_attempts,
            message_ids=list(req.message_ids),
        )
        return web.json_response({"redriven": moved, "skipped": skipped})

    async def send(self, request: web.Request) -> web.Response:
        """``Send`` of one message: ``{"queue": "" (route by topic), "message": {...}}`` with
        the contract's ``Message`` fields (``payload`` base64, as proto JSON has it)."""
        self.gate.check()
        body = await _body(request)
        req = _parse(
            {"queue": body.get("queue", ""), "messages": [body.get("message", {})]},
            broker_pb2.SendRequest(),
            "send",
        )
        results: list[Any]
        try:
            batch = [convert.message_input(m) for m in req.messages]
        except errors.BrokerError as exc:
            results = [exc]
        else:
            results = list(await self.broker.send(req.queue, batch))
        answer = broker_pb2.SendResponse.FromString(frames.send_results(req.queue, results))
        out = to_json(answer)
        for result in out["results"]:
            if result.get("error") and "code" in result["error"]:
                code = result["error"]["code"]
                result["error"]["status"] = _BY_CODE.get(code, 500)
        return web.json_response(out)


def _named(body: dict[str, Any], field: str) -> str:
    """The queue a body names in ``field``; a send routed by topic is judged by its topic, as
    the gRPC access rules judge it."""
    named = body.get(field)
    if field == "queue" and not named and isinstance(body.get("message"), dict):
        named = body["message"].get("topic")
    return named if isinstance(named, str) else ""


def _state_of(p: Peeked) -> str:
    if p.state is MessageState.IN_FLIGHT:
        return "in_flight"
    return "delayed" if p.due_in_s > 0 else "ready"


async def _pump(
    response: web.StreamResponse, first: MessageStatus, updates: AsyncGenerator[MessageStatus, None]
) -> None:
    try:
        await _event(response, "status", to_json(convert.status(first)))
        async for status in updates:
            await _event(response, "status", to_json(convert.status(status)))
        await _event(response, "end", {})
    except errors.BrokerError as exc:
        await _event(response, "problem", {"error": str(exc), "code": code_of(exc).name})
    finally:
        await updates.aclose()


async def _event(response: web.StreamResponse, name: str, data: dict[str, Any]) -> None:
    await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())


def _wal_state(wal_dir: Path) -> dict[str, Any]:
    """Bytes on disk under the log's folder (segments and snapshot) and when the newest
    snapshot (the last checkpoint) was written."""
    size = 0
    segments = 0
    files: Iterable[Path] = wal_dir.iterdir() if wal_dir.is_dir() else ()
    for path in files:
        with contextlib.suppress(OSError):
            size += path.stat().st_size
            segments += path.suffix != ".snap"
    last: float | None = None
    snaps = list_snapshots(wal_dir)
    if snaps:
        with contextlib.suppress(OSError):
            last = snaps[-1][1].stat().st_mtime
    return {"storage": "wal", "wal_bytes": size, "wal_files": segments, "last_checkpoint": last}
