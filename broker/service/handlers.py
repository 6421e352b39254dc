"""Registering servicers with gRPC so that handlers may answer with ready-made bytes.

The generated ``add_*Servicer_to_server`` functions serialize every response with
``SerializeToString``. These handlers are built from the same service descriptors, with the
same request parsers, but a response that is already ``bytes`` (a delivery frame assembled
from stored message bytes, ``broker.service.frames``) goes out as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message_factory import GetMessageClass

_FACTORIES: dict[tuple[bool, bool], Callable[..., grpc.RpcMethodHandler[Any, Any]]] = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def _serialize(response: Any) -> bytes:
    if response.__class__ is bytes:
        return response
    return bytes(response.SerializeToString())


class WithBytes:
    """A request as parsed, with the bytes it was parsed from (so they can be kept as sent)."""

    __slots__ = ("message", "raw")

    def __init__(self, raw: bytes, message: Any) -> None:
        self.raw = raw
        self.message = message


def _keeping_bytes(parse: Callable[[bytes], Any]) -> Callable[[bytes], WithBytes]:
    return lambda raw: WithBytes(raw, parse(raw))


Wrap = Callable[[str, str, Callable[..., Any], bool], Callable[..., Any]]
"""``(service, method, behavior, streams responses) -> behavior``: e.g. a span per call."""


def add_servicer(
    servicer: object,
    server: grpc.aio.Server,
    service: ServiceDescriptor,
    keep_bytes: frozenset[str] = frozenset(),
    wrap: Wrap | None = None,
) -> None:
    """Registers ``servicer``; the methods named in ``keep_bytes`` get ``WithBytes``, and
    every method goes through ``wrap`` when given."""
    handlers = {}
    for method in service.methods:
        factory = _FACTORIES[(method.client_streaming, method.server_streaming)]
        parse = GetMessageClass(method.input_type).FromString
        behavior = getattr(servicer, method.name)
        if wrap is not None:
            behavior = wrap(service.full_name, method.name, behavior, method.server_streaming)
        handlers[method.name] = factory(
            behavior,
            request_deserializer=_keeping_bytes(parse) if method.name in keep_bytes else parse,
            response_serializer=_serialize,
        )
    generic = grpc.method_handlers_generic_handler(service.full_name, handlers)
    server.add_generic_rpc_handlers((generic,))
    # As the generated registration does too (grpcio >= 1.63; not in the type stubs).
    server.add_registered_method_handlers(service.full_name, handlers)  # type: ignore[attr-defined]
