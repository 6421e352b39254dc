"""TLS material and the bearer token, as the gRPC channel and calls take them.

PEM arguments may be file paths or the PEM bytes themselves. The token goes in each call's
``authorization: Bearer TOKEN`` metadata (call credentials would need TLS; a token on a
plaintext channel is the caller's choice, e.g. inside a pod network).
"""

from __future__ import annotations

import os
from pathlib import Path

import grpc

Pem = str | os.PathLike[str] | bytes
Metadata = tuple[tuple[str, str], ...]


def _read(pem: Pem | None) -> bytes | None:
    if pem is None or isinstance(pem, bytes):
        return pem
    return Path(pem).read_bytes()


def channel_credentials(
    credentials: grpc.ChannelCredentials | None,
    tls_ca: Pem | None,
    tls_cert: Pem | None,
    tls_key: Pem | None,
) -> grpc.ChannelCredentials | None:
    """``credentials`` as given, or TLS ones built from the PEM arguments, or None (plaintext)."""
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("tls_cert and tls_key go together (a client certificate and its key)")
    if tls_ca is None and tls_cert is None:
        return credentials
    if credentials is not None:
        raise ValueError("pass either credentials or tls_ca/tls_cert/tls_key, not both")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(tls_ca),
        private_key=_read(tls_key),
        certificate_chain=_read(tls_cert),
    )


def call_metadata(token: str | None) -> Metadata | None:
    return (("authorization", f"Bearer {token}"),) if token else None
