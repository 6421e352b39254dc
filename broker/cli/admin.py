"""Admin commands: the ``queue`` group (with ``pause`` and ``resume``), routing (``bind``,
``unbind``, ``bindings``), ``subscriptions``, ``stats`` and ``top`` (the overview is
``overview``'s) and the ``dlq`` group for dead letters."""

from __future__ import annotations

from typing import Any

import click

from broker.cli import overview
from broker.cli.common import _client, _json_option, _options, _Settings
from broker.cli.durations import DURATION, DURATIONS, TIME
from broker.cli.output import (
    _describe,
    _echo_json,
    _field_text,
    _payload_text,
    _table,
    _to_json,
    stats_to_dict,
)
from conveyor.v1 import types_pb2

KINDS = {
    "standard": types_pb2.QUEUE_KIND_STANDARD,
    "fifo": types_pb2.QUEUE_KIND_FIFO,
    "priority": types_pb2.QUEUE_KIND_PRIORITY,
}
OVERFLOW_POLICIES = {
    "reject-new": types_pb2.OVERFLOW_POLICY_REJECT_NEW,
    "drop-oldest": types_pb2.OVERFLOW_POLICY_DROP_OLDEST,
}
QUEUE_FIELDS = tuple(
    f.name for f in types_pb2.Queue.DESCRIPTOR.fields if f.name not in ("name", "create_time")
)
"""Settable ``Queue`` fields, as the SDK's keyword arguments and ``update_mask`` paths."""

# --- queues ---------------------------------------------------------------------------------


