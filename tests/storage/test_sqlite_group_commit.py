"""Group commit on SQLite: writing units take turns on one connection and share commits.

Each unit runs in its own savepoint and fails alone; the units of a group answer
only once the group's ``COMMIT`` is done, and all of them fail when it fails.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from accessgate.adapters.sqlalchemy import create_engine
from accessgate.adapters.sqlalchemy.sqlite_writer import MAX_MEMBERS, GroupedSqliteSource
from accessgate.adapters.sqlalchemy.statements import Statement
from accessgate.adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from accessgate.domain.model.errors import StorageError
from accessgate.domain.model.payment_event import EventOutcome
from accessgate.domain.model.status import FulfillmentStatus, PaymentStatus
from tests.storage import helpers as h
from tests.storage.group_checks import (
    assert_each_fulfilled_once,
    fulfil_ten_with_two_failing,
    paid_events,
)
from tests.storage.world import World


@asynccontextmanager
async def grouped(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """A factory over a fresh SQLite file, group commit on (the default)."""
    async with h.sql_factory("sqlite", tmp_path=tmp_path, schema=None) as factory:
        yield factory


def writer_of(factory: SqlUnitOfWorkFactory) -> GroupedSqliteSource:
    source = factory.source
    assert isinstance(source, GroupedSqliteSource)
    return source


async def test_concurrent_units_share_commits_and_each_fulfils_once(tmp_path: Path) -> None:
    world = World()
    async with grouped(tmp_path) as factory:
        events = await paid_events(world, factory, 40)
        commits_before = writer_of(factory).groups_finished
        fulfil = world.fulfil(factory)
        # every event twice, all at once: each fulfils once, the other is a duplicate
        outcomes = await asyncio.gather(*(fulfil.execute(e) for e in events + events))
        assert Counter(outcomes) == {EventOutcome.FULFILLED: 40, EventOutcome.DUPLICATE: 40}
        source = writer_of(factory)
        assert 1 < source.largest_group <= MAX_MEMBERS  # they did share commits
        assert source.groups_finished - commits_before < 10
        await assert_each_fulfilled_once(factory, events)


async def test_a_unit_that_fails_rolls_back_alone(tmp_path: Path) -> None:
    async with grouped(tmp_path) as factory:
        # the failed units' records went with them: a corrected delivery applies
        await fulfil_ten_with_two_failing(World(), factory)
        assert writer_of(factory).largest_group > 1


async def test_a_unit_that_read_the_groups_work_answers_after_its_commit(
    tmp_path: Path,
) -> None:
    world = World()
    async with grouped(tmp_path) as factory:
        [event] = await paid_events(world, factory, 1)
        order_id = event.order_id or ""

        async def pays() -> None:
            async with factory() as uow:
                order = await uow.orders.get(order_id, for_update=True)
                assert order is not None
                await uow.orders.update(order.with_payment_status(PaymentStatus.PAID, h.T0))
                await uow.commit()

        async def reads_then_rolls_back() -> tuple[PaymentStatus, PaymentStatus]:
            async with factory() as uow:
                seen = await uow.orders.get(order_id)
                assert seen is not None
            async with factory(read_only=True) as reader:
                committed = await reader.orders.get(order_id)
                assert committed is not None
            return seen.payment_status, committed.payment_status

        _, (seen, committed) = await asyncio.gather(pays(), reads_then_rolls_back())
        # it read the first unit's payment before that was committed, and returned
        # only once it was
        assert seen is PaymentStatus.PAID
        assert committed is PaymentStatus.PAID


async def test_a_failed_commit_fails_every_unit_of_its_group(tmp_path: Path) -> None:
    world = World()
    async with grouped(tmp_path) as factory:
        first, second = await paid_events(world, factory, 2)
        fulfil = world.fulfil(factory)

        async def breaks_the_commit() -> None:
            # A foreign-key violation checked only at COMMIT: the group's COMMIT fails.
            async with factory() as uow:
                connection = await uow.conn()
                await connection.execute(Statement("PRAGMA defer_foreign_keys = ON"), {})
                await uow.accesses.add(h.access("ord_missing"))
                await uow.commit()

        results = await asyncio.gather(
            fulfil.execute(first), breaks_the_commit(), return_exceptions=True
        )
        assert isinstance(results[0], StorageError)
        assert isinstance(results[1], StorageError)
        async with factory(read_only=True) as uow:
            assert await uow.payment_events.get(first.provider, first.event_id) is None
            order = await uow.orders.get(first.order_id or "")
            assert order is not None
            assert order.payment_status is PaymentStatus.UNPAID
        # the writer goes on: the failed delivery and the next one apply
        outcomes = await asyncio.gather(fulfil.execute(first), fulfil.execute(second))
        assert outcomes == [EventOutcome.FULFILLED, EventOutcome.FULFILLED]


async def test_a_unit_cancelled_while_its_group_commits_leaves_the_others_whole(
    tmp_path: Path,
) -> None:
    world = World()
    async with grouped(tmp_path) as factory:
        events = await paid_events(world, factory, 6)
        fulfil = world.fulfil(factory)
        tasks = [asyncio.ensure_future(fulfil.execute(e)) for e in events]
        await asyncio.sleep(0)  # every unit has run and waits for the group's COMMIT
        tasks[2].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[2], asyncio.CancelledError)
        assert [r for i, r in enumerate(results) if i != 2] == [EventOutcome.FULFILLED] * 5
        async with factory(read_only=True) as uow:
            # the cancelled unit had committed its work into the group: it is there
            for event in events:
                order = await uow.orders.get(event.order_id or "")
                assert order is not None
                assert order.fulfillment_status is FulfillmentStatus.FULFILLED


async def test_writers_of_two_processes_fulfil_each_event_once(tmp_path: Path) -> None:
    world = World()
    async with (
        grouped(tmp_path) as first,
        _second_factory(tmp_path) as second,
    ):
        events = await paid_events(world, first, 30)
        outcomes = await asyncio.gather(
            *(world.fulfil(first).execute(e) for e in events),
            *(world.fulfil(second).execute(e) for e in events),
        )
        assert Counter(outcomes) == {EventOutcome.FULFILLED: 30, EventOutcome.DUPLICATE: 30}
        async with first(read_only=True) as uow:
            for event in events:
                assert await uow.tokens.get_current(event.order_id or "") is not None


@asynccontextmanager
async def _second_factory(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """Another factory with its own engine and writer over the same file (as another process)."""
    factory = SqlUnitOfWorkFactory(create_engine(h.sqlite_url(tmp_path), busy_timeout_ms=30_000))
    try:
        assert isinstance(factory.source, GroupedSqliteSource)
        yield factory
    finally:
        await factory.dispose()


async def test_a_committed_duplicate_answers_without_waiting_for_the_writer(
    tmp_path: Path,
) -> None:
    world = World()
    async with grouped(tmp_path) as factory:
        done, busy = await paid_events(world, factory, 2)
        fulfil = world.fulfil(factory)
        assert await fulfil.execute(done) is EventOutcome.FULFILLED
        held, release = asyncio.Event(), asyncio.Event()

        async def holds_the_writer() -> None:
            async with factory() as uow:
                await uow.orders.get(busy.order_id or "", for_update=True)  # takes the turn
                held.set()
                await release.wait()

        holder = asyncio.ensure_future(holds_the_writer())
        await held.wait()
        try:
            # the writer's turn is taken: only a read beside it can answer now
            outcome = await asyncio.wait_for(fulfil.execute(done), 2)
            assert outcome is EventOutcome.DUPLICATE
            # a new event still waits for its turn
            pending = asyncio.ensure_future(fulfil.execute(busy))
            await asyncio.sleep(0.05)
            assert not pending.done()
        finally:
            release.set()
            await holder
        assert await pending is EventOutcome.FULFILLED
        await assert_each_fulfilled_once(factory, [done, busy])
