"""Currencies of up to 8 characters (``XTR``, ``USDT``, ``DOGE``) in every store; migration 0004."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import String, text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessgate.adapters.sqlalchemy.engine import create_engine
from accessgate.adapters.sqlalchemy.migrate import current_revision, downgrade, upgrade
from accessgate.adapters.sqlalchemy.tables import metadata
from accessgate.domain.model.currency import MAX_CURRENCY_LENGTH
from accessgate.domain.model.values import Money
from accessgate.ports.unit_of_work import UnitOfWorkFactory
from tests.services import unavailable
from tests.storage import helpers as h
from tests.storage.conftest import SQL_BACKENDS


@pytest.mark.parametrize("currency", ["XTR", "USDT", "DOGE"])
async def test_an_order_in_stars_or_crypto_is_stored(
    uow_factory: UnitOfWorkFactory, currency: str
) -> None:
    order = msgspec.structs.replace(h.order(1), amount=Money.of(1500, currency))
    await h.in_unit(uow_factory, lambda uow: uow.orders.add(order), commit=True)
    async with uow_factory(read_only=True) as uow:
        stored = await uow.orders.get(order.id)
    assert stored is not None
    assert stored.amount == Money.of(1500, currency)


def test_every_currency_column_holds_the_longest_code() -> None:
    columns = [
        column
        for table in metadata.tables.values()
        for column in table.columns
        if "currency" in column.name
    ]
    assert columns
    for column in columns:
        assert isinstance(column.type, String)
        assert column.type.length == MAX_CURRENCY_LENGTH, column


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
    name = f"ag_cur_{uuid.uuid4().hex[:12]}"
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


INSERT = text(
    "INSERT INTO orders (id, mode, plan, email, locale, provider, provider_session_id, amount,"
    " currency, created_at, updated_at, payment_status, fulfillment_status)"
    " VALUES (:id, 'one_time', 'one_time_basic', 'a@example.com', 'en', 'sandbox', :sid, 1900,"
    " :currency, :at, :at, 'unpaid', 'pending')"
)


async def test_migration_0004_widens_orders_currency_and_keeps_the_rows(
    empty_engine: AsyncEngine,
) -> None:
    await upgrade(empty_engine, "0003")
    async with empty_engine.begin() as conn:
        await conn.execute(
            INSERT, {"id": "ord_old", "sid": "cs_old", "currency": "USD", "at": h.T0}
        )
    await upgrade(empty_engine, "0004")
    assert await current_revision(empty_engine) == "0004"
    async with empty_engine.begin() as conn:
        await conn.execute(
            INSERT, {"id": "ord_new", "sid": "cs_new", "currency": "USDT", "at": h.T0}
        )
        rows = (await conn.execute(text("SELECT id, currency FROM orders ORDER BY id"))).all()
    assert [tuple(row) for row in rows] == [("ord_new", "USDT"), ("ord_old", "USD")]
    async with empty_engine.begin() as conn:
        await conn.execute(text("DELETE FROM orders WHERE id = 'ord_new'"))
    await downgrade(empty_engine, "0003")
    assert await current_revision(empty_engine) == "0003"
