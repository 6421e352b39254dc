"""``conveyor bench memory``: the server's resident memory per stored message.

One run: a fresh server; once it is idle (``settle_s`` after its ready line) its ``VmRSS`` is
the empty server's; the producers store ``messages`` messages (the publish workload, nothing
consumes them); after ``settle_s`` more its ``VmRSS`` again. Bytes per stored message is the
difference over the messages stored; the peak is ``VmHWM`` (checkpoints taken during the fill
count there). The baseline keeps no message nobody subscribes to: its figures are the floor of
a Python gRPC process, and its fill rate the ceiling of the same publish shape.
"""

from __future__ import annotations

import time

from broker.bench.compare import ServerSettings, start_server
from broker.bench.plan import Workload
from broker.bench.runner import Figures, Progress, run_workload
from broker.bench.server import temp_data_dir

SETTLE_S = 2.0
"""Idle time before each reading: start-up work and a checkpoint in progress are done."""


def memory_run(
    kind: str,
    w: Workload,
    settings: ServerSettings,
    run: int,
    progress: Progress,
    settle_s: float = SETTLE_S,
) -> Figures:
    with temp_data_dir(settings.work_dir) as data_dir:
        server = start_server(kind, data_dir, settings, run)
        try:
            server.start()
            time.sleep(settle_s)
            empty = server.memory()
            figures = run_workload(server, w, progress)
            time.sleep(settle_s)
            full = server.memory()
            server.stop()
        finally:
            server.kill()
    stored = figures.sent
    figures.rss, figures.peak_rss = full.rss, full.peak
    figures.extra.update(
        rss_empty=empty.rss,
        rss_stored=full.rss,
        stored=stored,
        bytes_per_msg=(full.rss - empty.rss) / stored if stored else 0.0,
        bytes_per_msg_above_payload=(full.rss - empty.rss) / stored - w.payload if stored else 0.0,
    )
    return figures
