"""Log set-up: ``--log-format text|json`` and ``--log-level``, one line per notable event.

A notable event is logged with ``extra=event("queue.created", queue=...)``: the text format
shows the message alone, the JSON format one object per line with ``time``, ``level``,
``logger``, ``message``, ``event`` and the event's fields. Fields are names, counts and
durations: never payloads, attributes or credentials. Lines on paths that run per request
are DEBUG and guarded by ``isEnabledFor``, so they cost one test when off.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_FIELDS = "conveyor_fields"
_EVENT = "conveyor_event"


def event(name: str, **fields: Any) -> dict[str, Any]:
    """``extra`` for a log call naming the event and its fields."""
    return {_EVENT: name, _FIELDS: fields}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        name = getattr(record, _EVENT, None)
        if name is not None:
            out["event"] = name
            for key, value in getattr(record, _FIELDS, {}).items():
                out.setdefault(key, value)
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def setup(level: str, fmt: str = "text", stream: TextIO | None = None) -> None:
    """Replaces the root logger's handlers with one writing ``fmt`` to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
