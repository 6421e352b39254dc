"""Topic routing: topic and pattern validation, and a trie matching topics to patterns.

Pure data structures with no I/O and no gRPC; the delivery layer uses them for bindings and
subscription filters.
"""

from __future__ import annotations

from broker.routing.topic import MAX_TOPIC_BYTES, validate_pattern, validate_topic
from broker.routing.trie import DEFAULT_MATCH_CACHE_SIZE, PatternTrie

__all__ = [
    "DEFAULT_MATCH_CACHE_SIZE",
    "MAX_TOPIC_BYTES",
    "PatternTrie",
    "validate_pattern",
    "validate_topic",
]
