"""Errors raised by the broker core.

The core knows nothing of gRPC: it raises these, and ``broker.service.status`` maps each class to
the gRPC status code named in its docstring. Every message should tell a person what to change.
"""

from __future__ import annotations


class BrokerError(Exception):
    """Base class of every error the core reports to a caller."""


class InvalidArgument(BrokerError):
    """The request itself is malformed (bad topic, bad config value). → ``INVALID_ARGUMENT``."""


class NotFound(BrokerError):
    """A named queue, subscription, binding or message does not exist. → ``NOT_FOUND``."""


class AlreadyExists(BrokerError):
    """Creating something whose name is taken. → ``ALREADY_EXISTS``."""


class FailedPrecondition(BrokerError):
    """The request is well formed but the broker's state does not allow it.

    Examples: a quorum larger than the matching subscriptions, deleting a queue that another
    queue dead-letters into. → ``FAILED_PRECONDITION``.
    """


class ResourceExhausted(BrokerError):
    """A limit was hit: queue full under ``REJECT_NEW``, payload too large.

    → ``RESOURCE_EXHAUSTED``.
    """


class Unavailable(BrokerError):
    """The broker is starting, draining or its storage failed; retry elsewhere or later.

    → ``UNAVAILABLE``.
    """


class DeadlineExceeded(BrokerError):
    """A wait the caller asked for (``WAIT_FOR_DELIVERED``) ran out. → ``DEADLINE_EXCEEDED``."""


class Unimplemented(BrokerError):
    """This store does not offer the verb asked for (a newer feature it has not caught up
    with). → ``UNIMPLEMENTED``."""
