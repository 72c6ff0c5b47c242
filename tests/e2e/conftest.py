"""Shared fixtures of the end-to-end tests: one server subprocess, a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.server import Server, running_server
from tests.services import postgres_url, unavailable


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("e2e")) as running:
        yield running


def _asyncpg_url() -> str:
    return postgres_url().replace("postgresql+asyncpg://", "postgresql://")


async def _admin(statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncio.wait_for(asyncpg.connect(_asyncpg_url()), 10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The asyncpg URL of a new, empty (never migrated) PostgreSQL database.

    Skipped without a server (failed when services are required); dropped
    afterwards, even with connections still open.
    """
    import asyncpg

    name = f"ag_e2e_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        unavailable("PostgreSQL", error)
    try:
        yield _asyncpg_url().rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
