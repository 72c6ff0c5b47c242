"""Group commit on PostgreSQL: concurrent payment events share one transaction.

Each event is still recorded and checked on its own; a member that fails before
writing leaves alone; a member that fails after its writes were sent takes the
whole group down with it, and nothing of the group is committed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import text

from accessgate.adapters.sqlalchemy.groups import GroupCommitSource
from accessgate.adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from accessgate.domain.model.errors import StorageError
from accessgate.domain.model.payment_event import EventOutcome, PaymentEvent
from accessgate.domain.model.status import PaymentStatus
from tests.storage import helpers as h
from tests.storage.group_checks import (
    assert_each_fulfilled_once,
    fulfil_ten_with_two_failing,
    paid_events,
)
from tests.storage.world import World

pytestmark = pytest.mark.postgres


@asynccontextmanager
async def grouped(pg_schema: str) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """A factory over the emptied test schema, group commit on (the default)."""
    async with h.sql_factory(
        "postgres", tmp_path=Path(), schema=pg_schema, pool_size=8, max_overflow=0
    ) as factory:
        assert isinstance(factory.source, GroupCommitSource)
        yield factory


async def test_concurrent_events_share_groups_and_each_fulfils_once(pg_schema: str) -> None:
    world = World()
    async with grouped(pg_schema) as factory:
        events = await paid_events(world, factory, 40)
        fulfil = world.fulfil(factory)
        # every event twice, all at once: each fulfils once, the other is a duplicate
        outcomes = await asyncio.gather(*(fulfil.execute(e) for e in events + events))
        assert Counter(outcomes) == {EventOutcome.FULFILLED: 40, EventOutcome.DUPLICATE: 40}
        source = factory.source
        assert isinstance(source, GroupCommitSource)
        assert source.largest_group > 1  # they did share transactions
        assert source.groups_finished < 80
        await assert_each_fulfilled_once(factory, events)


async def test_a_member_that_fails_before_writing_leaves_alone(pg_schema: str) -> None:
    async with grouped(pg_schema) as factory:
        # the failed members' records went with them: a corrected delivery applies
        await fulfil_ten_with_two_failing(World(), factory)
        source = factory.source
        assert isinstance(source, GroupCommitSource)
        assert source.largest_group > 1


async def test_a_member_that_fails_after_writing_fails_its_whole_group(pg_schema: str) -> None:
    world = World()
    async with grouped(pg_schema) as factory:
        first, second = await paid_events(world, factory, 2)
        both_recorded = asyncio.Event()
        recorded = 0

        async def record(event: PaymentEvent) -> None:
            nonlocal recorded
            record = h.event(event.order_id or "", event.event_id, provider=event.provider)
            assert await uow_of[event.event_id].payment_events.add(record)
            recorded += 1
            if recorded == 2:
                both_recorded.set()
            await asyncio.wait_for(both_recorded.wait(), 5)

        uow_of = {e.event_id: factory() for e in (first, second)}

        async def writes_then_fails() -> None:
            async with uow_of[first.event_id] as uow:
                await record(first)
                order = await uow.orders.get(first.order_id or "", for_update=True)
                assert order is not None
                await uow.orders.update(order.with_payment_status(PaymentStatus.PAID, h.T0))
                await uow.tokens.get_current(order.id)  # a read: the update is sent now
                raise RuntimeError("the use case fails after its write went out")

        async def commits() -> None:
            async with uow_of[second.event_id] as uow:
                await record(second)
                order = await uow.orders.get(second.order_id or "", for_update=True)
                assert order is not None
                await uow.orders.update(order.with_payment_status(PaymentStatus.PAID, h.T0))
                await uow.commit()

        results = await asyncio.gather(writes_then_fails(), commits(), return_exceptions=True)
        assert isinstance(results[0], RuntimeError)
        assert isinstance(results[1], StorageError)
        async with factory() as uow:
            for event in (first, second):
                assert await uow.payment_events.get(event.provider, event.event_id) is None
                order = await uow.orders.get(event.order_id or "")
                assert order is not None
                assert order.payment_status is PaymentStatus.UNPAID


async def test_units_cancelled_while_their_records_are_sent_leave_no_record(
    pg_schema: str,
) -> None:
    # Another transaction holds the first event's record uncommitted, so the
    # group's statement recording all six waits for it. Five units are cancelled
    # meanwhile: their records, written when the statement runs, must be deleted
    # with the group, or a redelivery would be taken for a duplicate and the
    # order never fulfilled. The sixth commits; the five fulfil on redelivery.
    world = World()
    async with grouped(pg_schema) as factory:
        events = await paid_events(world, factory, 6)
        fulfil = world.fulfil(factory)
        blocker = events[0]
        async with factory.engine.connect() as other:
            await other.execute(
                text(
                    "INSERT INTO payment_events (provider, event_id, kind, order_id, "
                    "occurred_at, received_at, outcome) VALUES (:p, :e, 'checkout_completed', "
                    ":o, now(), now(), 'fulfilled')"
                ),
                {"p": blocker.provider, "e": blocker.event_id, "o": blocker.order_id},
            )
            tasks = [asyncio.ensure_future(fulfil.execute(e)) for e in events]
            await _until_a_statement_waits_for_a_lock(factory)
            for task in tasks[:5]:
                task.cancel()
            await asyncio.sleep(0.05)
            await other.rollback()
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
        assert all(isinstance(r, asyncio.CancelledError) for r in results[:5])
        assert results[5] is EventOutcome.FULFILLED
        again = await asyncio.gather(*(fulfil.execute(e) for e in events[:5]))
        assert again == [EventOutcome.FULFILLED] * 5
        await assert_each_fulfilled_once(factory, events)


async def _until_a_statement_waits_for_a_lock(factory: SqlUnitOfWorkFactory) -> None:
    """Return once a session of this database waits for a lock (at most 5 s)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with factory.engine.connect() as probe:
        for _ in range(100):
            if (await probe.execute(waiting)).scalar():
                return
            await asyncio.sleep(0.05)
    raise AssertionError("no statement waited for the held record")


