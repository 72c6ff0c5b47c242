"""Read batches (PostgreSQL): read-only look-ups by key that arrive together share a statement.

Each unit still gets exactly its own rows (or none), a failed batch fails each of
its units, and a unit that stops waiting leaves the others their answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from accessgate.adapters.sqlalchemy.read_batches import ReadBatches
from accessgate.adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from accessgate.domain.model.errors import StorageError
from accessgate.domain.model.order import Order
from tests.storage import helpers as h

pytestmark = pytest.mark.postgres


@asynccontextmanager
async def stored(
    tmp_path: Path, pg_schema: str, count: int, **kwargs: float
) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """A PostgreSQL factory holding orders 1..count, each with its access and one token."""
    async with h.sql_factory("postgres", tmp_path=tmp_path, schema=pg_schema, **kwargs) as factory:
        async with factory() as uow:
            for n in range(1, count + 1):
                await uow.orders.add(h.order(n))
                await uow.accesses.add(h.access(f"ord_{n}"))
                await uow.tokens.add(h.token(f"ord_{n}", n))
            await uow.commit()
        yield factory


def batches_of(factory: SqlUnitOfWorkFactory) -> ReadBatches:
    batches = factory.read_batches
    assert batches is not None
    return batches


async def by_session(factory: SqlUnitOfWorkFactory, session_id: str) -> Order | None:
    async with factory(read_only=True) as uow:
        order = await uow.orders.get_by_session_id(session_id)
        if order is not None:  # the access and token came with it
            assert (await uow.accesses.get(order.id)) is not None
            current = await uow.tokens.get_current(order.id)
            assert current is not None
            assert current.token_hash == f"hash-{order.id}-{order.id.removeprefix('ord_')}"
        return order


async def test_lookups_that_arrive_together_share_statements_and_get_their_own_rows(
    tmp_path: Path, pg_schema: str
) -> None:
    async with stored(tmp_path, pg_schema, 40) as factory:
        batches = batches_of(factory)
        # 40 stored, 20 missing, and every stored one asked twice: 100 look-ups at once
        asked = [f"cs_{n}" for n in range(1, 61)] + [f"cs_{n}" for n in range(1, 41)]
        sent_before = batches.batches_sent
        answers = await asyncio.gather(*(by_session(factory, s) for s in asked))
        for session_id, order in zip(asked, answers, strict=True):
            n = int(session_id.removeprefix("cs_"))
            assert order == (h.order(n) if n <= 40 else None)
        sent = batches.batches_sent - sent_before
        assert 1 <= sent <= 10  # not one statement per look-up
        assert batches.largest_batch > 1


async def test_a_failed_batch_fails_each_of_its_units(tmp_path: Path, pg_schema: str) -> None:
    async with stored(tmp_path, pg_schema, 3, max_connections=1, wait_timeout=0.2) as factory:
        async with factory(read_only=True) as holder:
            await holder.conn()  # holds the one turn: the batch cannot get a connection
            results = await asyncio.gather(
                *(by_session(factory, f"cs_{n}") for n in (1, 2, 3)), return_exceptions=True
            )
        assert [type(r) for r in results] == [StorageError] * 3
        # the turn is free again: the next batch answers
        assert await by_session(factory, "cs_2") == h.order(2)


async def test_a_unit_that_stops_waiting_leaves_the_others_their_answers(
    tmp_path: Path, pg_schema: str
) -> None:
    async with stored(tmp_path, pg_schema, 5) as factory:
        tasks = [asyncio.ensure_future(by_session(factory, f"cs_{n}")) for n in range(1, 6)]
        await asyncio.sleep(0)  # every look-up waits in the batch
        tasks[1].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[1], asyncio.CancelledError)
        assert [r for i, r in enumerate(results) if i != 1] == [h.order(n) for n in (1, 3, 4, 5)]


async def test_many_rows_per_key_come_each_to_its_unit_in_order(
    tmp_path: Path, pg_schema: str
) -> None:
    async with h.sql_factory("postgres", tmp_path=tmp_path, schema=pg_schema) as factory:
        expected: dict[int, list[str]] = {}
        async with factory() as uow:
            for user in range(1, 9):
                # three accesses per account; two changed at the same time (order id breaks ties)
                for k, minutes in enumerate((5, 30, 30)):
                    n = user * 10 + k
                    at = h.T0 + timedelta(minutes=minutes)
                    await uow.orders.add(h.order(n))
                    await uow.accesses.add(h.access(f"ord_{n}", at=at, user=user))
                expected[user] = [
                    f"ord_{user * 10 + 2}",
                    f"ord_{user * 10 + 1}",
                    f"ord_{user * 10}",
                ]
            await uow.commit()

        async def of_user(user: int) -> list[str]:
            async with factory(read_only=True) as uow:
                return [a.order_id for a in await uow.accesses.list_by_telegram_user(user)]

        sent_before = batches_of(factory).batches_sent
        answers = await asyncio.gather(*(of_user(u) for u in (*expected, 99)))
        assert answers == [*expected.values(), []]
        assert batches_of(factory).batches_sent - sent_before < len(answers)


async def test_a_unit_holding_a_connection_reads_on_it_rather_than_wait_for_a_batch(
    tmp_path: Path, pg_schema: str
) -> None:
    # One turn in all: a batch would wait for the turn this unit holds.
    async with (
        stored(tmp_path, pg_schema, 2, max_connections=1, wait_timeout=1.0) as factory,
        factory(read_only=True) as uow,
    ):
        assert len(await uow.orders.list_by_email("buyer@example.com")) == 2  # holds the turn
        sent_before = batches_of(factory).batches_sent
        assert await uow.orders.get_by_session_id("cs_2") == h.order(2)
        assert batches_of(factory).batches_sent == sent_before


async def test_closing_ends_the_lookups_still_waiting(tmp_path: Path, pg_schema: str) -> None:
    async with stored(tmp_path, pg_schema, 2) as factory:
        tasks = [asyncio.ensure_future(by_session(factory, f"cs_{n}")) for n in (1, 2)]
        await asyncio.sleep(0)  # both wait for their batch, not sent yet
        batches_of(factory).close()  # as the factory's dispose() does at shutdown
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        assert [type(r) for r in results] == [asyncio.CancelledError] * 2
