"""Exactly-once under concurrency, on real databases and separate connections.

SQLite runs with the in-process lock switched off and several engines over
one file, so the database's own write lock (``BEGIN IMMEDIATE``) is what
serialises; PostgreSQL relies on row locks and unique constraints.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from accessgate.adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from accessgate.domain.model.errors import TokenUsed
from accessgate.domain.model.outbox import Channel, OutboxStatus
from accessgate.domain.model.payment_event import EventOutcome
from accessgate.domain.usecases.activate_access import ActivateAccessCommand
from tests.storage import helpers as h
from tests.storage.conftest import SQL_BACKENDS
from tests.storage.world import CODEC, World

pytestmark = pytest.mark.parametrize("backend", SQL_BACKENDS)


@asynccontextmanager
async def factories(
    backend: str, tmp_path: Path, schema: str | None, count: int, pool_size: int
) -> AsyncIterator[list[SqlUnitOfWorkFactory]]:
    """``count`` factories, each over its own engine, on one fresh database."""
    async with AsyncExitStack() as stack:
        made = []
        for _ in range(count):
            factory = await stack.enter_async_context(
                h.sql_factory(
                    backend,
                    tmp_path=tmp_path,
                    schema=schema,
                    pool_size=pool_size,
                    max_overflow=0,
                    busy_timeout_ms=60_000,
                    serialize_in_process=False,
                )
            )
            made.append(factory)
        yield made


async def test_fifty_fulfilments_of_one_event_fulfil_once(
    backend: str, tmp_path: Path, schema: str | None
) -> None:
    world = World()
    async with factories(backend, tmp_path, schema, count=5, pool_size=4) as made:
        event = await world.paid_event(made[0])
        use_cases = [world.fulfil(made[i % len(made)]) for i in range(50)]
        outcomes = await asyncio.gather(*(u.execute(event) for u in use_cases))
        assert Counter(outcomes) == {EventOutcome.FULFILLED: 1, EventOutcome.DUPLICATE: 49}
        async with made[0]() as uow:
            order = await uow.orders.get(event.order_id or "")
            assert order is not None
            assert order.fulfillment_status.value == "fulfilled"
            assert await uow.tokens.get_current(order.id) is not None
            messages = await uow.outbox.list(limit=1000)
            assert sorted(m.channel for m in messages) == sorted(
                [Channel.EMAIL, Channel.MOBISLON, Channel.META]
            )
            record = await uow.payment_events.get(event.provider, event.event_id)
            assert record is not None
            assert record.outcome is EventOutcome.FULFILLED


async def test_twenty_activations_of_one_token_have_one_winner(
    backend: str, tmp_path: Path, schema: str | None
) -> None:
    world = World()
    async with factories(backend, tmp_path, schema, count=4, pool_size=5) as made:
        event = await world.paid_event(made[0])
        await world.fulfil(made[0]).execute(event)
        async with made[0]() as uow:
            current = await uow.tokens.get_current(event.order_id or "")
            assert current is not None
        token = CODEC.activation_token(current.seed)
        users = range(1001, 1021)
        results = await asyncio.gather(
            *(
                world.activate(made[user % len(made)]).execute(
                    ActivateAccessCommand(activation_token=token, telegram_user_id=user)
                )
                for user in users
            ),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        assert len(winners) == 1
        assert all(isinstance(r, TokenUsed) for r in results if isinstance(r, BaseException))
        async with made[0]() as uow:
            access = await uow.accesses.get(event.order_id or "")
            stored = await uow.tokens.get_by_hash(CODEC.hash_token(token))
        assert access is not None
        assert stored is not None
        assert access.telegram_user_id == stored.used_by
        assert stored.used_by in users


async def test_four_workers_deliver_a_thousand_messages_exactly_once(
    backend: str, tmp_path: Path, schema: str | None
) -> None:
    world = World()
    async with factories(backend, tmp_path, schema, count=4, pool_size=2) as made:
        async with made[0]() as uow:
            for n in range(1000):
                channel = Channel.MOBISLON if n % 2 else Channel.META
                await uow.outbox.add(h.message(n, at=world.clock.now(), channel=channel))
            await uow.commit()

        async def worker(index: int) -> int:
            deliver = world.deliver(made[index])
            batches = 0
            for _ in range(200):  # bounded: 1,000 messages need at most 40 batches of 25
                report = await deliver.execute(limit=25)
                if report.claimed == 0:
                    break
                batches += 1
            return batches

        batches = await asyncio.gather(*(worker(i) for i in range(4)))
        delivered = [e.message_id for sink in world.sinks.values() for e in sink.delivered]
        assert len(delivered) == 1000
        assert set(Counter(delivered).values()) == {1}
        assert sum(batches) >= 40  # SKIP LOCKED may hand out short batches
        async with made[0]() as uow:
            left = await uow.outbox.list(OutboxStatus.PENDING, limit=1000)
            done = await uow.outbox.list(OutboxStatus.DELIVERED, limit=1000)
        assert left == []
        assert len(done) == 1000
        assert all(m.attempts == 1 for m in done)
