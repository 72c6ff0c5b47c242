"""PostgresSource: connections kept between units of work, never at a waiting unit's cost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from accessgate.adapters.sqlalchemy.connections import PostgresConnection, PostgresSource
from accessgate.adapters.sqlalchemy.statements import Statement
from tests.storage import helpers as h

pytestmark = pytest.mark.postgres

_BACKEND_PID = Statement("SELECT pg_backend_pid() AS pid", names=("pid",))
_MARK = Statement("SET LOCAL application_name = 'left-open'")
_NAME = Statement("SELECT current_setting('application_name') AS name", names=("name",))


@asynccontextmanager
async def source(pg_schema: str, pool_size: int, **kwargs: float) -> AsyncIterator[PostgresSource]:
    engine = h.pg_engine(pg_schema, pool_size=pool_size, max_overflow=0, pool_timeout=20)
    made = PostgresSource(engine, **kwargs)
    try:
        yield made
    finally:
        await made.dispose()
        await engine.dispose()


async def pid_of(connection: object) -> int:
    assert isinstance(connection, PostgresConnection)
    [row] = await connection.fetch(_BACKEND_PID, {})
    return int(row["pid"])


async def test_the_next_unit_gets_the_connection_back_rolled_back(pg_schema: str) -> None:
    async with source(pg_schema, pool_size=2) as made:
        first = await made.acquire(read_only=False)
        await first.begin(read_only=False)
        pid = await pid_of(first)  # sends BEGIN first: a transaction is open
        assert isinstance(first, PostgresConnection)
        await first.execute(_MARK, {})  # undone with the transaction
        await made.release(first)  # not committed: rolled back
        second = await made.acquire(read_only=True)
        await second.begin(read_only=True)
        assert await pid_of(second) == pid  # the same server connection, kept
        assert isinstance(second, PostgresConnection)
        [row] = await second.fetch(_NAME, {})
        assert row["name"] != "left-open"
        await made.release(second)


async def test_a_connection_kept_long_enough_goes_back_to_the_pool(pg_schema: str) -> None:
    engine = h.pg_engine(pg_schema, pool_size=2, max_overflow=0)
    try:
        for keep_seconds, out_after_release in ((60.0, 1), (0.0, 0)):
            made = PostgresSource(engine, keep_seconds=keep_seconds)
            await made.release(await made.acquire(read_only=True))
            assert engine.pool.checkedout() == out_after_release  # type: ignore[attr-defined]
            await made.dispose()
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_a_unit_waiting_for_the_pool_gets_the_connection_given_back(
    pg_schema: str,
) -> None:
    async with source(pg_schema, pool_size=1) as made:
        first = await made.acquire(read_only=True)
        waiting = asyncio.ensure_future(made.acquire(read_only=True))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # the pool's one connection is out
        await made.release(first)
        # kept for itself, it would leave the waiting unit to the pool's 20 s timeout
        second = await asyncio.wait_for(waiting, 2)
        await made.release(second)
