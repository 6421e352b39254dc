"""``conveyor health``: the standard gRPC health check, for container probes and scripts.

Exit 0 when the server answers SERVING; 1 otherwise (NOT_SERVING while starting, recovering
the log, draining, or after a storage failure; unreachable). The image's HEALTHCHECK runs it.
"""

from __future__ import annotations

import click

from broker.cli.common import _Settings


@click.command()
@click.option("--service", default="", help="A service name (default: the whole server).")
@click.option("--timeout", type=float, default=3.0, show_default=True, help="Seconds to wait.")
@click.pass_obj
def health(settings: _Settings, service: str, timeout: float) -> None:
    """Check the server's health (exit 0 only when SERVING)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    if settings.tls_ca or settings.tls_cert:
        from conveyor_client._internal.security import channel_credentials

        credentials = channel_credentials(
            None, settings.tls_ca, settings.tls_cert, settings.tls_key
        )
        assert credentials is not None
        channel = grpc.secure_channel(settings.server, credentials)
    else:
        channel = grpc.insecure_channel(settings.server)
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as exc:
            click.echo(f"unreachable or unknown: {exc.code().name}: {exc.details()}", err=True)
            raise SystemExit(1) from None
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    click.echo(name)
    raise SystemExit(0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1)