async def test_two_events_of_one_order_fulfil_it_once(pg_schema: str) -> None:
    world = World()
    async with grouped(pg_schema) as factory:
        events = await paid_events(world, factory, 10)
        again = [msgspec.structs.replace(e, event_id=e.event_id + "_again") for e in events]
        fulfil = world.fulfil(factory)
        outcomes = await asyncio.gather(*(fulfil.execute(e) for e in events + again))
        assert Counter(outcomes) == {
            EventOutcome.FULFILLED: 10,
            EventOutcome.ALREADY_FULFILLED: 10,
        }
        async with factory() as uow:
            for event in events:
                tokens = await uow.tokens.get_current(event.order_id or "")
                assert tokens is not None


async def test_groups_in_two_processes_never_wait_for_each_other(pg_schema: str) -> None:
    # Group A (one process) holds order 1, group B (another) order 2. A later member
    # of A claims order 2 and a later member of B order 1: if they waited inside their
    # groups, A and B would wait for each other (a deadlock: both groups fail). They
    # are not admitted, leave their groups and wait alone; everything commits.
    world = World()
    async with grouped(pg_schema) as first, _second_factory(pg_schema) as second:
        one, two = await paid_events(world, first, 2)
        go = asyncio.Event()

        async def apply(factory: SqlUnitOfWorkFactory, order_id: str, event_id: str) -> bool:
            async with factory() as uow:
                record = h.event(order_id, event_id, provider=one.provider)
                if not await uow.payment_events.add(record):
                    return False
                order = await uow.orders.get(order_id, for_update=True)
                assert order is not None
                await uow.orders.update(order.with_payment_status(PaymentStatus.PAID, h.T0))
                await go.wait()
                await uow.commit()
                return True

        ids = (one.order_id or "", two.order_id or "")
        holders = [
            asyncio.ensure_future(apply(first, ids[0], "evt_a1")),
            asyncio.ensure_future(apply(second, ids[1], "evt_b1")),
        ]
        await asyncio.sleep(0.2)
        crossing = [
            asyncio.ensure_future(apply(first, ids[1], "evt_a2")),
            asyncio.ensure_future(apply(second, ids[0], "evt_b2")),
        ]
        await asyncio.sleep(0.3)
        go.set()
        results = await asyncio.wait_for(
            asyncio.gather(*holders, *crossing, return_exceptions=True), 20
        )
        assert results == [True, True, True, True]


@asynccontextmanager
async def _second_factory(pg_schema: str) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """Another factory on its own engine over the same schema (not emptied)."""
    factory = SqlUnitOfWorkFactory(h.pg_engine(pg_schema, pool_size=8, max_overflow=0))
    try:
        yield factory
    finally:
        await factory.dispose()
