"""Topic and pattern validation: what is accepted, and what each rejection tells the caller."""

from __future__ import annotations

import pytest

from broker.errors import InvalidArgument
from broker.routing import MAX_TOPIC_BYTES, validate_pattern, validate_topic


@pytest.mark.parametrize(
    ("topic", "segments"),
    [
        ("orders", ("orders",)),
        ("orders.eu.created", ("orders", "eu", "created")),
        ("A-b_C.0-9", ("A-b_C", "0-9")),
        ("_.-", ("_", "-")),
        ("a" * MAX_TOPIC_BYTES, ("a" * MAX_TOPIC_BYTES,)),
    ],
)
def test_valid_topics(topic: str, segments: tuple[str, ...]) -> None:
    assert validate_topic(topic) == segments
    # Every topic is also a pattern that matches only itself.
    assert validate_pattern(topic) == segments


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("", "empty segment at position 1"),
        (".a", "empty segment at position 1"),
        ("a.", "empty segment at position 2"),
        ("a..b", "empty segment at position 2"),
        ("a b", "bad character ' ' in segment 1"),
        ("a.b/c", "bad character '/' in segment 2"),
        ("caf\u00e9", "bad character '\u00e9' in segment 1"),
        ("a\nb", "bad character '\\n' in segment 1"),
        ("bad\ud800", "bad character '\\ud800' in segment 1"),
        ("a.*", "bad character '*' in segment 2"),
        ("#", "bad character '#' in segment 1"),
        ("a" * (MAX_TOPIC_BYTES + 1), f"too long: 256 bytes > {MAX_TOPIC_BYTES}"),
        # Counted in UTF-8 bytes, not characters.
        ("\u00e9" * 128, f"too long: 256 bytes > {MAX_TOPIC_BYTES}"),
    ],
)
def test_invalid_topics(topic: str, expected: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_topic(topic)
    message = str(caught.value)
    assert message.startswith("invalid topic ")
    assert expected in message


def test_error_names_the_topic() -> None:
    with pytest.raises(InvalidArgument, match=r"invalid topic 'orders\.\.eu'"):
        validate_topic("orders..eu")


def test_error_truncates_a_huge_topic() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_topic("x" * 1_000_000)
    message = str(caught.value)
    assert len(message) < 200
    assert "x..." in message
    assert "too long: 1000000 bytes" in message


@pytest.mark.parametrize(
    ("pattern", "segments"),
    [
        ("*", ("*",)),
        ("#", ("#",)),
        ("user.*", ("user", "*")),
        ("*.alert.*", ("*", "alert", "*")),
        ("orders.#", ("orders", "#")),
        ("a.#.b", ("a", "#", "b")),
        ("#.#", ("#", "#")),
        ("#.a.#.*.#", ("#", "a", "#", "*", "#")),
    ],
)
def test_valid_patterns(pattern: str, segments: tuple[str, ...]) -> None:
    assert validate_pattern(pattern) == segments


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("", "empty segment at position 1"),
        ("a.#.", "empty segment at position 3"),
        ("*..#", "empty segment at position 2"),
        ("a*", "segment 1 'a*' mixes '*' with other characters"),
        ("x.#b", "segment 2 '#b' mixes '#' with other characters"),
        ("**", "segment 1 '**' mixes '*'"),
        ("*#", "segment 1 '*#' mixes '*'"),
        ("a.b c", "bad character ' ' in segment 2"),
        ("#" + ".#" * 127 + ".a", f"too long: 257 bytes > {MAX_TOPIC_BYTES}"),
    ],
)
def test_invalid_patterns(pattern: str, expected: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_pattern(pattern)
    message = str(caught.value)
    assert message.startswith("invalid pattern ")
    assert expected in message
