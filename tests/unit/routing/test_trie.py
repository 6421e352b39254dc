"""PatternTrie: matching semantics, removal and pruning, and the match cache.

Like nats-server's sublist tests, every trie test runs twice: with the match cache on and off,
so a stale cache cannot hide behind (or be hidden by) the uncached walk.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.errors import InvalidArgument
from broker.routing import PatternTrie
from broker.routing.trie import _Node

CACHE_SIZES = [0, 4096]


@pytest.fixture(params=CACHE_SIZES, ids=["nocache", "cache"])
def cache_size(request: pytest.FixtureRequest) -> int:
    size: int = request.param
    return size


@pytest.fixture
def trie(cache_size: int) -> PatternTrie[str]:
    return PatternTrie(cache_size=cache_size)


def node_count(trie: PatternTrie[str]) -> int:
    """Nodes below the root; zero once every pattern is removed."""
    count = 0
    stack: list[_Node[str]] = [trie._root]
    while stack:
        node = stack.pop()
        count += len(node.children)
        stack.extend(node.children.values())
    return count


MATCH_CASES = [
    ("user.*", "user.login", True),
    ("user.*", "user.a.b", False),
    ("user.*", "user", False),
    ("*.alert.*", "system.alert.critical", True),
    ("*.alert.*", "alert.critical", False),
    ("*.alert.*", "system.alert", False),
    ("orders.#", "orders", True),
    ("orders.#", "orders.eu", True),
    ("orders.#", "orders.eu.created", True),
    ("orders.#", "ordersx", False),
    ("orders.#", "other.orders", False),
    ("#", "a", True),
    ("#", "a.b.c.d", True),
    ("a.#.b", "a.b", True),
    ("a.#.b", "a.x.b", True),
    ("a.#.b", "a.x.y.b", True),
    ("a.#.b", "a.x.y", False),
    ("a.#.b", "a.b.c", False),
    ("a.#.b", "a.b.b", True),
    ("#.#", "a", True),
    ("#.#", "a.b.c", True),
    ("#.b", "b", True),
    ("#.b", "a.a.b", True),
    ("#.b", "b.a", False),
    ("#.*", "a", True),
    ("*.#", "a.b", True),
    ("#.*.#", "a.b.c", True),
    ("*", "a", True),
    ("*", "a.b", False),
    ("*.*", "a", False),
    ("a.b", "a.b", True),
    ("a.b", "a.B", False),
    ("a.b", "a", False),
    ("a.b", "a.b.c", False),
    ("a", "ab", False),
]


@pytest.mark.parametrize(("pattern", "topic", "matches"), MATCH_CASES)
def test_match_semantics(trie: PatternTrie[str], pattern: str, topic: str, matches: bool) -> None:
    trie.insert(pattern, "v")
    assert trie.match(topic) == (frozenset({"v"}) if matches else frozenset())


def test_match_collects_every_matching_value(trie: PatternTrie[str]) -> None:
    for pattern, value in [
        ("orders.eu.created", "exact"),
        ("orders.*.created", "star"),
        ("orders.#", "tail"),
        ("#", "all"),
        ("#.created", "suffix"),
        ("orders.us.*", "other-region"),
        ("orders.eu", "too-short"),
    ]:
        assert trie.insert(pattern, value)
    assert trie.match("orders.eu.created") == {"exact", "star", "tail", "all", "suffix"}


def test_one_pattern_several_values(trie: PatternTrie[str]) -> None:
    assert trie.insert("a.*", "q1")
    assert trie.insert("a.*", "q2")
    assert trie.match("a.b") == {"q1", "q2"}
    assert len(trie) == 2


def test_insert_duplicate_pair_returns_false(trie: PatternTrie[str]) -> None:
    assert trie.insert("a.#", "q")
    assert not trie.insert("a.#", "q")
    assert len(trie) == 1
    assert list(trie.patterns()) == [("a.#", "q")]


def test_patterns_lists_every_pair(trie: PatternTrie[str]) -> None:
    pairs = {("a", "1"), ("a.b", "2"), ("a.b", "3"), ("#", "4"), ("*.c.#", "5")}
    for pattern, value in pairs:
        trie.insert(pattern, value)
    listed = list(trie.patterns())
    assert len(listed) == len(pairs)
    assert set(listed) == pairs


def test_remove(trie: PatternTrie[str]) -> None:
    trie.insert("a.*", "q1")
    trie.insert("a.*", "q2")
    assert trie.remove("a.*", "q1")
    assert trie.match("a.b") == {"q2"}
    assert len(trie) == 1


@pytest.mark.parametrize(
    ("pattern", "value"),
    [("a.*", "other"), ("a", "q"), ("a.*.c", "q"), ("a.#", "q"), ("z", "q")],
)
def test_remove_absent_returns_false(trie: PatternTrie[str], pattern: str, value: str) -> None:
    trie.insert("a.*", "q")
    before = node_count(trie)
    assert not trie.remove(pattern, value)
    assert len(trie) == 1
    assert node_count(trie) == before
    assert trie.match("a.b") == {"q"}


def test_remove_prunes_only_empty_nodes(trie: PatternTrie[str]) -> None:
    trie.insert("a.b.c.d", "deep")
    trie.insert("a.b", "mid")
    assert node_count(trie) == 4
    assert trie.remove("a.b.c.d", "deep")
    # c and d are gone; a and b stay because "a.b" still has a value.
    assert node_count(trie) == 2
    assert trie.remove("a.b", "mid")
    assert node_count(trie) == 0
    assert len(trie) == 0


def test_remove_keeps_nodes_with_children(trie: PatternTrie[str]) -> None:
    trie.insert("a.b", "parent")
    trie.insert("a.b.c", "child")
    assert trie.remove("a.b", "parent")
    assert node_count(trie) == 3
    assert trie.match("a.b.c") == {"child"}
    assert trie.match("a.b") == frozenset()


def test_insert_and_remove_change_cached_results(trie: PatternTrie[str]) -> None:
    trie.insert("a.b", "exact")
    assert trie.match("a.b") == {"exact"}
    trie.insert("a.*", "star")
    assert trie.match("a.b") == {"exact", "star"}
    trie.remove("a.b", "exact")
    assert trie.match("a.b") == {"star"}
    trie.remove("a.*", "star")
    assert trie.match("a.b") == frozenset()


def test_cache_is_cleared_on_insert_and_remove() -> None:
    trie: PatternTrie[str] = PatternTrie(cache_size=8)
    trie.insert("a.*", "q")
    trie.match("a.b")
    assert "a.b" in trie._cache
    trie.insert("x", "q")
    assert not trie._cache
    trie.match("a.b")
    trie.remove("x", "q")
    assert not trie._cache


def test_cache_is_bounded_lru() -> None:
    trie: PatternTrie[str] = PatternTrie(cache_size=2)
    trie.insert("#", "q")
    trie.match("a")
    trie.match("b")
    trie.match("a")  # "a" is now the most recently used
    trie.match("c")
    assert list(trie._cache) == ["a", "c"]


def test_cache_size_zero_caches_nothing() -> None:
    trie: PatternTrie[str] = PatternTrie(cache_size=0)
    trie.insert("#", "q")
    trie.match("a")
    assert not trie._cache


def test_negative_cache_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="cache_size"):
        PatternTrie(cache_size=-1)


@pytest.mark.parametrize("topic", ["", "a..b", "a.*", "#", "a b"])
def test_match_validates_topic(trie: PatternTrie[str], topic: str) -> None:
    trie.insert("#", "q")
    with pytest.raises(InvalidArgument, match="invalid topic"):
        trie.match(topic)
    # An invalid topic must not end up in the cache and be answered later.
    with pytest.raises(InvalidArgument):
        trie.match(topic)


@pytest.mark.parametrize("pattern", ["", "a.", "a*", "#b", "a b"])
def test_insert_and_remove_validate_pattern(trie: PatternTrie[str], pattern: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid pattern"):
        trie.insert(pattern, "q")
    with pytest.raises(InvalidArgument, match="invalid pattern"):
        trie.remove(pattern, "q")
    assert len(trie) == 0


@pytest.mark.timeout(10)
def test_many_multi_wildcards_are_not_exponential(trie: PatternTrie[str]) -> None:
    # Without memoisation this is C(60, 20)-ish paths; with it, nodes x positions.
    trie.insert(".".join(["#"] * 20 + ["z"]), "q")
    topic = ".".join(["a"] * 60)
    assert trie.match(topic) == frozenset()
    assert trie.match(topic + ".z") == {"q"}


# --- property test against an independent reference matcher -------------------------------

SEGMENTS = st.sampled_from(["a", "b", "c"])
PATTERN_SEGMENTS = st.sampled_from(["a", "b", "c", "*", "#"])
TOPICS = st.lists(SEGMENTS, min_size=1, max_size=6).map(".".join)
PATTERNS = st.lists(PATTERN_SEGMENTS, min_size=1, max_size=5).map(".".join)


def reference_match(pattern: str, topic: str) -> bool:
    """Translate the pattern to a regex over '/seg/seg' so no trie logic is shared."""
    parts = []
    for segment in pattern.split("."):
        if segment == "#":
            parts.append(r"(?:/[^/]+)*")
        elif segment == "*":
            parts.append(r"/[^/]+")
        else:
            parts.append("/" + re.escape(segment))
    return re.fullmatch("".join(parts), "/" + topic.replace(".", "/")) is not None


@pytest.mark.parametrize("size", CACHE_SIZES)
@given(
    patterns=st.lists(PATTERNS, min_size=1, max_size=8),
    topics=st.lists(TOPICS, min_size=1, max_size=8),
)
def test_match_agrees_with_reference(size: int, patterns: list[str], topics: list[str]) -> None:
    trie: PatternTrie[str] = PatternTrie(cache_size=size)
    for pattern in patterns:
        trie.insert(pattern, pattern)
    for topic in topics:
        expected = {p for p in patterns if reference_match(p, topic)}
        assert trie.match(topic) == expected, topic


@pytest.mark.parametrize("size", CACHE_SIZES)
@given(
    pairs=st.lists(st.tuples(PATTERNS, st.sampled_from(["x", "y"])), max_size=12),
    order=st.randoms(use_true_random=False),
)
def test_insert_then_remove_leaves_trie_empty(
    size: int, pairs: list[tuple[str, str]], order: random.Random
) -> None:
    trie: PatternTrie[str] = PatternTrie(cache_size=size)
    for pattern, value in pairs:
        trie.insert(pattern, value)
    unique = list(dict.fromkeys(pairs))
    assert len(trie) == len(unique)
    assert sorted(trie.patterns()) == sorted(unique)
    order.shuffle(unique)
    for pattern, value in unique:
        trie.match("a.b")  # fill the cache between removals
        assert trie.remove(pattern, value)
    assert len(trie) == 0
    assert node_count(trie) == 0
    assert trie.match("a.b") == frozenset()
