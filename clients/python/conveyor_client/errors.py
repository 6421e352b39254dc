"""Typed errors raised by the Conveyor client.

A failed RPC surfaces as a ``ConveyorError`` subclass chosen by its gRPC status code, so callers
catch what they can act on (``except NotFound``) instead of inspecting ``grpc.RpcError``. A
failure of one message inside a Send batch is not raised by ``send``: it comes back in that
message's ``SendResult.error``, and ``error_from_status`` turns it into the same classes.
"""

from __future__ import annotations

import grpc
from google.rpc import status_pb2


class ConveyorError(Exception):
    """An RPC, or one message of a batch, failed.

    ``code`` is the ``grpc.StatusCode`` and ``details`` the server's explanation, written for a
    person. Codes without a class of their own (``INTERNAL``, ``UNIMPLEMENTED``, ``CANCELLED``,
    ...) are raised as this base class; catch it to handle every failure.
    """

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class InvalidArgument(ConveyorError):
    """The request is malformed: a bad topic or pattern, a bad queue setting, a missing field.

    Retrying will not help; fix the value named in ``details``.
    """


class NotFound(ConveyorError):
    """A named queue, subscription, binding or message does not exist.

    Create it first, or check the name (queues are case-sensitive).
    """


class AlreadyExists(ConveyorError):
    """A queue or binding with that name already exists.

    Use the existing one, or ``update_queue`` to change its configuration.
    """


class FailedPrecondition(ConveyorError):
    """The request is well formed but the broker's state does not allow it now.

    For example a quorum larger than the matching subscriptions, or cancelling a message that is
    in flight. Change the state (add subscriptions, wait) before retrying.
    """


class ResourceExhausted(ConveyorError):
    """A limit was hit: the queue is full under ``REJECT_NEW``, or a payload or batch is too big.

    Retry later with backoff, or send smaller batches or payloads.
    """


class Unavailable(ConveyorError):
    """The server cannot be reached, is starting, or is shutting down.

    Safe to retry with backoff, against this server or another.
    """


class DeadlineExceeded(ConveyorError):
    """The call's deadline, or a Send's ``WAIT_FOR_DELIVERED`` timeout, ran out.

    The operation may still complete on the server: check the message status before resending.
    """


class PermissionDenied(ConveyorError):
    """The caller's token does not grant this operation on this queue. Ask for the permission."""


class Unauthenticated(ConveyorError):
    """The call carried no valid credentials. Supply a token or client certificate."""


class PublisherClosed(ConveyorError):
    """``publish`` was called after ``close()``, or the message was still queued when a close
    gave up waiting. Create a new publisher; nothing of this message was sent."""

    def __init__(self, details: str = "the publisher is closed") -> None:
        super().__init__(grpc.StatusCode.CANCELLED, details)


class OrderingKeyPaused(FailedPrecondition):
    """An earlier message with the same ordering key failed, so this one was not sent: sending it
    would have broken the key's order. Deal with the failure, then call ``resume(key)`` on the
    publisher to send that key's messages again."""

    def __init__(self, key: str) -> None:
        super().__init__(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"ordering key {key!r} is paused after an earlier failure; call resume({key!r})",
        )
        self.key = key


_BY_CODE: dict[grpc.StatusCode, type[ConveyorError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
}

# google.rpc.Status carries the code as a number; grpc.StatusCode values are (number, name).
_CODE_BY_NUMBER: dict[int, grpc.StatusCode] = {code.value[0]: code for code in grpc.StatusCode}


def error_for(code: grpc.StatusCode, details: str) -> ConveyorError:
    """The error class for ``code``, instantiated (``ConveyorError`` for unmapped codes)."""
    return _BY_CODE.get(code, ConveyorError)(code, details)


def from_rpc_error(err: grpc.RpcError) -> ConveyorError:
    """Converts a failed call (sync or ``grpc.aio``) into its typed error."""
    return error_for(err.code(), err.details() or "")


def error_from_status(status: status_pb2.Status) -> ConveyorError:
    """Converts a per-message ``SendResult.error`` into its typed error."""
    code = _CODE_BY_NUMBER.get(status.code, grpc.StatusCode.UNKNOWN)
    return error_for(code, status.message)
