"""SQLite: an update of a locked order or access sets only the columns that changed.

SQLite rewrites the index of every column an ``UPDATE`` sets, changed or not.
Triggers ``AFTER UPDATE OF <column>`` fire exactly for the columns a statement
sets, so they show what was sent; the rows read back show that nothing was lost
when updates of one row follow each other, held together or flushed between.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import text

from accessgate.adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from accessgate.domain.model.order import Order
from accessgate.domain.model.status import AccessStatus, PaymentStatus
from accessgate.ports.unit_of_work import UnitOfWork
from tests.storage import helpers as h

WATCHED = ("orders.email", "orders.payment_status", "orders.paid_at", "accesses.status")


async def _watch(factory: SqlUnitOfWorkFactory) -> None:
    """Log every column in WATCHED that an UPDATE sets."""
    async with factory.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE column_sets (name TEXT NOT NULL)"))
        for watched in WATCHED:
            table, column = watched.split(".")
            await conn.execute(
                text(
                    f"CREATE TRIGGER set_{table}_{column} AFTER UPDATE OF {column} ON {table} "  # noqa: S608
                    f"BEGIN INSERT INTO column_sets (name) VALUES ('{watched}'); END"
                )
            )


async def _columns_set(factory: SqlUnitOfWorkFactory) -> list[str]:
    async with factory.engine.begin() as conn:
        found = [row[0] for row in await conn.execute(text("SELECT name FROM column_sets"))]
        await conn.execute(text("DELETE FROM column_sets"))
    return found


async def _seed(factory: SqlUnitOfWorkFactory) -> None:
    async with factory() as uow:
        await uow.orders.add(h.order(1))
        await uow.accesses.add(h.access("ord_1"))
        await uow.commit()


async def _locked(uow: UnitOfWork) -> Order:
    """The seeded order, locked with its access."""
    order = await uow.orders.get_by_session_id("cs_1", for_update=True)
    assert order is not None
    return order


@pytest.fixture
async def factory(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """A SQLite file with one order and its access."""
    async with h.sql_factory("sqlite", tmp_path=tmp_path, schema=None) as made:
        await _seed(made)
        yield made


async def test_a_locked_rows_update_sets_only_its_changed_columns(
    factory: SqlUnitOfWorkFactory,
) -> None:
    await _watch(factory)
    async with factory() as uow:
        order = await _locked(uow)
        access = await uow.accesses.get("ord_1")
        assert access is not None
        paid = order.with_payment_status(PaymentStatus.PAID, h.T0 + timedelta(hours=1))
        await uow.orders.update(paid)
        await uow.accesses.update(msgspec.structs.replace(access, status=AccessStatus.ACTIVE))
        await uow.commit()
    assert sorted(await _columns_set(factory)) == [
        "accesses.status",
        "orders.paid_at",
        "orders.payment_status",
    ]
    async with factory() as uow:
        stored = await uow.orders.get("ord_1")
        stored_access = await uow.accesses.get("ord_1")
    assert stored == paid
    assert stored_access is not None
    assert stored_access.status is AccessStatus.ACTIVE


async def test_an_update_that_changes_nothing_sends_nothing(factory: SqlUnitOfWorkFactory) -> None:
    await _watch(factory)
    async with factory() as uow:
        order = await _locked(uow)
        await uow.orders.update(order)
        assert not uow.writes  # type: ignore[attr-defined]
        await uow.commit()
    assert await _columns_set(factory) == []


async def test_updates_of_one_row_held_together_set_the_union(
    factory: SqlUnitOfWorkFactory,
) -> None:
    await _watch(factory)
    async with factory() as uow:
        order = await _locked(uow)
        moved = msgspec.structs.replace(order, email="new@example.com")
        await uow.orders.update(moved)
        paid = moved.with_payment_status(PaymentStatus.PAID, h.T0 + timedelta(hours=1))
        await uow.orders.update(paid)  # its own changes: status and paid_at, not email
        await uow.commit()
    assert sorted(await _columns_set(factory)) == [
        "orders.email",
        "orders.paid_at",
        "orders.payment_status",
    ]
    async with factory() as uow:
        assert await uow.orders.get("ord_1") == paid


async def test_a_change_undone_after_a_flush_is_written_back(factory: SqlUnitOfWorkFactory) -> None:
    # The second update is compared with the row as the first one stored it,
    # not as it was loaded: undoing the change must reach the database.
    async with factory() as uow:
        order = await _locked(uow)
        await uow.orders.update(msgspec.structs.replace(order, email="new@example.com"))
        assert await uow.orders.list_by_email("new@example.com")  # a read sends the write
        await uow.orders.update(order)
        await uow.commit()
    async with factory() as uow:
        assert await uow.orders.get("ord_1") == order
        assert await uow.orders.list_by_email("new@example.com") == []


async def test_a_rolled_back_change_is_not_taken_as_stored(factory: SqlUnitOfWorkFactory) -> None:
    # After the rollback the row is unknown again: the same change, made anew
    # without locking, must be written whole.
    async with factory() as uow:
        order = await _locked(uow)
        moved = msgspec.structs.replace(order, email="new@example.com")
        await uow.orders.update(moved)
        await uow.rollback()
        await uow.orders.update(moved)
        await uow.commit()
    async with factory() as uow:
        assert await uow.orders.get("ord_1") == moved
