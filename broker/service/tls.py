"""Server TLS and mutual TLS, with certificates reloaded without a restart.

gRPC asks ``CertificateFiles.fetch`` for the certificate configuration at each new TLS
handshake; it answers "unchanged" unless the files changed on disk (size, mtime or inode:
renaming a new file into place counts) or SIGHUP asked for a reload. A reload that fails (a
half-written file, a key that does not match) is logged and the previous certificate stays
in use, so a botched rotation never takes the listener down. Connections already open keep
the certificate they were made with.

``check_files`` runs the same checks at start, so a bad file stops the server at once with a
message naming the setting.
"""

from __future__ import annotations

import logging
import os
import ssl
from pathlib import Path

import grpc

from broker.errors import InvalidArgument

log = logging.getLogger(__name__)


def check_files(cert: str, key: str, client_ca: str | None) -> None:
    """Raises ``InvalidArgument`` naming the setting whose file is unreadable or wrong."""
    for name, path in (("tls_cert", cert), ("tls_key", key), ("tls_client_ca", client_ca)):
        if path is not None and not os.access(path, os.R_OK):
            raise InvalidArgument(f"{name} {path!r}: no such readable file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise InvalidArgument(
            f"tls_cert {cert!r} / tls_key {key!r}: not a PEM certificate and its private key "
            f"({exc.reason or exc})"
        ) from None
    if client_ca is not None:
        try:
            context.load_verify_locations(cafile=client_ca)
        except ssl.SSLError as exc:
            raise InvalidArgument(
                f"tls_client_ca {client_ca!r}: not PEM CA certificates ({exc.reason or exc})"
            ) from None


class CertificateFiles:
    """The server's certificate, key and (for mTLS) client CA, as files that may change."""

    def __init__(self, cert: str, key: str, client_ca: str | None = None) -> None:
        self.cert = cert
        self.key = key
        self.client_ca = client_ca
        self.reload_requested = False
        self.reloads = 0
        self._stamp = self._stat()
        self._initial = self._load()

    def _paths(self) -> list[str]:
        return [p for p in (self.cert, self.key, self.client_ca) if p is not None]

    def _stat(self) -> tuple[tuple[int, int, int], ...]:
        stamps = []
        for path in self._paths():
            try:
                st = os.stat(path)
            except OSError:
                stamps.append((-1, -1, -1))
            else:
                stamps.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(stamps)

    def _load(self) -> grpc.ServerCertificateConfiguration:
        check_files(self.cert, self.key, self.client_ca)
        return grpc.ssl_server_certificate_configuration(
            [(Path(self.key).read_bytes(), Path(self.cert).read_bytes())],
            root_certificates=Path(self.client_ca).read_bytes() if self.client_ca else None,
        )

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """Called by gRPC at each handshake: a new configuration, or None for "as before"."""
        stamp = self._stat()
        if stamp == self._stamp and not self.reload_requested:
            return None
        self._stamp = stamp
        self.reload_requested = False
        try:
            config = self._load()
        except (InvalidArgument, OSError) as exc:
            log.error("TLS reload failed, keeping the previous certificate: %s", exc)
            return None
        self.reloads += 1
        log.info("TLS certificate reloaded from %s", self.cert)
        return config

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.dynamic_ssl_server_credentials(
            self._initial,
            self.fetch,  # type: ignore[arg-type]  # None means unchanged (gRPC docs)
            require_client_authentication=self.client_ca is not None,
        )
