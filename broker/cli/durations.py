"""Durations on the command line: ``30s``, ``5m``, ``1h30m``, ``250ms``, ``2d`` or plain seconds.

``parse_duration`` reads them, ``format_duration`` writes the shortest spelling back (for
tables), and ``DURATION`` / ``DURATIONS`` are the click types of options that take one or a list.
``TIME`` takes a point in time (``parse_time``): ISO 8601, ``now``, or a duration ago.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import click

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


def parse_time(text: str, now: float | None = None) -> float:
    """A point in time as Unix seconds: ISO 8601 (``2026-12-02T01:00:00+00:00``; without a
    zone, local time), ``now``, or a duration meaning that long ago (``10m``)."""
    text = text.strip()
    if text == "now":
        return time.time() if now is None else now
    try:
        ago = parse_duration(text)
    except ValueError:
        pass
    else:
        return (time.time() if now is None else now) - ago.total_seconds()
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use ISO 8601 (2026-12-02T01:00:00Z), 'now', or a "
            "duration ago (10m)"
        ) from None


class TimeType(click.ParamType[float, str | float]):
    """A click parameter holding a point in time (see ``parse_time``), as Unix seconds."""

    name = "time"

    def convert(
        self, value: str | float, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_time(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIME = TimeType()
