"""Telemetry of the broker: OpenTelemetry traces and metrics, and the log set-up.

``Telemetry.from_env`` builds what the standard ``OTEL_*`` variables ask for
(``providers``); with none set, tracing is off (the service skips its hooks) and metrics
exist only when something reads them (the ``/metrics`` endpoint). The server owns one
``Telemetry`` and shuts it down last, so what was recorded is flushed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry.sdk.trace import TracerProvider

from broker.telemetry import providers
from broker.telemetry.tracing import Tracing, stability_dup

INSTRUMENTATION = "conveyor.broker"


class Telemetry:
    """The server's tracer provider (None: tracing off) and the ``Tracing`` over it."""

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.environ = env
        self.tracer_provider = tracer_provider
        self.tracing: Tracing | None = None
        if tracer_provider is not None:
            self.tracing = Tracing(
                tracer_provider.get_tracer(INSTRUMENTATION), dup=stability_dup(env)
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Telemetry:
        env = os.environ if environ is None else environ
        return cls(providers.tracer_provider(env), env)

    def shutdown(self) -> None:
        """Flushes and stops the exporters (at the end of the server's shutdown)."""
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()


__all__ = ["Telemetry", "Tracing"]
