"""Who is calling and may they: a server interceptor over ``broker.auth``'s principals.

Each Broker and Admin call must come from a principal: a bearer token in the
``authorization: Bearer TOKEN`` metadata, or, with no token, the subject of the client
certificate of an mTLS connection. Neither: ``UNAUTHENTICATED``. Then every request of the call
is checked against the principal's grants before the servicer sees it; a refusal is
``PERMISSION_DENIED`` naming the action and the queue. Health and reflection stay open.

What each call needs (``RULES``):

- ``Send``/``SendStream``: ``send`` on the request's queue; when the queue is empty and each
  message is routed by its topic through the bindings, ``send`` on each message's topic: the
  grant's queue patterns are matched against the topic. Where a topic leads is the admins'
  choice (bindings), so the sender is judged by what it names, which is also what it can know.
- ``Receive``/``StreamingReceive``/``Pull``: ``receive`` on the queue; ``Ack``/``Nack``/
  ``ModifyLease`` and the settlements on a StreamingReceive: ``receive`` on the queue each ack
  id belongs to (the ack id names it, ``broker.store.ids``).
- ``GetMessageStatus``/``WatchMessage``: ``send`` or ``receive`` on the queue;
  ``CancelMessage``: ``send``.
- Admin calls: ``admin`` on the queue they name (both queues of a redrive; a redrive back to
  the source queues also needs ``admin`` on every queue whose dead-letter queue it is, which
  the servicer checks with ``denied``).
- Listings naming no queue (``ListQueues``, ``ListQueueStats``, ``ListBindings`` with an empty
  queue): ``admin`` on some queue, whatever the pattern; the servicer then shows only the
  queues (stats, bindings into the queues) the principal's ``admin`` grants match
  (``shown``), so a listing shows what its caller may see instead of failing. A name prefix
  only narrows it further: never refused, possibly empty. Other calls naming no queue (a
  ``GetQueue`` without a name) need ``admin`` on every queue (pattern ``*``).

Tokens never reach a log line or a status message; refusals are logged at WARNING with the
principal's name, the method and the queue.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any

import grpc

from broker.auth import ANY_QUEUE, Authority, Principal

log = logging.getLogger(__name__)

Ctx = grpc.aio.ServicerContext[Any, Any]
Rule = Callable[[Principal, Any], "str | None"]
"""Checks one request for a principal: None when allowed, else why not."""

_WRAPPED_LIMIT = 4096
_BEARER = "bearer "
_SHOWN = 200
"""Longest queue name quoted in a refusal (names come from the caller and may be huge)."""


_caller: ContextVar[Principal | None] = ContextVar("conveyor_caller", default=None)
"""The principal of the call being served, set by the interceptor once its rule passed; each
call runs in its own task, so it is that call's. None when no auth file is in force (no
interceptor)."""


def shown(queue: str) -> bool:
    """Whether a listing served now may show ``queue`` (its stats, its bindings): the
    caller's ``admin`` grants match it, or there is no auth file."""
    return denied("admin", queue) is None


def checked() -> bool:
    """Whether the call being served is checked against an auth file."""
    return _caller.get() is not None


def denied(action: str, queue: str) -> str | None:
    """Why the call being served may not ``action`` on ``queue``, for checks that need what
    the request alone does not say (a redrive's source queues); None when it may, or when
    no auth file is in force."""
    principal = _caller.get()
    if principal is None or principal.covers(action, queue):
        return None
    return _denial(principal, action, queue)


def _denial(principal: Principal, action: str, queue: str) -> str:
    quoted = queue if len(queue) <= _SHOWN else queue[:_SHOWN] + "..."
    return f"principal {principal.name!r} may not {action} on queue {quoted!r}"


def _on(action: str, queue: Callable[[Any], str]) -> Rule:
    def rule(principal: Principal, request: Any) -> str | None:
        q = queue(request)
        return None if principal.allows(action, q) else _denial(principal, action, q)

    return rule


def _admin(*fields: str) -> Rule:
    """``admin`` on each named field that is set; on every queue when none is."""

    def rule(principal: Principal, request: Any) -> str | None:
        queues = [q for q in (_field(request, f) for f in fields) if q] or [ANY_QUEUE]
        for q in queues:
            if not principal.allows("admin", q):
                return _denial(principal, "admin", q)
        return None

    return rule


def _listing(*fields: str) -> Rule:
    """``admin`` on each named field that is set; when none is, ``admin`` on some queue, and
    the servicer filters the answer with ``shown``."""
    named = _admin(*fields)

    def rule(principal: Principal, request: Any) -> str | None:
        if any(_field(request, f) for f in fields):
            return named(principal, request)
        if principal.may_somewhere("admin"):
            return None
        return f"principal {principal.name!r} may not admin on any queue"

    return rule


def _field(request: Any, path: str) -> str:
    for part in path.split("."):
        request = getattr(request, part)
    return str(request)


