"""The servicer limits the in-process tests run with (small, so they are reachable)."""

MAX_BATCH = 50
MAX_WINDOW = 100
