"""Message commands: ``send``, ``receive`` (tail a queue), ``status`` and ``peek``."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from broker.cli.common import _client, _json_option, _rpc_errors, _Settings
from broker.cli.durations import DURATION, parse_time
from broker.cli.output import _echo_json, _field_text, _payload_text, _table, _to_json
from conveyor.v1 import types_pb2

if TYPE_CHECKING:
    from conveyor_client import AsyncClient

RECEIVE_WINDOW = 1000
"""Outstanding deliveries per ``receive`` stream (the server's default); with ``--max N`` the
window is N so the server does not lease messages this command will never print."""

GUARANTEES = {
    "fire-and-forget": types_pb2.GUARANTEE_FIRE_AND_FORGET,
    "at-least-once": types_pb2.GUARANTEE_AT_LEAST_ONCE,
    "broadcast": types_pb2.GUARANTEE_BROADCAST,
    "quorum": types_pb2.GUARANTEE_QUORUM,
}

# --- send -----------------------------------------------------------------------------------


@click.command()
@click.argument("destination", metavar="QUEUE_OR_TOPIC")
@click.argument("payload", required=False)
@click.option(
    "--topic",
    "by_topic",
    is_flag=True,
    help="QUEUE_OR_TOPIC is a topic: route it through the bindings.",
)
@click.option("--message-topic", metavar="TOPIC", help="Topic to set on a message sent to a queue.")
@click.option("--file", "payload_file", type=click.File("rb"), help="Read the payload from a file.")
@click.option(
    "--attr", "attrs", multiple=True, metavar="KEY=VALUE", help="An attribute (repeatable)."
)
@click.option(
    "--guarantee",
    type=click.Choice(list(GUARANTEES)),
    help="Delivery guarantee [default: at-least-once].",
)
@click.option(
    "--required-acks", type=click.IntRange(min=1), help="With --guarantee quorum: acks needed."
)
@click.option("--priority", type=int, help="Priority, for priority queues (higher first).")
@click.option("--ordering-key", help="Message group, for FIFO queues.")
@click.option("--dedup-id", help="Deduplication id within the queue's dedup window.")
@click.option("--delay", type=DURATION, help="Deliver no sooner than this from now.")
@click.option("--ttl", type=DURATION, help="Expire unless acked within this.")
@click.option(
    "--wait-delivered", is_flag=True, help="Return only once acked as the guarantee requires."
)
@click.option(
    "--timeout", type=DURATION, help="With --wait-delivered: how long to wait [server: 30s]."
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Send this many copies in one batch.",
)
@click.pass_obj
def send(
    settings: _Settings,
    /,
    destination: str,
    payload: str | None,
    by_topic: bool,
    message_topic: str | None,
    payload_file: BinaryIO | None,
    attrs: tuple[str, ...],
    guarantee: str | None,
    wait_delivered: bool,
    timeout: timedelta | None,
    count: int,
    **fields: Any,
) -> None:
    """Send messages to a queue or topic; print their ids.

    PAYLOAD is the body as text; `-` reads it from stdin; omitted, the body is empty (or --file).
    """
    from conveyor_client import error_from_status, make_message

    body = _read_payload(payload, payload_file)
    if by_topic and message_topic:
        raise click.UsageError(
            "--message-topic applies to queue sends; with --topic it is the topic"
        )
    message_fields = {k: v for k, v in fields.items() if v is not None}
    message_fields["attributes"] = _parse_attrs(attrs)
    if guarantee:
        message_fields["guarantee"] = GUARANTEES[guarantee]
    if by_topic or message_topic:
        message_fields["topic"] = destination if by_topic else message_topic
    messages = [make_message(body, **message_fields) for _ in range(count)]
    wait_for = types_pb2.WAIT_FOR_DELIVERED if wait_delivered else types_pb2.WAIT_FOR_STORED
    with _client(settings) as client:
        results = client.send(
            messages, "" if by_topic else destination, wait_for=wait_for, timeout=timeout
        )
    # A batch fails per message: print every id that was stored, then the errors, then exit 1.
    failed = [error_from_status(r.error) for r in results if r.HasField("error")]
    for result in results:
        if not result.HasField("error"):
            click.echo(result.message_id)
    for error in failed:
        click.echo(f"error: {error.code.name}: {error.details}", err=True)
    if failed:
        raise SystemExit(1)


def _read_payload(payload: str | None, payload_file: BinaryIO | None) -> bytes:
    if payload is not None and payload_file is not None:
        raise click.UsageError("give the payload as an argument or with --file, not both")
    if payload_file is not None:
        return payload_file.read()
    if payload == "-":
        return sys.stdin.buffer.read()
    return (payload or "").encode()


def _parse_attrs(attrs: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for attr in attrs:
        key, sep, value = attr.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{attr!r}: expected KEY=VALUE", param_hint="--attr")
        out[key] = value
    return out


# --- receive --------------------------------------------------------------------------------


@click.command()
@click.argument("queue")
@click.option("--subscription", "-s", required=True, help="Subscription name (created if new).")
@click.option(
    "--filter",
    "filter_",
    metavar="PATTERN",
    default="",
    help="Topic pattern for a new subscription.",
)
@click.option(
    "--max", "max_messages", type=click.IntRange(min=1), help="Stop after this many messages."
)
@click.option("--no-ack", is_flag=True, help="Do not ack; messages go back to the queue on exit.")
@click.option("--wait", type=DURATION, help="Stop after this long without a message.")
@click.option("--lease", type=DURATION, help="Lease per delivery [default: the queue's].")
@click.option(
    "--start",
    default="new",
    metavar="new|all|TIME",
    help="Where a new subscription starts: new, all (replay what the queue retains), or a "
    "time to replay from (ISO 8601, or a duration ago such as 10m) [default: new].",
)
@_json_option
@click.pass_obj
def receive(
    settings: _Settings,
    queue: str,
    subscription: str,
    filter_: str,
    max_messages: int | None,
    no_ack: bool,
    wait: timedelta | None,
    lease: timedelta | None,
    start: str,
    as_json: bool,
) -> None:
    """Tail a queue: print messages as they arrive, acking each."""
    from conveyor_client import AsyncClient

    begin: str | float = start
    if start not in ("new", "all"):
        try:
            begin = parse_time(start)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--start") from None
    tail = _Tail(
        queue, subscription, filter_, max_messages, not no_ack, wait, lease, as_json, begin
    )

    async def run() -> None:
        async with AsyncClient(settings.server, **settings.client_kwargs()) as client:
            await tail.run(client)

    # Ctrl-C is how a tail normally ends, so it exits 0 once acks are flushed.
    with _rpc_errors(), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@dataclasses.dataclass(frozen=True)
class _Tail:
    """What ``receive`` does with a Receive stream."""

    queue: str
    subscription: str
    filter: str
    max_messages: int | None
    ack: bool
    wait: timedelta | None
    lease: timedelta | None
    as_json: bool
    start: str | float = "new"

    def _done(self, printed: int) -> bool:
        return self.max_messages is not None and printed >= self.max_messages

    async def run(self, client: AsyncClient) -> None:
        window = min(self.max_messages or RECEIVE_WINDOW, RECEIVE_WINDOW)
        batches = client.receive_batches(
            self.queue,
            self.subscription,
            filter=self.filter,
            max_outstanding_messages=window,
            lease=self.lease,
            start=self.start,  # type: ignore[arg-type]  # "new", "all" or a time
        )
        idle = self.wait.total_seconds() if self.wait is not None else None
        printed = 0
        to_ack: list[str] = []
        held: list[str] = []  # leased to us, not acked: released on exit so others get them now
        try:
            while not self._done(printed):
                try:
                    batch = await asyncio.wait_for(anext(batches), idle)
                except (StopAsyncIteration, TimeoutError):
                    break
                for delivery in batch:
                    if self._done(printed):
                        held.append(delivery.ack_id)
                        continue
                    _print_delivery(delivery, self.as_json)
                    printed += 1
                    (to_ack if self.ack else held).append(delivery.ack_id)
                if to_ack:  # one Ack call per frame, not per message
                    await client.ack(to_ack)
                    to_ack.clear()
        finally:
            # Ack before closing: the server hands a closed stream's unacked deliveries straight
            # back, so an ack sent after the close would be stale. Release after closing, or
            # the server would hand the released messages to this same stream again.
            if to_ack:
                await client.ack(to_ack)
            await batches.aclose()
            if held:
                await client.modify_lease(held, 0)


def _print_delivery(delivery: types_pb2.Delivery, as_json: bool) -> None:
    if as_json:
        _echo_json(_to_json(delivery))
        return
    message = delivery.message
    redelivery = f"  (attempt {delivery.attempt})" if delivery.attempt > 1 else ""
    click.echo(
        f"{message.id}  {message.topic or '-'}  {_payload_text(message.payload)}{redelivery}"
    )


# --- inspection -----------------------------------------------------------------------------


@click.command()
@click.argument("queue_name", metavar="QUEUE")
@click.option("--max", "max_messages", type=click.IntRange(1, 1000), default=10, show_default=True)
@_json_option
@click.pass_obj
def peek(settings: _Settings, queue_name: str, max_messages: int, as_json: bool) -> None:
    """Show messages in delivery order without delivering them."""
    with _client(settings) as client:
        found = client.peek(queue_name, max_messages)
    if as_json:
        _echo_json([_to_json(p) for p in found])
        return
    rows = [
        [
            p.message.id,
            _field_text(p, "state"),
            f"attempts={p.attempts}",
            p.message.topic or "-",
            _payload_text(p.message.payload),
        ]
        for p in found
    ]
    _table(rows)


@click.command()
@click.argument("queue_name", metavar="QUEUE")
@click.argument("message_id")
@click.option("--watch", is_flag=True, help="Follow each change until the message is done.")
@_json_option
@click.pass_obj
def status(
    settings: _Settings, queue_name: str, message_id: str, watch: bool, as_json: bool
) -> None:
    """Show a message's state, attempts and acks."""
    with _client(settings) as client, contextlib.suppress(KeyboardInterrupt):
        if watch:
            statuses: Iterable[types_pb2.MessageStatus] = client.watch_message(
                queue_name, message_id
            )
        else:
            statuses = [client.message_status(queue_name, message_id)]
        for current in statuses:
            _print_status(current, as_json)


def _print_status(current: types_pb2.MessageStatus, as_json: bool) -> None:
    if as_json:
        _echo_json(_to_json(current))
        return
    parts = [
        _field_text(current, "state"),
        f"attempts={current.attempts}",
        f"required_acks={current.required_acks}",
        f"acked_by={','.join(current.acked_by) or '-'}",
    ]
    parts += [
        f"{s.subscription or '*'}={_field_text(s, 'state')}/{s.attempts}"
        for s in current.subscriptions
    ]
    if current.reason:
        parts.append(f"reason={current.reason!r}")
    click.echo("  ".join(parts))
