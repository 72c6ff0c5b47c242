"""Storage backends for the contract and concurrency tests.

PostgreSQL tests run in one schema created for this test run (migrated to
head) and dropped at the end; each test empties its tables first. A missing
server skips them, or fails them when services are required (CI).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from accessgate.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from accessgate.adapters.sqlalchemy.migrate import upgrade
from accessgate.ports.unit_of_work import UnitOfWorkFactory
from tests.relays.conftest import graph, tracker  # noqa: F401 - fixtures of the app tests
from tests.services import unavailable
from tests.storage.helpers import drop_schema, new_schema, pg_engine, sql_factory

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


async def _migrate(schema: str) -> None:
    engine = pg_engine(schema, pool_size=1)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """This run's PostgreSQL schema, at the newest migration."""
    try:
        name = new_schema()
    except Exception as error:
        unavailable("PostgreSQL", error)
        raise
    try:
        asyncio.run(_migrate(name))
        yield name
    finally:
        drop_schema(name)


@pytest.fixture
def schema(request: pytest.FixtureRequest) -> str | None:
    """The PostgreSQL schema when the test runs on PostgreSQL, else ``None``."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and "postgres" in callspec.params.values():
        return str(request.getfixturevalue("pg_schema"))
    return None


@pytest.fixture(params=BACKENDS)
async def uow_factory(
    request: pytest.FixtureRequest, tmp_path: Path, schema: str | None
) -> AsyncIterator[UnitOfWorkFactory]:
    """An empty storage of each kind."""
    if request.param == "memory":
        yield MemoryUnitOfWorkFactory()
        return
    async with sql_factory(request.param, tmp_path=tmp_path, schema=schema) as factory:
        yield factory
