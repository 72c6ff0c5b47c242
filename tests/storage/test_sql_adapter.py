"""What only the SQL adapter has: engine settings, time zones, and failures wrapped safely."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import text

from accessgate.adapters.sqlalchemy.engine import create_engine, normalize_url
from accessgate.adapters.sqlalchemy.statements import Statement
from accessgate.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from accessgate.config import load_settings
from accessgate.container import build_storage
from accessgate.domain.model.errors import ErrorCode, StorageError
from accessgate.ports.unit_of_work import UnitOfWork
from tests.storage import helpers as h
from tests.storage.conftest import SQL_BACKENDS


def assert_safe(error: StorageError) -> None:
    """No SQL, values, URL or driver traceback in what a caller sees."""
    text_ = f"{error} {error.details}"
    for leak in ("INSERT", "SELECT", "seed-", "secret", "127.0.0.1", "postgresql"):
        assert leak not in text_
    assert error.code is ErrorCode.SERVICE_UNAVAILABLE
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_urls_get_their_async_driver() -> None:
    assert normalize_url("postgres://u:p@h/db").drivername == "postgresql+asyncpg"
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert normalize_url("sqlite:///./a.db").drivername == "sqlite+aiosqlite"
    assert normalize_url("postgresql+asyncpg://h/db").drivername == "postgresql+asyncpg"


async def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    engine = create_engine(h.sqlite_url(tmp_path), busy_timeout_ms=1234)
    try:
        async with engine.connect() as conn:
            values = [
                (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            ]
    finally:
        await engine.dispose()
    assert values == ["wal", 1, 1234, 1]


async def test_in_memory_sqlite_works(tmp_path: Path) -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    await h.create_tables(engine)
    factory = SqlUnitOfWorkFactory(engine)
    try:
        async with factory() as uow:
            await uow.orders.add(h.order(1))
            await uow.commit()
        async with factory() as uow:
            assert await uow.orders.get("ord_1") == h.order(1)
    finally:
        await engine.dispose()


async def test_sqlite_readers_run_beside_a_writer(tmp_path: Path) -> None:
    async with h.sql_factory("sqlite", tmp_path=tmp_path, schema=None) as factory:
        async with factory() as uow:
            await uow.orders.add(h.order(1))
            await uow.commit()
        async with factory() as writer:
            await writer.orders.update(msgspec.structs.replace(h.order(1), clickid="uncommitted"))
            # The writer holds the in-process slot and SQLite's write lock; a
            # reader neither waits for them nor sees the uncommitted row.
            async with asyncio.timeout(2), factory(read_only=True) as reader:
                assert await reader.orders.get("ord_1") == h.order(1)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_units_past_the_connection_limit_enter_in_arrival_order(
    backend: str, tmp_path: Path, schema: str | None
) -> None:
    entered: list[int] = []

    async def unit(factory: SqlUnitOfWorkFactory, number: int) -> None:
        async with factory(read_only=True) as uow:
            entered.append(number)
            await uow.orders.get("ord_1")
            await asyncio.sleep(0.01)

    async with h.sql_factory(
        backend, tmp_path=tmp_path, schema=schema, max_connections=1, pool_size=2
    ) as factory:
        tasks = []
        for number in range(12):
            tasks.append(asyncio.create_task(unit(factory, number)))
            await asyncio.sleep(0)  # arrival order is creation order
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks)
    assert entered == list(range(12))


async def test_a_unit_that_waits_too_long_for_its_turn_is_service_unavailable(
    tmp_path: Path,
) -> None:
    engine = create_engine(h.sqlite_url(tmp_path))
    await h.create_tables(engine)
    factory = SqlUnitOfWorkFactory(engine, wait_timeout=0.2)
    try:
        async with factory() as first:
            await first.orders.get("ord_1")  # the first statement takes the turn
            with pytest.raises(StorageError) as caught:
                async with factory() as second:
                    await second.orders.get("ord_1")
        assert_safe(caught.value)
        async with factory() as uow:  # the slot was given back
            assert await uow.orders.get("ord_1") is None
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_times_come_back_aware_utc(backend: str, tmp_path: Path, schema: str | None) -> None:
    moscow = timezone(timedelta(hours=3))
    local = h.T0.astimezone(moscow)
    async with h.sql_factory(backend, tmp_path=tmp_path, schema=schema) as factory:
        async with factory() as uow:
            await uow.orders.add(msgspec.structs.replace(h.order(1), created_at=local))
            await uow.commit()
        async with factory() as uow:
            found = await uow.orders.get("ord_1")
        assert found is not None
        assert found.created_at == h.T0
        assert found.created_at.utcoffset() == timedelta(0)
        naive = msgspec.structs.replace(h.order(2), created_at=datetime(2026, 1, 1))
        with pytest.raises(StorageError):
            await h.in_unit(factory, lambda uow: uow.orders.add(naive), commit=True)


@pytest.mark.postgres
async def test_rows_sent_together_keep_their_times_and_refuse_naive_ones(pg_schema: str) -> None:
    # On PostgreSQL the held inserts of one table go as one JSON recordset:
    # an offset must survive it, and a time without a zone must not pass.
    moscow = timezone(timedelta(hours=3))
    local = h.T0.astimezone(moscow)
    async with h.sql_factory("postgres", tmp_path=Path(), schema=pg_schema) as factory:
        async with factory() as uow:
            for n in (1, 2):
                await uow.orders.add(msgspec.structs.replace(h.order(n), created_at=local))
            await uow.commit()
        async with factory() as uow:
            for order_id in ("ord_1", "ord_2"):
                found = await uow.orders.get(order_id)
                assert found is not None
                assert found.created_at == h.T0
        naive = msgspec.structs.replace(h.order(4), created_at=datetime(2026, 1, 1))

        async def add_two(uow: UnitOfWork) -> None:
            await uow.orders.add(h.order(3))
            await uow.orders.add(naive)

        with pytest.raises(StorageError) as caught:
            await h.in_unit(factory, add_two, commit=True)
        assert caught.value.details == {"reason": "NaiveDatetime"}
        async with factory() as uow:
            assert await uow.orders.get("ord_3") is None


async def test_sqlite_times_written_elsewhere_are_read_as_they_mean(tmp_path: Path) -> None:
    # Texts without microseconds, or with an offset of their own (written by hand
    # or by another tool), come back as the same instant, aware and UTC.
    async with h.sql_factory("sqlite", tmp_path=tmp_path, schema=None) as factory:
        await h.in_unit(factory, lambda uow: uow.orders.add(h.order(1)), commit=True)
        await h.in_unit(factory, lambda uow: uow.orders.add(h.order(2)), commit=True)
        set_time = Statement("UPDATE orders SET created_at = :at WHERE id = :id")
        async with factory() as uow:
            connection = await uow.conn()
            await connection.execute(set_time, {"at": "2026-01-01 03:00:00+03:00", "id": "ord_1"})
            await connection.execute(set_time, {"at": "2026-01-01 00:00:00", "id": "ord_2"})
            await uow.commit()
        async with factory(read_only=True) as uow:
            for order_id in ("ord_1", "ord_2"):
                found = await uow.orders.get(order_id)
                assert found is not None
                assert found.created_at == datetime(2026, 1, 1, tzinfo=UTC)
                assert found.created_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_constraint_violations_are_storage_errors_without_sql(
    backend: str, tmp_path: Path, schema: str | None
) -> None:
    async with h.sql_factory(backend, tmp_path=tmp_path, schema=schema) as factory:
        await h.in_unit(factory, lambda uow: uow.orders.add(h.order(1)), commit=True)
        with pytest.raises(StorageError) as raised:
            await h.in_unit(factory, lambda uow: uow.orders.add(h.order(1)), commit=True)
        assert_safe(raised.value)
        with pytest.raises(StorageError) as raised:  # foreign key: no such order
            await h.in_unit(factory, lambda uow: uow.tokens.add(h.token("ord_9", 1)), commit=True)
        assert_safe(raised.value)


async def test_an_unreachable_server_is_service_unavailable() -> None:
    engine = create_engine(
        "postgresql+asyncpg://postgres:secret@127.0.0.1:1/test", connect_args={"timeout": 2}
    )
    factory = SqlUnitOfWorkFactory(engine, check_timeout=5)
    try:
        with pytest.raises(StorageError) as raised:
            await factory.check()
        assert_safe(raised.value)
        with pytest.raises(StorageError) as raised:
            await h.in_unit(factory, lambda uow: uow.orders.get("ord_1"))
        assert_safe(raised.value)
    finally:
        await engine.dispose()


async def test_an_unopenable_sqlite_file_is_service_unavailable(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db")
    try:
        with pytest.raises(StorageError) as raised:
            await SqlUnitOfWorkFactory(engine).check()
        assert_safe(raised.value)
        # aiosqlite stops its worker thread without waiting after a failed connect;
        # let it finish while this test's event loop still runs.
        await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_lost_connection_is_service_unavailable_and_recovers(pg_schema: str) -> None:
    async with h.sql_factory("postgres", tmp_path=Path(), schema=pg_schema) as factory:

        async def lose_connection(uow: UnitOfWork) -> None:
            assert isinstance(uow, SqlUnitOfWork)
            found = await (await uow.conn()).fetch(
                Statement("SELECT pg_backend_pid()", names=("pid",)), {}
            )
            await h.admin(f"SELECT pg_terminate_backend({int(found[0]['pid'])})")
            await asyncio.sleep(0.1)
            await uow.orders.get("ord_1")

        with pytest.raises(StorageError) as raised:
            await h.in_unit(factory, lose_connection)
        assert_safe(raised.value)
        await factory.check()  # the pool dropped the dead connection
        await h.in_unit(factory, lambda uow: uow.orders.add(h.order(1)), commit=True)


async def test_a_sqlite_file_gets_at_most_four_connections(tmp_path: Path) -> None:
    settings = load_settings({"DATABASE_URL": h.sqlite_url(tmp_path), "DATABASE_POOL_SIZE": "10"})
    factory = build_storage(settings)
    assert isinstance(factory, SqlUnitOfWorkFactory)
    try:
        pool = factory.engine.pool
        assert pool.size() == 4  # type: ignore[attr-defined]
        assert pool._max_overflow == 0  # type: ignore[attr-defined]
    finally:
        await factory.dispose()


async def test_the_sqlite_wal_file_stays_small_under_many_commits(tmp_path: Path) -> None:
    # Every commit appends the pages it changed to the WAL; checkpoints must let
    # SQLite start the file over, or it grows with every write for ever.
    async with h.sql_factory("sqlite", tmp_path=tmp_path, schema=None) as factory:
        for number in range(1, 2001):
            await h.in_unit(factory, lambda uow, n=number: uow.orders.add(h.order(n)), commit=True)
    wal = tmp_path / "accessgate.db-wal"
    size = wal.stat().st_size if wal.exists() else 0
    assert size < 8 * 1024 * 1024  # SQLite's own checkpoint every 1,000 pages: ~4 MB
