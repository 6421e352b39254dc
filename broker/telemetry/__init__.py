"""Telemetry of the broker: OpenTelemetry traces and metrics, and the logs.

``setup.Telemetry`` is what the server owns (providers from ``OTEL_*``, the service's
``tracing.Tracing``, ``metrics.BrokerMetrics``, the ``/metrics`` route of ``prometheus``);
``logs`` is the log set-up and the ``event`` helper every layer may use. This package's
``__init__`` imports nothing, so the store can log events without loading OpenTelemetry.
"""
