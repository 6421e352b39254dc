"""A trie of pattern segments mapping patterns to values, matched by walking the topic.

Each node is one pattern segment; a node's values are the values inserted under the pattern that
ends there. Matching follows, for each topic segment, the literal child, the ``*`` child and any
``#`` child, so its cost depends on the topic and the trie's shape, never on how many patterns
share a branch. Nodes with no values and no children are pruned, so memory follows the live
patterns.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

from broker.routing.topic import MULTI_WILDCARD, SINGLE_WILDCARD, validate_pattern, validate_topic

V = TypeVar("V", bound=Hashable)

DEFAULT_MATCH_CACHE_SIZE = 4096
"""Topics whose match result is kept. Publishers tend to reuse a small set of topics, so a few
thousand entries catch most sends while bounding memory when topics are unique (ids in names)."""


class _Node(Generic[V]):
    # __slots__: a broker may hold many thousands of nodes; no per-node __dict__.
    __slots__ = ("children", "is_multi", "values")

    def __init__(self, *, is_multi: bool = False) -> None:
        self.children: dict[str, _Node[V]] = {}
        # A dict, not a set, so patterns() lists values in insertion order.
        self.values: dict[V, None] = {}
        # Reached by a '#' edge: this node may also swallow further topic segments.
        self.is_multi = is_multi


class PatternTrie(Generic[V]):
    """Patterns (``orders.#``, ``user.*``) mapped to values, matched against concrete topics.

    Not thread-safe, by design: the broker core runs in one asyncio loop and owns its tries, so
    a lock would only cost time. Callers on other threads must hand work to that loop.
    """

    def __init__(self, cache_size: int = DEFAULT_MATCH_CACHE_SIZE) -> None:
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, got {cache_size}")
        self._root: _Node[V] = _Node()
        self._count = 0
        self._cache_size = cache_size
        # LRU of topic -> result. Only validated topics are ever stored, so a hit skips
        # validation. Cleared whenever the trie changes, since any change may alter any result.
        self._cache: OrderedDict[str, frozenset[V]] = OrderedDict()

    def __len__(self) -> int:
        """Number of (pattern, value) pairs."""
        return self._count

    def insert(self, pattern: str, value: V) -> bool:
        """Add ``value`` under ``pattern``; False if that exact pair was already present."""
        node = self._root
        for segment in validate_pattern(pattern):
            child = node.children.get(segment)
            if child is None:
                child = _Node(is_multi=segment == MULTI_WILDCARD)
                node.children[segment] = child
            node = child
        if value in node.values:
            return False
        node.values[value] = None
        self._count += 1
        self._cache.clear()
        return True

    def remove(self, pattern: str, value: V) -> bool:
        """Remove the pair; False if it was not present. Prunes nodes left empty."""
        path: list[tuple[_Node[V], str]] = []
        node = self._root
        for segment in validate_pattern(pattern):
            child = node.children.get(segment)
            if child is None:
                return False
            path.append((node, segment))
            node = child
        if value not in node.values:
            return False
        del node.values[value]
        self._count -= 1
        self._cache.clear()
        for parent, segment in reversed(path):
            child = parent.children[segment]
            if child.values or child.children:
                break
            del parent.children[segment]
        return True

    def match(self, topic: str) -> frozenset[V]:
        """All values whose pattern matches ``topic``; raises ``InvalidArgument`` if invalid."""
        cached = self._cache.get(topic)
        if cached is not None:
            self._cache.move_to_end(topic)
            return cached
        result = self._match(validate_topic(topic))
        if self._cache_size:
            self._cache[topic] = result
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    def _match(self, segments: tuple[str, ...]) -> frozenset[V]:
        # A state is (node, number of topic segments consumed). Reaching a state twice adds
        # nothing, so each is expanded once: with several '#' the walk is bounded by
        # nodes x (len(topic) + 1) rather than exponential in the number of '#'.
        end = len(segments)
        found: set[V] = set()
        seen: set[tuple[_Node[V], int]] = set()
        stack: list[tuple[_Node[V], int]] = [(self._root, 0)]
        while stack:
            state = stack.pop()
            if state in seen:
                continue
            seen.add(state)
            node, pos = state
            multi = node.children.get(MULTI_WILDCARD)
            if multi is not None:
                stack.append((multi, pos))  # '#' matching zero segments
            if pos == end:
                found.update(node.values)
                continue
            if node.is_multi:
                stack.append((node, pos + 1))  # '#' swallowing one more segment
            literal = node.children.get(segments[pos])
            if literal is not None:
                stack.append((literal, pos + 1))
            single = node.children.get(SINGLE_WILDCARD)
            if single is not None:
                stack.append((single, pos + 1))
        return frozenset(found)

    def patterns(self) -> Iterator[tuple[str, V]]:
        """Every (pattern, value) pair. Do not insert or remove while iterating."""
        stack: list[tuple[_Node[V], tuple[str, ...]]] = [(self._root, ())]
        while stack:
            node, path = stack.pop()
            if node.values:
                pattern = ".".join(path)
                for value in node.values:
                    yield pattern, value
            for segment, child in reversed(node.children.items()):
                stack.append((child, (*path, segment)))