@click.group()
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
    click.option(
        "--dedup-by-content/--no-dedup-by-content",
        default=None,
        help="Messages without a dedup id are deduplicated by a hash of topic, ordering key "
        "and payload [default: no].",
    ),
    click.option(
        "--retain-acked",
        type=DURATION,
        help="Keep acked messages this long for replay (start positions, subscription seek).",
    ),
    click.option(
        "--retain-acked-bytes",
        type=click.IntRange(min=0),
        help="Most payload bytes of acked messages kept for replay; 0: no budget.",
    ),
    click.option(
        "--encrypted/--not-encrypted",
        default=None,
        help="Seal payloads and attributes on the server's disk (needs a server key; "
        "fixed at creation).",
    ),
    click.option(
        "--compress-above-bytes",
        type=click.IntRange(min=0),
        help="Compress payloads this large on disk; 0: never [default: the server's].",
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


@queue.command("pause")
@click.argument("name")
@click.pass_obj
def queue_pause(settings: _Settings, name: str) -> None:
    """Stop deliveries from a queue (sends are still stored; leases in flight run on)."""
    with _client(settings) as client:
        changed = client.pause_queue(name)
    click.echo(f"paused queue {name}" if changed else f"queue {name} was already paused")


@queue.command("resume")
@click.argument("name")
@click.pass_obj
def queue_resume(settings: _Settings, name: str) -> None:
    """Let a paused queue deliver again."""
    with _client(settings) as client:
        changed = client.resume_queue(name)
    click.echo(f"resumed queue {name}" if changed else f"queue {name} was not paused")


# --- routing, subscriptions, stats ----------------------------------------------------------


@click.command()
@click.argument("pattern")
@click.argument("queue_name", metavar="QUEUE")
@click.pass_obj
def bind(settings: _Settings, pattern: str, queue_name: str) -> None:
    """Route topics matching PATTERN into QUEUE."""
    with _client(settings) as client:
        client.bind(pattern, queue_name)
    click.echo(f"bound {pattern} -> {queue_name}")


@click.command()
@click.argument("pattern")
@click.argument("queue_name", metavar="QUEUE")
@click.pass_obj
def unbind(settings: _Settings, pattern: str, queue_name: str) -> None:
    """Remove the binding of PATTERN to QUEUE."""
    with _client(settings) as client:
        client.unbind(pattern, queue_name)
    click.echo(f"unbound {pattern} -> {queue_name}")


@click.command()
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


@click.command()
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


@click.command()
@click.argument("queue_name", metavar="[QUEUE]", required=False, default="")
@click.option(
    "--prefix", default="", help="Without QUEUE: only queues whose name starts with this."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON (durations in seconds; a list without QUEUE).",
)
@click.pass_obj
def stats(settings: _Settings, queue_name: str, prefix: str, as_json: bool) -> None:
    """Show a queue's depth, ages, counters, rates and lag per subscription; without QUEUE, a
    table of every queue (IN/S: sends per second over the last minute, OUT/S: deliveries)."""
    if not queue_name:
        if as_json:
            with _client(settings) as client:
                found = client.list_queue_stats(prefix)
            _echo_json([stats_to_dict(s) for s in found])
        else:
            overview.print_overview(settings, prefix)
        return
    with _client(settings) as client:
        one = client.stats(queue_name)
    if as_json:
        _echo_json(stats_to_dict(one))
    else:
        _table(_describe(one))


@click.command()
@click.option("--prefix", default="", help="Only queues whose name starts with this.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds between refreshes.",
)
@click.option(
    "--iterations",
    type=click.IntRange(min=0),
    default=0,
    help="Stop after this many refreshes; 0: until q or Ctrl-C.",
)
@click.pass_obj
def top(settings: _Settings, prefix: str, interval: float, iterations: int) -> None:
    """Show the table of every queue (as `conveyor stats` does), refreshed in place; q or
    Ctrl-C quits."""
    overview.run_top(settings, prefix, interval, iterations)


@click.group()
def subscription() -> None:
    """Work with one subscription (see also ``subscriptions``)."""


@subscription.command("seek")
@click.argument("queue_name", metavar="QUEUE")
@click.argument("name", metavar="SUBSCRIPTION")
@click.option(
    "--time",
    "at",
    type=TIME,
    required=True,
    help="ISO 8601 (2026-12-02T01:00:00Z), 'now', or a duration ago (10m).",
)
@click.pass_obj
def subscription_seek(settings: _Settings, queue_name: str, name: str, at: float) -> None:
    """Move SUBSCRIPTION to a time: retained acked messages published since then are
    delivered again; unacked ones published before it are acked."""
    with _client(settings) as client:
        result = client.seek_subscription(queue_name, name, at)
    click.echo(f"replayed {result.replayed}, acked {result.acked}")


# --- dead letters ---------------------------------------------------------------------------


@click.group()
def dlq() -> None:
    """List and redrive dead letters."""


DEAD_LETTER_REASONS = {
    "max-deliveries": types_pb2.DEAD_LETTER_REASON_MAX_DELIVERIES,
    "nacked": types_pb2.DEAD_LETTER_REASON_NACKED,
    "expired": types_pb2.DEAD_LETTER_REASON_EXPIRED,
}


@dlq.command("list")
@click.argument("queue_name", metavar="QUEUE")
@click.option("--max", "max_messages", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option(
    "--reason",
    type=click.Choice(sorted(DEAD_LETTER_REASONS)),
    help="Only dead letters with this reason.",
)
@click.option("--source-queue", default="", help="Only dead letters from this queue.")
@click.option(
    "--source-subscription",
    default="",
    help="Only dead letters of this subscription's copies (broadcast, quorum).",
)
@_json_option
@click.pass_obj
def dlq_list(
    settings: _Settings,
    queue_name: str,
    max_messages: int,
    reason: str | None,
    source_queue: str,
    source_subscription: str,
    as_json: bool,
) -> None:
    """List the messages of a dead-letter queue and why they are there."""
    with _client(settings) as client:
        found = client.list_dead_letters(
            queue_name,
            max_messages,
            reason=DEAD_LETTER_REASONS.get(reason or "", types_pb2.DEAD_LETTER_REASON_UNSPECIFIED),
            source_queue=source_queue,
            source_subscription=source_subscription,
        )
    if as_json:
        _echo_json([_to_json(m) for m in found])
        return
    rows = []
    for m in found:
        info = m.dead_letter
        source = info.source_queue or "-"
        rows.append(
            [
                m.id,
                f"from={source}/{info.subscription}" if info.subscription else f"from={source}",
                f"attempts={info.attempts}",
                f"reason={info.reason!r}",
                f"last_nack={info.last_nack_reason!r}" if info.last_nack_reason else "",
                _payload_text(m.payload),
            ]
        )
    _table(rows)


@dlq.command("redrive")
@click.argument("queue_name", metavar="QUEUE")
@click.option(
    "--destination", default="", help="Queue to move them to [default: each one's source]."
)
@click.option(
    "--max", "max_messages", type=click.IntRange(min=0), default=0, help="Most to move; 0: all."
)
@click.option(
    "--reset-attempts",
    is_flag=True,
    help="Start each message from zero attempts [default: keep its count, as SQS does].",
)
@click.option(
    "--id",
    "message_ids",
    multiple=True,
    metavar="MESSAGE_ID",
    help="Only this dead letter (repeatable) [default: the oldest first].",
)
@click.pass_obj
def dlq_redrive(
    settings: _Settings,
    queue_name: str,
    destination: str,
    max_messages: int,
    reset_attempts: bool,
    message_ids: tuple[str, ...],
) -> None:
    """Move dead letters back to their source queue (or --destination)."""
    with _client(settings) as client:
        result = client.redrive(
            queue_name,
            destination=destination,
            max_messages=max_messages,
            reset_attempts=reset_attempts,
            message_ids=message_ids,
        )
    click.echo(f"redriven {result.redriven}, skipped {result.skipped}")