def _ack_queues(ack_ids: Sequence[str]) -> set[str]:
    # An ack id is "{queue}:{seq}:{copy}:{token}" and queue names hold no ":"; anything
    # shorter is no ack id, which the store reports back as failed without touching a queue.
    # Acks come in batches of one queue's. The strings sharing a prefix are an interval of the
    # lexicographic order, so when the least and the greatest id both start with "{queue}:",
    # every id does: C-speed passes (list, min, max) instead of a Python loop over the ids.
    ids = list(ack_ids)  # strings made once from the protobuf container, not per pass
    if not ids:
        return set()
    lo, hi = min(ids), max(ids)
    if lo.count(":") >= 3:
        queue = lo.rsplit(":", 3)[0]
        if hi.startswith(queue + ":"):
            return {queue}
    return _slow_ack_queues(ids)


def _slow_ack_queues(ack_ids: Iterable[str]) -> set[str]:
    return {a.rsplit(":", 3)[0] for a in ack_ids if a.count(":") >= 3}


def _settling(principal: Principal, ack_ids: Sequence[str]) -> str | None:
    for q in _ack_queues(ack_ids):
        if not principal.allows("receive", q):
            return _denial(principal, "receive", q)
    return None


def _send(principal: Principal, request: Any) -> str | None:
    r = request.message  # WithBytes: Send and SendStream keep the bytes
    if r.queue:
        return None if principal.allows("send", r.queue) else _denial(principal, "send", r.queue)
    for topic in {m.topic for m in r.messages}:
        if not principal.allows("send", topic):
            return _denial(principal, "send", topic)
    return None


def _streaming_receive(principal: Principal, request: Any) -> str | None:
    if request.queue and not principal.allows("receive", request.queue):
        return _denial(principal, "receive", request.queue)
    if request.ack_ids or request.nack_ids or request.modify_leases:
        return _settling(
            principal,
            [*request.ack_ids, *request.nack_ids, *(m.ack_id for m in request.modify_leases)],
        )
    return None


def _follow(principal: Principal, request: Any) -> str | None:
    q = request.queue
    if principal.allows("send", q) or principal.allows("receive", q):
        return None
    return _denial(principal, "send or receive", q)


def _queue(r: Any) -> str:
    return str(r.queue)


_B = "/conveyor.v1.Broker/"
_A = "/conveyor.v1.Admin/"
GUARDED = (_B, _A)
"""Services whose every method needs a rule; the others (health, reflection) stay open."""
RULES: dict[str, Rule] = {
    _B + "Send": _send,
    _B + "SendStream": _send,
    _B + "Receive": _on("receive", _queue),
    _B + "StreamingReceive": _streaming_receive,
    _B + "Pull": _on("receive", _queue),
    _B + "Ack": lambda p, r: _settling(p, r.ack_ids),
    _B + "Nack": lambda p, r: _settling(p, r.ack_ids),
    _B + "ModifyLease": lambda p, r: _settling(p, r.ack_ids),
    _B + "GetMessageStatus": _follow,
    _B + "WatchMessage": _follow,
    _B + "CancelMessage": _on("send", _queue),
    _A + "CreateQueue": _admin("queue.name"),
    _A + "GetQueue": _admin("queue"),
    _A + "ListQueues": _listing(),
    _A + "UpdateQueue": _admin("queue.name"),
    _A + "DeleteQueue": _admin("queue"),
    _A + "PurgeQueue": _admin("queue"),
    _A + "CreateBinding": _admin("queue"),
    _A + "DeleteBinding": _admin("queue"),
    _A + "ListBindings": _listing("queue"),
    _A + "ListSubscriptions": _admin("queue"),
    _A + "DeleteSubscription": _admin("queue"),
    _A + "GetQueueStats": _admin("queue"),
    _A + "PeekMessages": _admin("queue"),
    _A + "ListDeadLetters": _admin("queue"),
    _A + "RedriveDeadLetters": _admin("queue", "destination"),
    _A + "PauseQueue": _admin("queue"),
    _A + "ResumeQueue": _admin("queue"),
    _A + "ListQueueStats": _listing(),
    _A + "SeekSubscription": _admin("queue"),
}


