"""A tiny smoke of ``conveyor bench slow-consumers``: it runs, the server refuses sends once
max_memory is reached, streams hold no more than their windows, and the verdict is printed.
(The figures themselves are for people running the full command, not for assertions.)"""

from __future__ import annotations

import re

from click.testing import CliRunner

from broker.cli import main


def test_slow_consumers_smoke() -> None:
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "slow-consumers",
            "--subscriptions",
            "6",
            "--stalled",
            "2",
            "--window",
            "20",
            "--duration",
            "3",
            "--sample",
            "0.5",
            "--max-memory",
            "1MiB",
            "--payload",
            "512",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [
        [int(x.replace(",", "")) for x in (m.group(2), m.group(3), m.group(4), m.group(5))]
        for m in re.finditer(
            r"^\s*([\d.]+)\s+[\d.]+ MiB\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)$",
            result.output,
            re.MULTILINE,
        )
    ]
    assert len(rows) >= 3, result.output
    depth, in_flight, stored, refused = rows[-1]
    assert in_flight <= 6 * 20
    assert depth == stored  # the stalled subscriptions never ack their copies
    assert refused > 0, "1 MiB should have filled within 3 s"
    assert 0 < stored * 512 <= 1024 * 1024
    assert re.search(r"^memory: (BOUNDED|GROWING)", result.output, re.MULTILINE)
