"""What stands in front of the servicers, built from the config: TLS, auth, stream caps.

SIGHUP re-reads the TLS files (used from the next handshake) and the auth file (used from
the next call); a file that no longer parses is logged and the previous one stays in force.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

import grpc

from broker.auth import load_auth_file
from broker.config import ServerConfig
from broker.errors import InvalidArgument
from broker.service.access import AuthInterceptor
from broker.service.stream_limits import StreamLimiter
from broker.service.tls import CertificateFiles

log = logging.getLogger(__name__)


class Guards:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.certificates = (
            CertificateFiles(config.tls_cert, config.tls_key, config.tls_client_ca or None)
            if config.tls_cert
            else None
        )
        self.auth = AuthInterceptor(load_auth_file(config.auth_file)) if config.auth_file else None
        self.streams = StreamLimiter(config.max_streams, config.max_streams_per_connection)
        self.interceptors: list[grpc.aio.ServerInterceptor[Any, Any]] = [self.streams]
        if self.auth is not None:
            self.interceptors.insert(0, self.auth)

    def reload(self) -> None:
        if self.certificates is not None:
            self.certificates.reload_requested = True
        if self.auth is not None:
            try:
                self.auth.authority = load_auth_file(self.config.auth_file)
            except InvalidArgument as exc:
                log.error("auth file reload failed, keeping the previous one: %s", exc)
            else:
                log.info("auth file reloaded from %s", self.config.auth_file)

    def reload_on_sighup(self) -> None:
        if self.certificates is None and self.auth is None:
            return
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.reload)