def _bearer(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == "authorization":
            text = value if isinstance(value, str) else value.decode("latin-1")
            return text[len(_BEARER) :] if text[: len(_BEARER)].lower() == _BEARER else ""
    return None


def _subject(context: Ctx) -> str | None:
    values = list(context.auth_context().get("x509_subject", ()))
    return values[0].decode() if values else None


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Authenticates each Broker and Admin call and checks its requests against the grants."""

    def __init__(self, authority: Authority, rules: dict[str, Rule] | None = None) -> None:
        self.rules = RULES if rules is None else rules
        self._wrapped: dict[tuple[str, Principal | None], tuple[Any, Any]] = {}
        """(method, principal) -> (the servicer's handler, its checking wrapper): calls
        repeat, so the wrapper is built once per principal and method, not per call."""
        self.authority = authority

    @property
    def authority(self) -> Authority:
        return self._authority

    @authority.setter
    def authority(self, authority: Authority) -> None:
        self._authority = authority
        self._wrapped = {}

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        rule = self.rules.get(method)
        if handler is None or (rule is None and not method.startswith(GUARDED)):
            return handler  # health, reflection, or a method nobody serves
        if rule is None:  # a new RPC nobody wrote a rule for stays shut until someone does
            log.error("auth: %s refused: no permission rule for it", method)
            return _refusing(
                handler, grpc.StatusCode.PERMISSION_DENIED, f"no permission rule for {method}"
            )
        token = _bearer(handler_call_details.invocation_metadata)
        principal: Principal | None = None
        if token is not None:
            principal = self.authority.authenticate(token)
            if principal is None:
                log.warning("auth: %s refused: unknown bearer token", method)
                return _refusing(handler, grpc.StatusCode.UNAUTHENTICATED, "unknown token")
        key = (method, principal)
        cached = self._wrapped.get(key)
        if cached is not None and cached[0] is handler:
            return cached[1]  # type: ignore[no-any-return]
        wrapped = _checking(handler, method, rule, self._principal_of(principal, method))
        if len(self._wrapped) >= _WRAPPED_LIMIT:
            self._wrapped.clear()
        self._wrapped[key] = (handler, wrapped)
        return wrapped

    def _principal_of(
        self, principal: Principal | None, method: str
    ) -> Callable[[Ctx], Awaitable[Principal]]:
        async def known(context: Ctx) -> Principal:
            return principal  # type: ignore[return-value]

        async def from_certificate(context: Ctx) -> Principal:
            subject = _subject(context)
            found = self.authority.by_subject(subject) if subject else None
            if found is None:
                log.warning(
                    "auth: %s refused: no bearer token%s",
                    method,
                    f", and client certificate {subject!r} is nobody's" if subject else "",
                )
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "missing authorization metadata (Bearer TOKEN)"
                    + (" and the client certificate names no principal" if subject else ""),
                )
            assert found is not None  # abort raised otherwise
            return found

        return known if principal is not None else from_certificate


def _refusing(handler: Any, code: grpc.StatusCode, details: str) -> grpc.RpcMethodHandler[Any, Any]:
    async def refuse(request: Any, context: Ctx) -> Any:
        await context.abort(code, details)

    async def refuse_stream(request: Any, context: Ctx) -> AsyncIterator[Any]:
        await context.abort(code, details)
        yield None  # pragma: no cover - abort raises

    if handler.response_streaming:
        kind = "stream_stream" if handler.request_streaming else "unary_stream"
        return handler._replace(**{kind: refuse_stream})  # type: ignore[no-any-return]
    kind = "stream_unary" if handler.request_streaming else "unary_unary"
    return handler._replace(**{kind: refuse})  # type: ignore[no-any-return]


def _checking(
    handler: Any,
    method: str,
    rule: Rule,
    principal_of: Callable[[Ctx], Awaitable[Principal]],
) -> grpc.RpcMethodHandler[Any, Any]:
    async def check(principal: Principal, request: Any, context: Ctx) -> None:
        why = rule(principal, request)
        if why is not None:
            log.warning("auth: %s refused: %s", method, why)
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, why)
        _caller.set(principal)

    async def checked(
        requests: AsyncIterator[Any], principal: Principal, context: Ctx
    ) -> AsyncIterator[Any]:
        async for request in requests:
            await check(principal, request, context)
            yield request

    if handler.request_streaming and handler.response_streaming:
        inner_ss = handler.stream_stream

        async def stream_stream(requests: AsyncIterator[Any], context: Ctx) -> AsyncIterator[Any]:
            principal = await principal_of(context)
            async for response in inner_ss(checked(requests, principal, context), context):
                yield response

        return handler._replace(stream_stream=stream_stream)  # type: ignore[no-any-return]
    if handler.response_streaming:
        inner_us = handler.unary_stream

        async def unary_stream(request: Any, context: Ctx) -> AsyncIterator[Any]:
            await check(await principal_of(context), request, context)
            async for response in inner_us(request, context):
                yield response

        return handler._replace(unary_stream=unary_stream)  # type: ignore[no-any-return]
    if handler.request_streaming:
        inner_su = handler.stream_unary

        async def stream_unary(requests: AsyncIterator[Any], context: Ctx) -> Any:
            principal = await principal_of(context)
            return await inner_su(checked(requests, principal, context), context)

        return handler._replace(stream_unary=stream_unary)  # type: ignore[no-any-return]
    inner_uu = handler.unary_unary

    async def unary_unary(request: Any, context: Ctx) -> Any:
        await check(await principal_of(context), request, context)
        return await inner_uu(request, context)

    return handler._replace(unary_unary=unary_unary)  # type: ignore[no-any-return]


__all__ = ["RULES", "AuthInterceptor", "checked", "denied", "shown"]
