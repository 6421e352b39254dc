"""``python -m broker``: the same command line as the ``conveyor`` console script."""

from __future__ import annotations

from broker.cli import main

if __name__ == "__main__":
    main(prog_name="conveyor")
