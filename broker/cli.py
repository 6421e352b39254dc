"""The ``conveyor`` command line: run a server, and drive one (send, receive, admin, stats).

``serve`` builds a ``ServerConfig`` (file < ``CONVEYOR_*`` environment < flags) and hands it to
``broker.service.server.run``. Every other command talks to a server through the Python SDK
(``conveyor_client``), imported lazily so ``serve`` and ``--help`` load only click and the config.

Output is for people by default (aligned tables, ``30s``-style durations); ``--json`` prints
JSON for scripts: one object per line for streams (``receive``, ``status --watch``), one
document otherwise. RPC failures print ``error: <CODE>: <details>`` to stderr and exit 1;
configuration and usage errors exit 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn, TypeVar

import click
from google.protobuf import duration_pb2, json_format, timestamp_pb2
from google.protobuf.message import Message

from broker.config import DEFAULT_DATA_DIR, DEFAULT_LISTEN, FSYNC_POLICIES, load_config
from broker.errors import InvalidArgument
from conveyor.v1 import types_pb2

if TYPE_CHECKING:
    from conveyor_client import AsyncClient, Client

DEFAULT_SERVER = "127.0.0.1:50051"
"""Where client commands connect unless ``--server`` or ``CONVEYOR_SERVER`` says otherwise."""

RECEIVE_WINDOW = 1000
"""Outstanding deliveries per ``receive`` stream (the server's default); with ``--max N`` the
window is N so the server does not lease messages this command will never print."""

KINDS = {
    "standard": types_pb2.QUEUE_KIND_STANDARD,
    "fifo": types_pb2.QUEUE_KIND_FIFO,
    "priority": types_pb2.QUEUE_KIND_PRIORITY,
}
OVERFLOW_POLICIES = {
    "reject-new": types_pb2.OVERFLOW_POLICY_REJECT_NEW,
    "drop-oldest": types_pb2.OVERFLOW_POLICY_DROP_OLDEST,
}
GUARANTEES = {
    "fire-and-forget": types_pb2.GUARANTEE_FIRE_AND_FORGET,
    "at-least-once": types_pb2.GUARANTEE_AT_LEAST_ONCE,
    "broadcast": types_pb2.GUARANTEE_BROADCAST,
    "quorum": types_pb2.GUARANTEE_QUORUM,
}
QUEUE_FIELDS = tuple(
    f.name for f in types_pb2.Queue.DESCRIPTOR.fields if f.name not in ("name", "create_time")
)
"""Settable ``Queue`` fields, as the SDK's keyword arguments and ``update_mask`` paths."""

# --- durations ------------------------------------------------------------------------------

_UNIT_SECONDS = {
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_DURATION_PART = re.compile(rf"({_NUMBER})(ms|s|m|h|d)")
_DURATION = re.compile(rf"(?:{_NUMBER}(?:ms|s|m|h|d))+")


def parse_duration(text: str) -> timedelta:
    """``30s``, ``5m``, ``1h30m``, ``250ms``, ``2d`` or plain seconds (``1.5``) as a timedelta."""
    value = text.strip()
    try:
        if re.fullmatch(_NUMBER, value):
            total = Decimal(value)
        elif _DURATION.fullmatch(value):
            total = sum(
                (Decimal(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value)),
                Decimal(0),
            )
        else:
            raise ValueError
        # Decimal keeps "0.1s" exact down to the microsecond that timedelta stores.
        return timedelta(microseconds=int(total * 1_000_000))
    except (ValueError, InvalidOperation, OverflowError):
        raise ValueError(
            f"invalid duration {text!r}: use e.g. 30s, 5m, 1h30m, 250ms or plain seconds"
        ) from None


def format_duration(value: timedelta) -> str:
    """The shortest ``parse_duration`` spelling of ``value``: ``250ms``, ``1m30s``, ``2h``."""
    micros = value // timedelta(microseconds=1)
    if micros < 0:
        return "-" + format_duration(-value)
    if micros < 1_000_000:
        return f"{_trim(Decimal(micros) / 1000)}ms" if micros else "0s"
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    parts.append(f"{_trim(Decimal(rest) / 1_000_000)}s" if rest else "")
    return "".join(parts)


def _trim(number: Decimal) -> str:
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class DurationType(click.ParamType[timedelta, str | timedelta]):
    """A click parameter holding a duration (see ``parse_duration``); the value is a timedelta."""

    name = "duration"

    def convert(
        self, value: str | timedelta, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class DurationListType(click.ParamType[list[timedelta], str | list[timedelta]]):
    """Comma-separated durations, e.g. ``1s,5s,30s``; the value is a list of timedeltas."""

    name = "durations"

    def convert(
        self,
        value: str | list[timedelta],
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> list[timedelta]:
        if isinstance(value, list):
            return value
        return [DURATION.convert(v, param, ctx) for v in value.split(",")]


DURATION = DurationType()
DURATIONS = DurationListType()

# --- output ---------------------------------------------------------------------------------


def _label(enum_name: str, prefix: str) -> str:
    """``QUEUE_KIND_FIFO`` → ``fifo``; ``MESSAGE_STATE_IN_FLIGHT`` → ``in-flight``."""
    return enum_name.removeprefix(prefix).lower().replace("_", "-")


def _payload_text(payload: bytes) -> str:
    return payload.decode("utf-8", "backslashreplace")


def _field_text(message: Message, name: str) -> str:
    """One field of a message, as a person reads it: durations ``30s``, enums by label, unset
    ``-``."""
    field = message.DESCRIPTOR.fields_by_name[name]
    value = getattr(message, name)
    if field.is_repeated:
        return ",".join(_value_text(v) for v in value) or "-"
    if field.enum_type is not None:
        # buf's STANDARD lint makes every value start with the enum's name in UPPER_SNAKE.
        prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", field.enum_type.name).upper() + "_"
        return _label(field.enum_type.values_by_number[value].name, prefix)
    if field.message_type is not None and not message.HasField(name):
        return "-"
    return _value_text(value)


def _value_text(value: Any) -> str:
    if isinstance(value, duration_pb2.Duration):
        return format_duration(value.ToTimedelta())
    if isinstance(value, timestamp_pb2.Timestamp):
        return value.ToDatetime(tzinfo=UTC).isoformat()
    if isinstance(value, Message):
        return " ".join(f"{f.name}={_field_text(value, f.name)}" for f, _ in value.ListFields())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value) if value != "" else "-"


def _describe(message: Message) -> list[tuple[str, str]]:
    return [(f.name, _field_text(message, f.name)) for f in message.DESCRIPTOR.fields]


def _table(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> None:
    """Prints rows with columns padded to line up; nothing at all when there are no rows."""
    if not rows:
        return
    lines = [list(header)] + [list(r) for r in rows] if header else [list(r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


def _to_json(message: Message) -> dict[str, Any]:
    """The proto3 JSON mapping with proto field names, as ``grpcurl`` prints it."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value))


def stats_to_dict(stats: Message) -> dict[str, Any]:
    """Stats as plain JSON values: counters as integers, durations as seconds (a float)."""
    out: dict[str, Any] = {}
    for field in stats.DESCRIPTOR.fields:
        value = getattr(stats, field.name)
        if isinstance(value, duration_pb2.Duration):
            value = value.ToTimedelta().total_seconds()
        out[field.name] = value
    return out


# --- talking to a server --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Settings:
    server: str


def _fail(code: str, details: str, exit_code: int = 1) -> NoReturn:
    click.echo(f"error: {code}: {details}", err=True)
    raise SystemExit(exit_code)


@contextlib.contextmanager
def _rpc_errors() -> Iterator[None]:
    """Turns the SDK's typed errors into ``error: CODE: details`` and exit status 1."""
    from conveyor_client import ConveyorError

    try:
        yield
    except ConveyorError as exc:
        _fail(exc.code.name, exc.details)


@contextlib.contextmanager
def _client(settings: _Settings) -> Iterator[Client]:
    from conveyor_client import Client

    with _rpc_errors(), Client(settings.server) as client:
        yield client


_F = TypeVar("_F", bound=Callable[..., Any])


def _options(*decorators: Callable[[_F], _F]) -> Callable[[_F], _F]:
    """Applies several click decorators as one, in the order listed (shared option groups)."""

    def apply(f: _F) -> _F:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f

    return apply


_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")

# --- the command tree -----------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--server",
    envvar="CONVEYOR_SERVER",
    default=DEFAULT_SERVER,
    show_default=True,
    metavar="HOST:PORT",
    help="Server that client commands talk to (env CONVEYOR_SERVER).",
)
@click.version_option(package_name="conveyor-broker", prog_name="conveyor")
@click.pass_context
def main(ctx: click.Context, server: str) -> None:
    """Conveyor, a gRPC message broker: run a server and work with its queues."""
    ctx.obj = _Settings(server)


@main.command()
@click.option(
    "--listen", metavar="HOST:PORT", help=f"Address to serve on [default: {DEFAULT_LISTEN}]."
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help=f"Where the WAL lives [default: {DEFAULT_DATA_DIR}].",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="TOML file of settings (flags override it).",
)
@click.option(
    "--fsync", type=click.Choice(FSYNC_POLICIES), help="When the WAL is fsynced [default: always]."
)
@click.option(
    "--fsync-interval-ms", type=int, help="With --fsync interval: milliseconds between fsyncs."
)
@click.option(
    "--storage",
    type=click.Choice(["wal", "memory"]),
    help="wal: durable (default); memory: nothing survives a restart.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Log verbosity [default: INFO].",
)
def serve(
    listen: str | None,
    data_dir: str | None,
    config_file: str | None,
    storage: str | None,
    fsync: str | None,
    fsync_interval_ms: int | None,
    log_level: str | None,
) -> None:
    """Run a broker server until SIGTERM or Ctrl-C."""
    # Unset flags stay None so values from the file or CONVEYOR_* environment win.
    overrides = {
        "listen": listen,
        "data_dir": data_dir,
        "storage": storage,
        "fsync": fsync,
        "fsync_interval_ms": fsync_interval_ms,
        "log_level": log_level.upper() if log_level else None,
    }
    try:
        config = load_config(config_file, env=None, overrides=overrides)
    except InvalidArgument as exc:
        _fail("invalid configuration", str(exc), exit_code=2)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        _fail("invalid configuration", f"config file {config_file}: {exc}", exit_code=2)
    from broker.service.server import run  # heavy (grpc, the core); only serve needs it

    raise SystemExit(run(config))


@main.command()
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


@main.command()
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
    as_json: bool,
) -> None:
    """Tail a queue: print messages as they arrive, acking each."""
    from conveyor_client import AsyncClient

    tail = _Tail(queue, subscription, filter_, max_messages, not no_ack, wait, lease, as_json)

    async def run() -> None:
        async with AsyncClient(settings.server) as client:
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


# --- queues ---------------------------------------------------------------------------------


@main.group()
def queue() -> None:
    """Create, inspect, change and delete queues."""


_queue_options = _options(
    click.option(
        "--kind", type=click.Choice(list(KINDS)), help="Delivery order [default: standard]."
    ),
    click.option(
        "--lease", type=DURATION, help="Default lease (visibility timeout) [default: 30s]."
    ),
    click.option(
        "--max-deliveries",
        type=click.IntRange(min=0),
        help="Deliveries before dead-lettering; 0: no limit.",
    ),
    click.option("--dead-letter-queue", metavar="QUEUE", help="Queue that receives dead letters."),
    click.option(
        "--dedup-window", type=DURATION, help="Window for repeated dedup ids [default: 5m]."
    ),
    click.option("--message-ttl", type=DURATION, help="Messages not acked within this expire."),
    click.option("--default-delay", type=DURATION, help="Delay for messages that set none."),
    click.option(
        "--max-depth", type=click.IntRange(min=0), help="Most messages held; 0: no limit."
    ),
    click.option(
        "--overflow-policy",
        type=click.Choice(list(OVERFLOW_POLICIES)),
        help="What a full queue does with a new message.",
    ),
    click.option(
        "--max-payload-bytes",
        type=click.IntRange(min=0),
        help="Largest payload; 0: the server's limit.",
    ),
    click.option(
        "--retry-initial", type=DURATION, help="Retry backoff: delay before the first retry."
    ),
    click.option(
        "--retry-multiplier", type=click.FloatRange(min=0), help="Retry backoff: growth per retry."
    ),
    click.option("--retry-max", type=DURATION, help="Retry backoff: largest delay."),
    click.option(
        "--retry-jitter",
        type=click.FloatRange(0, 1),
        help="Retry backoff: random fraction taken off.",
    ),
    click.option(
        "--retry-delays",
        type=DURATIONS,
        metavar="D1,D2,...",
        help="Retry backoff: explicit delays (the last repeats).",
    ),
)

_RETRY_OPTIONS = ("retry_initial", "retry_multiplier", "retry_max", "retry_jitter", "retry_delays")


def queue_config(options: dict[str, Any]) -> dict[str, Any]:
    """The SDK's queue settings from the queue options that were given (unset ones left out)."""
    from conveyor_client import retry_backoff

    config = {k: options[k] for k in QUEUE_FIELDS if options.get(k) is not None}
    if "kind" in config:
        config["kind"] = KINDS[config["kind"]]
    if "overflow_policy" in config:
        config["overflow_policy"] = OVERFLOW_POLICIES[config["overflow_policy"]]
    if any(options.get(k) is not None for k in _RETRY_OPTIONS):
        config["retry_backoff"] = retry_backoff(
            options.get("retry_initial"),
            multiplier=options.get("retry_multiplier") or 0.0,
            max_delay=options.get("retry_max"),
            jitter=options.get("retry_jitter") or 0.0,
            delays=options.get("retry_delays") or (),
        )
    return config


@queue.command("create")
@click.argument("name")
@_queue_options
@click.pass_obj
def queue_create(settings: _Settings, /, name: str, **options: Any) -> None:
    """Create a queue."""
    with _client(settings) as client:
        created = client.create_queue(name, **queue_config(options))
    click.echo(f"created queue {created.name}")


@queue.command("update")
@click.argument("name")
@_queue_options
@click.option(
    "--clear",
    multiple=True,
    type=click.Choice([f.replace("_", "-") for f in QUEUE_FIELDS]),
    help="Reset a setting to its default (repeatable).",
)
@click.pass_obj
def queue_update(settings: _Settings, /, name: str, clear: tuple[str, ...], **options: Any) -> None:
    """Change some settings of a queue; others stay as they are."""
    changes = queue_config(options)
    for field in (c.replace("-", "_") for c in clear):
        if field in changes:
            raise click.UsageError(f"--clear {field.replace('_', '-')} conflicts with setting it")
        changes[field] = None
    if not changes:
        raise click.UsageError("nothing to change: give at least one setting or --clear")
    with _client(settings) as client:
        client.update_queue(name, **changes)
    click.echo(f"updated queue {name}")


@queue.command("get")
@click.argument("name")
@_json_option
@click.pass_obj
def queue_get(settings: _Settings, name: str, as_json: bool) -> None:
    """Show a queue's configuration."""
    with _client(settings) as client:
        found = client.get_queue(name)
    if as_json:
        _echo_json(_to_json(found))
    else:
        _table(_describe(found))


@queue.command("list")
@click.option("--prefix", default="", help="Only queues whose name starts with this.")
@_json_option
@click.pass_obj
def queue_list(settings: _Settings, prefix: str, as_json: bool) -> None:
    """List queues."""
    with _client(settings) as client:
        queues = client.list_queues(prefix)
    if as_json:
        _echo_json([_to_json(q) for q in queues])
        return
    columns = ("name", "kind", "lease", "max_deliveries", "dead_letter_queue")
    _table([[_field_text(q, c) for c in columns] for q in queues], [c.upper() for c in columns])


@queue.command("delete")
@click.argument("name")
@click.pass_obj
def queue_delete(settings: _Settings, name: str) -> None:
    """Delete a queue with its messages, subscriptions and bindings."""
    with _client(settings) as client:
        deleted = client.delete_queue(name)
    click.echo(f"deleted queue {name} ({deleted} messages)")


@queue.command("purge")
@click.argument("name")
@click.pass_obj
def queue_purge(settings: _Settings, name: str) -> None:
    """Delete every message of a queue that is not in flight."""
    with _client(settings) as client:
        purged = client.purge_queue(name)
    click.echo(f"purged {purged} messages from {name}")


# --- routing, subscriptions, inspection -----------------------------------------------------


@main.command()
@click.argument("pattern")
@click.argument("queue_name", metavar="QUEUE")
@click.pass_obj
def bind(settings: _Settings, pattern: str, queue_name: str) -> None:
    """Route topics matching PATTERN into QUEUE."""
    with _client(settings) as client:
        client.bind(pattern, queue_name)
    click.echo(f"bound {pattern} -> {queue_name}")


@main.command()
@click.argument("pattern")
@click.argument("queue_name", metavar="QUEUE")
@click.pass_obj
def unbind(settings: _Settings, pattern: str, queue_name: str) -> None:
    """Remove the binding of PATTERN to QUEUE."""
    with _client(settings) as client:
        client.unbind(pattern, queue_name)
    click.echo(f"unbound {pattern} -> {queue_name}")


@main.command()
@click.argument("queue_name", metavar="[QUEUE]", required=False, default="")
@_json_option
@click.pass_obj
def bindings(settings: _Settings, queue_name: str, as_json: bool) -> None:
    """List bindings (into QUEUE, or all)."""
    with _client(settings) as client:
        found = client.list_bindings(queue_name)
    if as_json:
        _echo_json([_to_json(b) for b in found])
    else:
        _table([[b.pattern, b.queue] for b in found], ["PATTERN", "QUEUE"])


@main.command()
@click.argument("queue_name", metavar="QUEUE")
@_json_option
@click.pass_obj
def subscriptions(settings: _Settings, queue_name: str, as_json: bool) -> None:
    """List a queue's subscriptions."""
    with _client(settings) as client:
        found = client.list_subscriptions(queue_name)
    if as_json:
        _echo_json([_to_json(s) for s in found])
        return
    rows = [[s.name, s.filter or "#", str(s.consumers), str(s.in_flight)] for s in found]
    _table(rows, ["NAME", "FILTER", "CONSUMERS", "IN_FLIGHT"])


@main.command()
@click.argument("queue_name", metavar="QUEUE")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object (durations in seconds).")
@click.pass_obj
def stats(settings: _Settings, queue_name: str, as_json: bool) -> None:
    """Show a queue's depth, ages and counters."""
    with _client(settings) as client:
        found = client.stats(queue_name)
    if as_json:
        _echo_json(stats_to_dict(found))
    else:
        _table(_describe(found))


@main.command()
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


@main.command()
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


# --- dead letters ---------------------------------------------------------------------------


@main.group()
def dlq() -> None:
    """List and redrive dead letters."""


@dlq.command("list")
@click.argument("queue_name", metavar="QUEUE")
@click.option("--max", "max_messages", type=click.IntRange(1, 1000), default=100, show_default=True)
@_json_option
@click.pass_obj
def dlq_list(settings: _Settings, queue_name: str, max_messages: int, as_json: bool) -> None:
    """List the messages of a dead-letter queue and why they are there."""
    with _client(settings) as client:
        found = client.list_dead_letters(queue_name, max_messages)
    if as_json:
        _echo_json([_to_json(m) for m in found])
        return
    rows = [
        [
            m.id,
            f"from={m.dead_letter.source_queue or '-'}",
            f"attempts={m.dead_letter.attempts}",
            f"reason={m.dead_letter.reason!r}",
            _payload_text(m.payload),
        ]
        for m in found
    ]
    _table(rows)


@dlq.command("redrive")
@click.argument("queue_name", metavar="QUEUE")
@click.option(
    "--destination", default="", help="Queue to move them to [default: each one's source]."
)
@click.option(
    "--max", "max_messages", type=click.IntRange(min=0), default=0, help="Most to move; 0: all."
)
@click.pass_obj
def dlq_redrive(settings: _Settings, queue_name: str, destination: str, max_messages: int) -> None:
    """Move dead letters back to their source queue (or --destination)."""
    with _client(settings) as client:
        result = client.redrive(queue_name, destination=destination, max_messages=max_messages)
    click.echo(f"redriven {result.redriven}, skipped {result.skipped}")


@main.group()
def wal() -> None:
    """Check or repair a data directory's write-ahead log (server stopped)."""


def _wal_dir(data_dir: str) -> Path:
    path = Path(data_dir) / "wal"
    if not path.is_dir():
        _fail("NOT_FOUND", f"{path} is not a Conveyor write-ahead log directory")
    return path


@wal.command("verify")
@click.option("--data-dir", required=True, help="The server's data directory.")
def wal_verify(data_dir: str) -> None:
    """Read every record and report; changes nothing. Exit 1 if the log is damaged."""
    from broker.wal import verify

    report = verify(_wal_dir(data_dir))
    click.echo(
        f"segments: {report.segments}  records: {report.records}  bytes: {report.bytes}  "
        f"end: {report.end.segment}:{report.end.offset}"
    )
    if report.problem is not None:
        click.echo(f"problem: {report.problem}", err=True)
        click.echo(f"repair with: conveyor wal repair --data-dir {data_dir}", err=True)
        raise SystemExit(1)
    click.echo("ok")


@wal.command("repair")
@click.option("--data-dir", required=True, help="The server's data directory.")
def wal_repair(data_dir: str) -> None:
    """Cut the log at the first damaged record (copies kept as *.broken) so the server starts.

    Records after the damage are lost: the report says how many.
    """
    from broker.wal import repair

    report = repair(_wal_dir(data_dir))
    if not report.changed:
        click.echo("nothing to repair")
        return
    click.echo(f"problem: {report.problem}")
    click.echo(
        f"truncated at {report.end.segment}:{report.end.offset}; dropped "
        f"{report.dropped_records} records ({report.dropped_bytes} bytes) and "
        f"{len(report.dropped_segments)} later segments; copies: "
        + ", ".join(str(p) for p in report.broken_copies)
    )


# --- bench ----------------------------------------------------------------------------------


@main.group()
def bench() -> None:
    """Measure fresh local servers: publish rate, recovery time, end-to-end latency.

    Each benchmark starts its own server process (a free 127.0.0.1 port, data in a temporary
    folder) and ignores --server. Progress goes to stderr; figures to stdout.
    """


_MESSAGES_LIMIT = click.IntRange(1, 10_000_000)
_work_dir_option = click.option(
    "--work-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Where the temporary data directories go [default: the system temp folder].",
)
_profile_option = click.option(
    "--server-profile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Run the server under cProfile and write its stats here (for python -m pstats).",
)


def _bench_progress(line: str) -> None:
    click.echo(line, err=True)


@contextlib.contextmanager
def _bench_errors() -> Iterator[None]:
    """A server that fails to start or an RPC that fails ends the command with exit status 1."""
    import grpc

    from broker.bench.server import ServerError

    try:
        yield
    except ServerError as exc:
        _fail("bench", str(exc))
    except grpc.RpcError as exc:
        code = exc.code().name if isinstance(exc, grpc.aio.AioRpcError) else "UNKNOWN"
        _fail(code, str(exc.details()) if isinstance(exc, grpc.aio.AioRpcError) else str(exc))


@bench.command("publish")
@click.option(
    "--fsync",
    type=click.Choice([*FSYNC_POLICIES, "all"]),
    default="always",
    show_default=True,
    help="The server's fsync policy; 'all' runs each in turn.",
)
@click.option("--messages", type=_MESSAGES_LIMIT, default=100_000, show_default=True)
@click.option("--batch", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--publishers", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option(
    "--payload", type=click.IntRange(0, 1024 * 1024), default=256, show_default=True,
    help="Payload bytes per message.",
)  # fmt: skip
@click.option("--runs", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option(
    "--time-limit", type=click.FloatRange(min=1), default=300.0, show_default=True,
    help="Seconds of publishing per run; the run stops there.",
)  # fmt: skip
@_work_dir_option
@_profile_option
@_json_option
def bench_publish(
    fsync: str,
    messages: int,
    batch: int,
    publishers: int,
    payload: int,
    runs: int,
    time_limit: float,
    work_dir: Path | None,
    server_profile: Path | None,
    as_json: bool,
) -> None:
    """Send throughput, batch latency, group commit and disk use per fsync policy."""
    from broker.bench import publish, report

    params = publish.PublishParams(messages, batch, publishers, payload, runs, time_limit)
    policies = publish.POLICIES if fsync == "all" else (fsync,)
    with _bench_errors():
        results = publish.bench_publish(
            policies, params, progress=_bench_progress, work_dir=work_dir, profile=server_profile
        )
    if as_json:
        _echo_json(publish.as_json(params, results))
    else:
        click.echo(report.publish_report(results))


@bench.command("recovery")
@click.option("--messages", type=_MESSAGES_LIMIT, default=1_000_000, show_default=True)
@click.option("--payload", type=click.IntRange(0, 1024 * 1024), default=256, show_default=True)
@click.option("--batch", type=click.IntRange(1, 1000), default=500, show_default=True)
@click.option("--publishers", type=click.IntRange(1, 256), default=4, show_default=True)
@click.option("--fsync", type=click.Choice(FSYNC_POLICIES), default="always", show_default=True)
@click.option(
    "--stop", type=click.Choice(["kill", "term"]), default="kill", show_default=True,
    help="How the loaded server is stopped: SIGKILL (a crash) or SIGTERM.",
)  # fmt: skip
@click.option(
    "--checkpointed", is_flag=True,
    help="Also measure a restart from a fresh snapshot (CONVEYOR_CHECKPOINT_BYTES=1).",
)  # fmt: skip
@click.option(
    "--checkpoint-bytes", type=click.IntRange(min=1),
    help="CONVEYOR_CHECKPOINT_BYTES for the publishing server [default: the server's].",
)  # fmt: skip
@click.option(
    "--time-limit", type=click.FloatRange(min=1), default=900.0, show_default=True,
    help="Seconds for publishing (and for a checkpoint).",
)  # fmt: skip
@_work_dir_option
@_json_option
def bench_recovery(
    messages: int,
    payload: int,
    batch: int,
    publishers: int,
    fsync: str,
    stop: str,
    checkpointed: bool,
    checkpoint_bytes: int | None,
    time_limit: float,
    work_dir: Path | None,
    as_json: bool,
) -> None:
    """Store many messages, stop the server, and time the restart (and from a snapshot)."""
    from broker.bench import recovery, report

    params = recovery.RecoveryParams(
        messages, payload, batch, publishers, fsync, stop, checkpointed, checkpoint_bytes,
        time_limit,
    )  # fmt: skip
    with _bench_errors():
        result = recovery.bench_recovery(params, progress=_bench_progress, work_dir=work_dir)
    if as_json:
        _echo_json(result.as_json())
    else:
        click.echo(report.recovery_report(result))


@bench.command("e2e")
@click.option("--messages", type=_MESSAGES_LIMIT, default=200_000, show_default=True)
@click.option("--batch", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--publishers", type=click.IntRange(1, 256), default=4, show_default=True)
@click.option("--payload", type=click.IntRange(0, 1024 * 1024), default=256, show_default=True)
@click.option(
    "--window", type=click.IntRange(1, 10_000), default=1000, show_default=True,
    help="The consumer's max_outstanding_messages.",
)  # fmt: skip
@click.option("--fsync", type=click.Choice(FSYNC_POLICIES), default="always", show_default=True)
@click.option("--time-limit", type=click.FloatRange(min=1), default=600.0, show_default=True)
@_work_dir_option
@_profile_option
@_json_option
def bench_e2e(
    messages: int,
    batch: int,
    publishers: int,
    payload: int,
    window: int,
    fsync: str,
    time_limit: float,
    work_dir: Path | None,
    server_profile: Path | None,
    as_json: bool,
) -> None:
    """Publish and consume (StreamingReceive) at once: end-to-end rate and delivery latency."""
    from broker.bench import e2e, report

    params = e2e.E2EParams(messages, batch, publishers, payload, window, fsync, time_limit)
    with _bench_errors():
        result = e2e.bench_e2e(
            params, progress=_bench_progress, work_dir=work_dir, profile=server_profile
        )
    if as_json:
        _echo_json(result.as_json())
    else:
        click.echo(report.e2e_report(result))
