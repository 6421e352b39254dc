"""What commands print: aligned tables with proto fields as people read them, or JSON.

Durations print as ``30s``, enums by their label (``fifo``, ``in-flight``), unset fields as
``-``; ``--json`` prints the proto3 JSON mapping with proto field names, as ``grpcurl`` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import click
from google.protobuf import duration_pb2, json_format, timestamp_pb2
from google.protobuf.message import Message

from broker.cli.durations import format_duration


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
    """Stats as plain JSON values: counters as integers, durations as seconds (a float), rates
    and lag as nested objects, enums by name; every field, set or not."""
    out: dict[str, Any] = {}
    for field in stats.DESCRIPTOR.fields:
        value = getattr(stats, field.name)
        if field.is_repeated:
            out[field.name] = [_plain(v) for v in value]
        elif field.enum_type is not None:
            out[field.name] = field.enum_type.values_by_number[value].name
        else:
            out[field.name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, duration_pb2.Duration):
        return value.ToTimedelta().total_seconds()
    if isinstance(value, Message):
        return stats_to_dict(value)
    return value
