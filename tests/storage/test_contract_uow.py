"""The unit-of-work contract, on memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from accessgate.domain.model.errors import StorageError, TokenUsed
from accessgate.domain.model.payment_event import EventOutcome
from accessgate.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from tests.storage import helpers as h


async def test_leaving_without_commit_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(h.order(1))
        assert await uow.orders.get("ord_1") == h.order(1)
    async with uow_factory() as uow:
        assert await uow.orders.get("ord_1") is None


async def test_commit_makes_writes_visible(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(h.order(1))
        await uow.accesses.add(h.access("ord_1"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.orders.get("ord_1") == h.order(1)
        assert await uow.accesses.get("ord_1") == h.access("ord_1")


async def test_an_error_inside_rolls_back_and_propagates(uow_factory: UnitOfWorkFactory) -> None:
    async def fail(uow: UnitOfWork) -> None:
        await uow.orders.add(h.order(1))
        raise TokenUsed()

    with pytest.raises(TokenUsed):
        await h.in_unit(uow_factory, fail)
    async with uow_factory() as uow:
        assert await uow.orders.get("ord_1") is None


async def test_rollback_discards_only_what_follows_the_last_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(h.order(1))
        await uow.commit()
        await uow.orders.add(h.order(2))
        await uow.rollback()
        await uow.orders.update(msgspec.structs.replace(h.order(1), clickid="after"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.orders.get("ord_2") is None
        found = await uow.orders.get("ord_1")
        assert found is not None
        assert found.clickid == "after"


async def test_uncommitted_writes_are_invisible_to_other_units(
    uow_factory: UnitOfWorkFactory,
) -> None:
    written = asyncio.Event()

    async def reader() -> object:
        await written.wait()
        async with uow_factory() as uow:
            return await uow.orders.get("ord_1")

    task = asyncio.create_task(reader())
    async with uow_factory() as uow:
        await uow.orders.add(h.order(1))
        written.set()
        await asyncio.sleep(0.1)  # the reader runs now (PostgreSQL) or waits (serialised)
    assert await task is None


async def test_for_update_serialises_units_that_lock_the_same_row(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(h.order(1))
        await uow.commit()
    locked = asyncio.Event()

    async def second() -> str | None:
        await locked.wait()
        async with uow_factory() as uow:
            found = await uow.orders.get("ord_1", for_update=True)
            return None if found is None else found.clickid

    task = asyncio.create_task(second())
    async with uow_factory() as uow:
        first = await uow.orders.get("ord_1", for_update=True)
        assert first is not None
        locked.set()
        await asyncio.sleep(0.2)
        assert not task.done()  # blocked on the lock, whatever the backend
        await uow.orders.update(msgspec.structs.replace(first, clickid="first"))
        await uow.commit()
    assert await task == "first"


async def test_a_read_only_unit_reads_and_refuses_to_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(h.order(1))
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.orders.get("ord_1") == h.order(1)
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()


async def test_repositories_need_an_open_unit(uow_factory: UnitOfWorkFactory) -> None:
    uow = uow_factory()
    with pytest.raises(RuntimeError):
        await uow.orders.get("ord_1")


async def test_check_answers(uow_factory: UnitOfWorkFactory) -> None:
    await uow_factory.check()


async def test_payment_events_are_unique_per_provider(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(h.order(1))
        assert await uow.payment_events.add(h.event("ord_1", "evt_1"))
        assert not await uow.payment_events.add(h.event("ord_1", "evt_1"))
        assert await uow.payment_events.add(h.event("ord_1", "evt_1", provider="stripe"))
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.payment_events.add(h.event("ord_1", "evt_1"))
        assert await uow.payment_events.get("memory", "evt_1") == h.event("ord_1", "evt_1")
        assert await uow.payment_events.get("memory", "evt_2") is None
        assert await uow.payment_events.get("other", "evt_1") is None


async def test_an_event_record_comes_first_and_is_settled_in_its_unit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # The record is written before its order is looked up, naming whatever order
    # the event claims (no foreign key): an unknown one is rolled back with the unit.
    async with uow_factory() as uow:
        assert await uow.payment_events.add(h.event("ord_unknown", "evt_1"))
        await uow.rollback()
    async with uow_factory() as uow:
        assert await uow.payment_events.get("memory", "evt_1") is None
        await uow.orders.add(h.order(1))
        recorded = h.event("ord_unknown", "evt_1")
        assert await uow.payment_events.add(recorded)
        settled = msgspec.structs.replace(recorded, order_id="ord_1", outcome=EventOutcome.STALE)
        await uow.payment_events.update(settled)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.payment_events.get("memory", "evt_1") == settled


async def test_a_duplicate_add_does_not_spoil_the_unit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(h.order(1))
        await uow.payment_events.add(h.event("ord_1", "evt_1"))
        await uow.outbox.add(h.message(1))
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.payment_events.add(h.event("ord_1", "evt_1"))
        assert not await uow.outbox.add(h.message(1))
        await uow.orders.add(h.order(2))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.orders.get("ord_2") is not None


async def test_duplicate_orders_tokens_and_accesses_are_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.orders.add(h.order(1))
        await uow.accesses.add(h.access("ord_1"))
        await uow.tokens.add(h.token("ord_1", 1))
        await uow.commit()
    same_session = msgspec.structs.replace(h.order(2), provider_session_id="cs_1")
    attempts = [
        lambda uow: uow.orders.add(h.order(1)),
        lambda uow: uow.orders.add(same_session),
        lambda uow: uow.accesses.add(h.access("ord_1")),
        lambda uow: uow.tokens.add(h.token("ord_1", 1)),
    ]
    for attempt in attempts:
        with pytest.raises(StorageError):
            await h.in_unit(uow_factory, attempt, commit=True)
