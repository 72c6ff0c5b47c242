"""Builders of domain values and storage backends for the storage tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessgate.adapters.sqlalchemy.engine import create_engine
from accessgate.adapters.sqlalchemy.tables import metadata
from accessgate.adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from accessgate.domain.model.access import Access
from accessgate.domain.model.credentials import ActivationToken, OtpChallenge
from accessgate.domain.model.order import Order
from accessgate.domain.model.outbox import Channel, OutboxMessage
from accessgate.domain.model.payment_event import (
    EventOutcome,
    PaymentEventKind,
    PaymentEventRecord,
)
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.values import Locale, Mode, Money, PlanCode
from accessgate.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from tests.services import postgres_url

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
TABLES = "payment_events, activation_tokens, accesses, otp_challenges, outbox, orders"


def order(n: int, *, email: str = "buyer@example.com", at: datetime = T0) -> Order:
    return Order(
        id=f"ord_{n}",
        mode=Mode.ONE_TIME,
        plan=PlanCode.ONE_TIME_BASIC,
        email=email,
        locale=Locale.RU,
        provider="memory",
        provider_session_id=f"cs_{n}",
        amount=Money(amount=1990, currency="USD"),
        created_at=at,
        updated_at=at,
        clickid=f"clk-{n}",
        fbclid="fb.1",
        client_ip="203.0.113.9",
        user_agent="Mozilla/5.0",
    )


def access(order_id: str, *, at: datetime = T0, user: int | None = None) -> Access:
    return Access(
        order_id=order_id,
        status=AccessStatus.PENDING,
        changed_at=at,
        updated_at=at,
        telegram_user_id=user,
        valid_until=at + timedelta(days=30),
        grace_until=at + timedelta(days=33),
        billing_at=at,
    )


def token(order_id: str, n: int, *, at: datetime = T0) -> ActivationToken:
    return ActivationToken(
        token_hash=f"hash-{order_id}-{n}",
        order_id=order_id,
        seed=f"seed-{n}",
        created_at=at,
        expires_at=at + timedelta(days=30),
    )


def otp(email: str, n: int, *, at: datetime = T0) -> OtpChallenge:
    return OtpChallenge(
        id=f"otp_{n}",
        email=email,
        code_hash=f"code-{n}",
        seed=f"seed-{n}",
        created_at=at,
        expires_at=at + timedelta(minutes=10),
        attempts_left=5,
    )


def event(order_id: str, event_id: str, *, provider: str = "memory") -> PaymentEventRecord:
    return PaymentEventRecord(
        provider=provider,
        event_id=event_id,
        kind=PaymentEventKind.CHECKOUT_COMPLETED,
        order_id=order_id,
        occurred_at=T0,
        received_at=T0 + timedelta(seconds=1),
        outcome=EventOutcome.FULFILLED,
    )


def message(n: int, *, at: datetime = T0, channel: Channel = Channel.MOBISLON) -> OutboxMessage:
    return OutboxMessage(
        id=f"msg_{n:06d}",
        channel=channel,
        dedupe_key=f"key-{n}",
        payload={"clickid": f"clk-{n}", "status": "pay_success", "unicode": "привет"},
        created_at=at,
        next_attempt_at=at,
        max_attempts=12,
    )


async def in_unit(
    factory: UnitOfWorkFactory,
    action: Callable[[UnitOfWork], Awaitable[object]],
    *,
    commit: bool = False,
) -> None:
    """Run ``action`` in a new unit of work, committing if asked."""
    async with factory() as uow:
        await action(uow)
        if commit:
            await uow.commit()


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'accessgate.db'}"


def pg_engine(schema: str, **kwargs: Any) -> AsyncEngine:
    """An engine whose connections work in ``schema``."""
    return create_engine(
        postgres_url(), connect_args={"server_settings": {"search_path": schema}}, **kwargs
    )


async def admin(sql: str) -> None:
    """Run one statement on the test server (outside any test schema)."""
    engine = create_engine(postgres_url(), pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def new_schema() -> str:
    """Create a fresh, empty schema on the test server (sync: any event loop)."""
    name = f"ag_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(asyncio.wait_for(admin(f'CREATE SCHEMA "{name}"'), 10))
    return name


def drop_schema(name: str) -> None:
    asyncio.run(admin(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


async def create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


@asynccontextmanager
async def sql_factory(
    backend: str, *, tmp_path: Path, schema: str | None, **kwargs: Any
) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """A factory over a fresh SQLite file or the (emptied) PostgreSQL test schema."""
    serialize = kwargs.pop("serialize_in_process", None)
    connections = kwargs.pop("max_connections", None)
    wait_timeout = kwargs.pop("wait_timeout", 30.0)
    if backend == "sqlite":
        engine = create_engine(sqlite_url(tmp_path), **kwargs)
        await create_tables(engine)
    else:
        assert schema is not None
        engine = pg_engine(schema, **kwargs)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {TABLES} CASCADE"))
    factory = SqlUnitOfWorkFactory(
        engine,
        serialize_in_process=serialize,
        max_connections=connections,
        wait_timeout=wait_timeout,
    )
    try:
        yield factory
    finally:
        await factory.dispose()  # the source's kept connections, then the engine
