"""Fixtures of the conformance suite: ``env`` (every store: memory, durable, and PostgreSQL on
a fresh database of the session's throwaway cluster) and ``durable_env`` (the stores that
keep state across a restart). The harness itself is ``store_harness``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from store_harness import DURABLE_STORES, STORES, StoreEnv, make_env


async def _opened(kind: str, tmp_path: Path, dsn: str = "") -> AsyncIterator[StoreEnv]:
    e = make_env(kind, tmp_path, dsn)
    await e.open()
    try:
        yield e
    finally:
        await e.store.close()


@pytest.fixture(params=STORES)
async def env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreEnv]:
    dsn = ""
    if request.param.startswith("postgres"):  # a fresh database of the throwaway cluster
        dsn = request.getfixturevalue("postgres_cluster").database()
    async for e in _opened(request.param, tmp_path, dsn):
        yield e


@pytest.fixture(params=DURABLE_STORES)
async def durable_env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreEnv]:
    """For tests of what a restart brings back."""
    async for e in _opened(request.param, tmp_path):
        yield e
