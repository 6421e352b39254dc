"""Keeping stored messages out of the garbage collector's way.

A stored message is one tracked object, and a server holds millions. CPython's collector
would rescan every one of them: a young collection pauses for as long as the messages
stored since the last one take to traverse (25 ms at 4 KiB and 50,000 messages), and a full
collection - due whenever the long-lived set has grown by a quarter - for all of them (half a
second at 1.5 million). Messages form no reference cycles (the store breaks the one a
fan-out message has with its copies when it ends), so they never need the collector: refcounts
free them.

So: bulk loads run with collection paused (``paused``: recovery builds a million messages,
which a running collector would rescan again and again, doubling the time to ready); young
collections are kept small and frequent (``THRESHOLDS``), and whenever the old
generation has grown past ``FREEZE_AT`` objects, everything in it is frozen (``gc.freeze``,
which is O(1)): moved where no collection looks. The cost is that a reference cycle alive at
that moment and dead later is never collected; gRPC makes a few per call in flight, so each
freeze can leak a few dozen small objects. Freezes happen only while the stored set grows
(about one per ``FREEZE_AT`` messages stored), which bounds that leak by growth, not time.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

THRESHOLDS = (5000, 1, 100)
"""Young collections every 5,000 net allocations (short pauses: a few milliseconds), the
middle generation at every other one (its survivors move on at once), and the oldest at the
interpreter's default rule."""
FREEZE_AT = 200_000
"""Objects in the old generation that trigger a freeze: a full collection over this many
takes about 60 ms, the most a grown backlog may cost before it is frozen."""
CHECK_EVERY = 20
"""Middle-generation collections between two looks at the old generation's size (the look
lists it, so it is not free); each promotes at most about ``THRESHOLDS[0]`` objects."""

_since_check = 0


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    global _since_check
    if phase != "stop" or info["generation"] < 1:
        return
    _since_check += 1
    if _since_check < CHECK_EVERY:
        return
    _since_check = 0
    old = len(gc.get_objects(generation=2))
    if old > FREEZE_AT:
        gc.freeze()
        log.debug("froze %d long-lived objects (%d frozen in all)", old, gc.get_freeze_count())


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside (bulk loads such as recovery, which build millions of
    tracked objects that all survive: collecting them as they come would rescan them again
    and again); what was built is frozen at the end."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()


def install() -> None:
    """Freezes what exists (e.g. what recovery built) and applies the policy from now on."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    if _after_collection not in gc.callbacks:
        gc.callbacks.append(_after_collection)
