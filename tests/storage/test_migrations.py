"""Packaged migrations on SQLite and PostgreSQL: up, down, up, and equal to the metadata."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessgate.adapters.sqlalchemy.engine import create_engine
from accessgate.adapters.sqlalchemy.migrate import (
    SchemaOutdated,
    current_revision,
    downgrade,
    ensure_schema_current,
    head_revision,
    upgrade,
    upgrade_sql,
)
from accessgate.adapters.sqlalchemy.tables import metadata
from accessgate.domain.model.errors import ErrorCode
from tests.services import unavailable
from tests.storage import helpers as h
from tests.storage.conftest import SQL_BACKENDS

TABLES = {"orders", "accesses", "activation_tokens", "otp_challenges", "payment_events", "outbox"}


@pytest.fixture(params=SQL_BACKENDS)
async def empty_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database: a new SQLite file or a new PostgreSQL schema."""
    if request.param == "sqlite":
        engine = create_engine(h.sqlite_url(tmp_path))
        yield engine
        await engine.dispose()
        return
    name = f"ag_mig_{uuid.uuid4().hex[:12]}"
    try:
        await asyncio.wait_for(h.admin(f'CREATE SCHEMA "{name}"'), 10)
    except Exception as error:
        unavailable("PostgreSQL", error)
    engine = h.pg_engine(name)
    try:
        yield engine
    finally:
        await engine.dispose()
        await h.admin(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


def _diff(conn: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


async def test_empty_head_base_head(empty_engine: AsyncEngine) -> None:
    assert await current_revision(empty_engine) is None
    await upgrade(empty_engine)
    assert await current_revision(empty_engine) == head_revision()
    assert await tables(empty_engine) >= TABLES
    await downgrade(empty_engine, "base")
    assert await current_revision(empty_engine) is None
    assert not TABLES & await tables(empty_engine)
    await upgrade(empty_engine, "head")
    assert await current_revision(empty_engine) == head_revision()


async def test_migrations_build_exactly_the_metadata(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_concurrent_upgrades_run_one_after_the_other(empty_engine: AsyncEngine) -> None:
    await asyncio.gather(*(upgrade(empty_engine) for _ in range(3)))
    assert await current_revision(empty_engine) == head_revision()


async def test_an_outdated_schema_is_refused_with_the_command_that_fixes_it(
    empty_engine: AsyncEngine,
) -> None:
    with pytest.raises(SchemaOutdated) as raised:
        await ensure_schema_current(empty_engine, auto_upgrade=False)
    assert "run `accessgate migrate`" in raised.value.message
    assert raised.value.code is ErrorCode.SERVICE_UNAVAILABLE
    await ensure_schema_current(empty_engine, auto_upgrade=True)
    await ensure_schema_current(empty_engine, auto_upgrade=False)


async def test_by_default_sqlite_is_upgraded_and_postgres_refused(
    empty_engine: AsyncEngine,
) -> None:
    if empty_engine.dialect.name == "sqlite":
        await ensure_schema_current(empty_engine)
        assert await current_revision(empty_engine) == head_revision()
    else:
        with pytest.raises(SchemaOutdated, match="accessgate migrate"):
            await ensure_schema_current(empty_engine)
        assert await current_revision(empty_engine) is None


async def test_a_schema_newer_than_the_code_is_refused(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    async with empty_engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(SchemaOutdated, match="newer"):
        await ensure_schema_current(empty_engine, auto_upgrade=True)


async def test_ensure_schema_current_takes_a_url(tmp_path: Path) -> None:
    url = h.sqlite_url(tmp_path)
    await ensure_schema_current(url)
    assert await current_revision(url) == head_revision()


@pytest.mark.parametrize("url", ["sqlite:///./x.db", "postgresql://user:secret@db.invalid/shop"])
def test_offline_sql_for_a_dba(url: str) -> None:
    sql = upgrade_sql(url)
    assert "CREATE TABLE orders" in sql
    assert "CREATE TABLE outbox" in sql
    assert "alembic_version" in sql
    assert "secret" not in sql
