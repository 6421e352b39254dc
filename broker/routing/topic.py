"""Topic and pattern syntax: the one place that decides what a routable name looks like.

A topic is dot-separated segments (``orders.eu.created``); a pattern may also use ``*`` for
exactly one segment and ``#`` for zero or more. Both validators return the segments so callers
split once. Errors are ``InvalidArgument`` whose message names the input and what to fix.
"""

from __future__ import annotations

import re

from broker.errors import InvalidArgument

MAX_TOPIC_BYTES = 255
"""Longest topic or pattern, in UTF-8 bytes: AMQP's short-string limit, so names travel to any
broker we may bridge to, and trie keys and cache entries stay small."""

SINGLE_WILDCARD = "*"
"""Pattern segment that matches exactly one topic segment."""

MULTI_WILDCARD = "#"
"""Pattern segment that matches zero or more topic segments."""

_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# The common case (a valid topic) is one regex call; the slow path below only runs to explain
# what is wrong.
_VALID_TOPIC = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_SHOWN_CHARS = 64
"""Enough of an offending name to recognise it, without echoing megabytes into logs."""


def validate_topic(topic: str) -> tuple[str, ...]:
    """Return the segments of ``topic``, or raise ``InvalidArgument`` saying what is wrong."""
    return _split(topic, "topic", wildcards=False)


def validate_pattern(pattern: str) -> tuple[str, ...]:
    """Return the segments of ``pattern`` (which may be ``*`` or ``#``), or raise."""
    return _split(pattern, "pattern", wildcards=True)


def _split(text: str, kind: str, *, wildcards: bool) -> tuple[str, ...]:
    # surrogatepass: a lone surrogate must be reported as a bad character, not crash the count.
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_TOPIC_BYTES:
        raise _invalid(text, kind, f"too long: {size} bytes > {MAX_TOPIC_BYTES}")
    if _VALID_TOPIC.fullmatch(text):
        return tuple(text.split("."))
    segments = tuple(text.split("."))
    for position, segment in enumerate(segments, start=1):
        if not segment:
            raise _invalid(
                text, kind, f"empty segment at position {position} (no leading, trailing or '..')"
            )
        if wildcards and segment in (SINGLE_WILDCARD, MULTI_WILDCARD):
            continue
        for char in segment:
            if char in _ALLOWED:
                continue
            if wildcards and char in (SINGLE_WILDCARD, MULTI_WILDCARD):
                raise _invalid(
                    text,
                    kind,
                    f"segment {position} {segment!r} mixes {char!r} with other characters;"
                    " a wildcard must be a whole segment",
                )
            allowed = "ASCII letters, digits, '_' and '-'"
            if wildcards:
                allowed += ", or a whole segment '*' or '#'"
            raise _invalid(
                text, kind, f"bad character {char!r} in segment {position}; use only {allowed}"
            )
    return segments


def _invalid(text: str, kind: str, problem: str) -> InvalidArgument:
    shown = text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."
    return InvalidArgument(f"invalid {kind} {shown!r}: {problem}")
