"""``--auth``: what token auth costs, the same workload with auth on and off in one run.

Each round runs Conveyor twice on fresh servers, alternating which goes first: once with no
auth file (in the "baseline" column), once with an auth file of ``PRINCIPALS`` principals
and every call carrying the bench principal's bearer token (the "conveyor" column). The ratio
column is then auth-on over auth-off. The bench principal's grant is the last in the file,
so a call pays for every digest comparison ``Authority.authenticate`` makes.
"""

from __future__ import annotations

import dataclasses
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from broker.auth import hash_token
from broker.bench.compare import RunFn, ServerSettings, one_run
from broker.bench.plan import Workload
from broker.bench.runner import Figures, Progress

PRINCIPALS = 50
"""Principals in the generated auth file (a realistic file, not a best case of one)."""
NAMES = {"conveyor": "auth on", "baseline": "auth off"}


def auth_file(token: str, principals: int = PRINCIPALS) -> str:
    lines = []
    for i in range(principals - 1):
        lines += [
            "[[principal]]",
            f'name = "service-{i}"',
            f'token_sha256 = "{hash_token(secrets.token_hex(16))}"',
            "[[principal.grant]]",
            'actions = ["send", "receive"]',
            f'queues = ["service-{i}.*"]',
        ]
    lines += [
        "[[principal]]",
        'name = "bench"',
        f'token_sha256 = "{hash_token(token)}"',
        "[[principal.grant]]",
        'actions = ["send", "receive", "admin"]',
        'queues = ["bench*"]',
    ]
    return "\n".join(lines) + "\n"


@contextmanager
def auth_runs(inner: RunFn | None = None) -> Iterator[RunFn]:
    """A run function: ``baseline`` runs Conveyor without auth, ``conveyor`` with it."""
    run = inner or one_run
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-auth-") as folder:
        path = Path(folder) / "auth.toml"
        path.write_text(auth_file(token))

        def run_fn(
            target: str, w: Workload, settings: ServerSettings, number: int, progress: Progress
        ) -> Figures:
            if target == "baseline":
                figures = run("conveyor", w, settings, number, progress)
            else:
                env = {**settings.env, "CONVEYOR_AUTH_FILE": str(path)}
                figures = run(
                    "conveyor",
                    dataclasses.replace(w, token=token),
                    dataclasses.replace(settings, env=env),
                    number,
                    progress,
                )
            figures.target = target
            return figures

        yield run_fn
