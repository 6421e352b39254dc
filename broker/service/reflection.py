"""Server reflection under both names clients use, with method symbols resolved.

grpcio-reflection serves only ``grpc.reflection.v1alpha``; grpcurl, ghz, Postman and the Go,
Java and Node reflection clients try ``grpc.reflection.v1`` first, and some of them never fall
back. The two versions are the same messages under another package name (so the same bytes on
the wire): the v1 service here reuses the v1alpha servicer and message classes, and registers a
renamed copy of the v1alpha file descriptor so that ``describe grpc.reflection.v1...`` works too.

Python's descriptor pool (upb) cannot find a method by its full name (upstream grpc/grpc#34743),
so ``file_containing_symbol("conveyor.v1.Broker.Send")`` answered NOT_FOUND and both
``grpcurl describe conveyor.v1.Broker.Send`` and ``ghz`` failed. A method name is resolved here
through its service.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2 as v1alpha_pb2
from grpc_reflection.v1alpha import reflection_pb2_grpc as v1alpha_grpc
from grpc_reflection.v1alpha._async import ReflectionServicer

V1ALPHA_SERVICE = v1alpha_pb2.DESCRIPTOR.services_by_name["ServerReflection"].full_name
V1_PACKAGE = "grpc.reflection.v1"
V1_FILE = "grpc/reflection/v1/reflection.proto"
V1_SERVICE = f"{V1_PACKAGE}.ServerReflection"


class _MethodAwareServicer(ReflectionServicer):  # type: ignore[misc]
    """The v1alpha servicer, able to find the file of ``package.Service.Method``."""

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        pool = self._pool
        try:
            pool.FindFileContainingSymbol(fully_qualified_name)
        except KeyError:
            service_name, _, method = fully_qualified_name.rpartition(".")
            try:
                service = pool.FindServiceByName(service_name)
            except KeyError:
                service = None
            if service is not None and method in service.methods_by_name:
                fully_qualified_name = service.full_name
        return super()._file_containing_symbol(request, fully_qualified_name)


def _register_v1_descriptor(pool: descriptor_pool.DescriptorPool) -> None:
    """Adds ``grpc/reflection/v1/reflection.proto`` to ``pool``, renamed from v1alpha."""
    try:
        pool.FindFileByName(V1_FILE)
        return  # another library registered it already
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    v1alpha_pb2.DESCRIPTOR.CopyToProto(proto)
    old_prefix = f".{proto.package}."
    proto.name, proto.package = V1_FILE, V1_PACKAGE
    proto.options.Clear()
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(old_prefix):
                field.type_name = f".{V1_PACKAGE}.{field.type_name[len(old_prefix) :]}"
    for service in proto.service:
        for method in service.method:
            method.input_type = method.input_type.replace(old_prefix, f".{V1_PACKAGE}.", 1)
            method.output_type = method.output_type.replace(old_prefix, f".{V1_PACKAGE}.", 1)
    pool.AddSerializedFile(proto.SerializeToString())


def enable_reflection(server: grpc.aio.Server, service_names: Iterable[str]) -> None:
    """Serves reflection (v1 and v1alpha) on ``server`` for ``service_names`` and itself."""
    pool = descriptor_pool.Default()
    _register_v1_descriptor(pool)
    names = (*service_names, V1_SERVICE, V1ALPHA_SERVICE)
    servicer = _MethodAwareServicer(names, pool=pool)
    v1alpha_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    v1_handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=v1alpha_pb2.ServerReflectionRequest.FromString,
        response_serializer=v1alpha_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(V1_SERVICE, {"ServerReflectionInfo": v1_handler}),)
    )
