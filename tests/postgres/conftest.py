"""Fixtures of the PostgreSQL store's integration tests: a fresh database of the session's
throwaway cluster (``postgres_cluster``, in ``tests/conftest.py``) and three real servers on
it, shared by a module's tests (which use unique queue names)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_helpers import Client, servers
from server_helpers import ServerProcess


@pytest.fixture(scope="module")
def three(
    postgres_cluster: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServerProcess]]:
    store = postgres_cluster.database()  # type: ignore[attr-defined]
    with servers(Path(tmp_path_factory.mktemp("pg-servers")), store) as started:
        yield started


@pytest.fixture
def clients(three: list[ServerProcess]) -> Iterator[list[Client]]:
    made = [Client(s.address) for s in three]
    try:
        yield made
    finally:
        for c in made:
            c.close()
