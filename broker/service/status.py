"""Maps core errors to gRPC status codes; the only place that knows both."""

from __future__ import annotations

import grpc
from google.rpc import status_pb2

from broker import errors

CODES: dict[type[errors.BrokerError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.Unimplemented: grpc.StatusCode.UNIMPLEMENTED,
}


def code_of(exc: errors.BrokerError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in CODES:
            return CODES[cls]
    return grpc.StatusCode.INTERNAL


def to_rpc_status(exc: BaseException) -> status_pb2.Status:
    """For per-message errors inside a batch response (google.rpc.Status); an error that is
    not the broker's is INTERNAL."""
    code = code_of(exc) if isinstance(exc, errors.BrokerError) else grpc.StatusCode.INTERNAL
    return status_pb2.Status(code=code.value[0], message=str(exc))
