"""Benchmark databases: create, migrate, fill with orders, check afterwards, drop.

* Pool orders (``unpaid``, waiting for their webhook) are written through the
  storage adapter's own unit of work, 1,000 per transaction.
* History (orders already paid and fulfilled, with their access, payment event,
  token and delivered email) is bulk-loaded: PostgreSQL ``COPY``, SQLite a
  multi-row ``executemany``; a million orders take well under a minute.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text

from accessgate.adapters.sqlalchemy import SqlUnitOfWorkFactory, create_engine
from accessgate.adapters.sqlalchemy.migrate import upgrade
from accessgate.adapters.sqlalchemy.tables import (
    accesses,
    activation_tokens,
    orders,
    outbox,
    payment_events,
)
from accessgate.domain.model.access import Access
from accessgate.domain.model.order import Order
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.values import Locale, Mode, Money, PlanCode

AMOUNT = 1900
CURRENCY = "USD"
BATCH = 1000
FIRST_BOT_USER = 5_000_000_000


@dataclass(frozen=True)
class PoolOrder:
    """An unpaid order and the ids of the event that will pay it."""

    order_id: str
    session_id: str
    event_id: str
    amount: int = AMOUNT
    clickid: str = ""

    @property
    def payment_intent(self) -> str:
        """The PaymentIntent id of the event (unique: later events find orders by it)."""
        return "pi_" + self.order_id.removeprefix("ord_")


def pg_dsn(url: str) -> str:
    """The asyncpg DSN of a ``postgresql+asyncpg://`` URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def recreate(url: str) -> None:
    """Drop and create the database (PostgreSQL) or delete the file (SQLite), then migrate."""
    if url.startswith("sqlite"):
        _remove_sqlite(url)
    else:
        await _pg_admin(url, create=True)
    await upgrade(url)


async def drop(url: str) -> None:
    """Remove what :func:`recreate` made."""
    if url.startswith("sqlite"):
        _remove_sqlite(url)
    else:
        await _pg_admin(url, create=False)


def _remove_sqlite(url: str) -> None:
    path = Path(url.split("///", 1)[1])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _pg_admin(url: str, *, create: bool) -> None:
    base, name = pg_dsn(url).rsplit("/", 1)
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def pool_orders(prefix: str, start: int, count: int) -> list[PoolOrder]:
    """The ids of ``count`` pool orders numbered from ``start``."""
    return [
        PoolOrder(
            order_id=f"ord_{prefix}{n:09d}",
            session_id=f"cs_{prefix}{n:09d}",
            event_id=f"evt_{prefix}{n:09d}",
            clickid=f"clk{prefix}{n}",
        )
        for n in range(start, start + count)
    ]


async def add_pool(url: str, pool: list[PoolOrder]) -> None:
    """Store the pool's orders unpaid, through the adapter's unit of work."""
    engine = create_engine(url, pool_size=1)
    factory = SqlUnitOfWorkFactory(engine)
    now = datetime.now(UTC)
    try:
        for first in range(0, len(pool), BATCH):
            async with factory() as uow:
                for p in pool[first : first + BATCH]:
                    await uow.orders.add(
                        Order(
                            id=p.order_id,
                            mode=Mode.ONE_TIME,
                            plan=PlanCode.ONE_TIME_BASIC,
                            email=f"{p.order_id}@example.com",
                            locale=Locale.EN,
                            provider="stripe",
                            provider_session_id=p.session_id,
                            amount=Money(amount=p.amount, currency=CURRENCY),
                            created_at=now,
                            updated_at=now,
                            clickid=p.clickid or None,
                        )
                    )
                    await uow.accesses.add(
                        Access(
                            order_id=p.order_id,
                            status=AccessStatus.PENDING,
                            changed_at=now,
                            updated_at=now,
                        )
                    )
                await uow.commit()
    finally:
        await factory.dispose()  # the connections it kept, then the engine


def _history(start: int, count: int, active: int) -> Iterator[dict[str, tuple[Any, ...]]]:
    """Rows of fulfilled orders; the first ``active`` are bound to bot users."""
    at = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(start, start + count):
        t = at + timedelta(seconds=n)
        oid = f"ord_h{n:09d}"
        user = FIRST_BOT_USER + n if n < active else None
        status = AccessStatus.ACTIVE if user else AccessStatus.TOKEN_ISSUED
        payload = {"template": "access", "order_id": oid}
        yield {
            "orders": (
                oid, "one_time", "one_time_basic", f"buyer{n}@example.com", "en", "stripe",
                f"cs_h{n:09d}", AMOUNT, CURRENCY, t, t, f"clk{n}", None, "paid", "fulfilled",
                f"cus_h{n}", None, f"pi_h{n:09d}", None, None, None, t,
            ),
            "accesses": (oid, status.value, t, t, user, None, None, False),
            "payment_events": (
                "stripe", f"evt_h{n:09d}", "checkout_completed", oid, t, t, "fulfilled"
            ),
            "activation_tokens": (
                hashlib.sha256(oid.encode()).hexdigest(), oid, f"seed{n}", t,
                t + timedelta(days=30), t if user else None, user, None,
            ),
            "outbox": (
                f"msg_h{n:09d}", "email", f"email:access:{oid}", payload, t, t, 12,
                "delivered", 1, None, None, t,
            ),
        }  # fmt: skip


COLUMNS = {
    "orders": [
        "id", "mode", "plan", "email", "locale", "provider", "provider_session_id", "amount",
        "currency", "created_at", "updated_at", "clickid", "telegram_chat_id",
        "payment_status", "fulfillment_status", "provider_customer_id",
        "provider_subscription_id", "provider_payment_id", "fbclid", "client_ip",
        "user_agent", "paid_at",
    ],
    "accesses": [
        "order_id", "status", "changed_at", "updated_at", "telegram_user_id", "valid_until",
        "grace_until", "cancel_at_period_end",
    ],
    "payment_events": [
        "provider", "event_id", "kind", "order_id", "occurred_at", "received_at", "outcome",
    ],
    "activation_tokens": [
        "token_hash", "order_id", "seed", "created_at", "expires_at", "used_at", "used_by",
        "revoked_at",
    ],
    "outbox": [
        "id", "channel", "dedupe_key", "payload", "created_at", "next_attempt_at",
        "max_attempts", "status", "attempts", "locked_until", "last_error", "delivered_at",
    ],
}  # fmt: skip
TABLES = {
    "orders": orders,
    "accesses": accesses,
    "payment_events": payment_events,
    "activation_tokens": activation_tokens,
    "outbox": outbox,
}
CHUNK = 50_000


async def add_history(url: str, start: int, count: int, active: int = 0) -> None:
    """Bulk-load ``count`` fulfilled orders numbered from ``start`` (COPY on PostgreSQL)."""
    for first in range(start, start + count, CHUNK):
        size = min(CHUNK, start + count - first)
        rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
        for record in _history(first, size, active):
            for name, row in record.items():
                rows[name].append(row)
        if url.startswith("sqlite"):
            await _sqlite_insert(url, rows)
        else:
            await _pg_copy(url, rows)


async def _pg_copy(url: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    conn = await asyncpg.connect(pg_dsn(url))
    try:
        async with conn.transaction():
            for name, records in rows.items():
                if name == "outbox":
                    records = [(*r[:3], json.dumps(r[3]), *r[4:]) for r in records]
                await conn.copy_records_to_table(name, records=records, columns=COLUMNS[name])
    finally:
        await conn.close()


async def _sqlite_insert(url: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            for name, records in rows.items():
                dicts = [dict(zip(COLUMNS[name], r, strict=True)) for r in records]
                await conn.execute(TABLES[name].insert(), dicts)
    finally:
        await engine.dispose()


async def analyze(url: str) -> None:
    """Refresh the planner's statistics (PostgreSQL ``VACUUM ANALYZE``, SQLite ``ANALYZE``).

    On PostgreSQL a ``CHECKPOINT`` follows: a bulk load writes more WAL than
    ``max_wal_size``, and the checkpoint it forces would otherwise land in the
    next measurement (its commits then wait for the disk, whatever the size of
    the tables).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
        finally:
            await engine.dispose()
        return
    conn = await asyncpg.connect(pg_dsn(url))
    try:
        await conn.execute("VACUUM ANALYZE")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


CHECKS = {
    "orders": "SELECT count(*) FROM orders",
    "fulfilled": "SELECT count(*) FROM orders WHERE fulfillment_status = 'fulfilled'",
    "events": "SELECT count(*) FROM payment_events",
    "tokens": "SELECT count(*) FROM activation_tokens",
    "outbox": "SELECT count(*) FROM outbox",
    "orders_with_two_tokens": (
        "SELECT count(*) FROM (SELECT order_id FROM activation_tokens "
        "GROUP BY order_id HAVING count(*) > 1) AS t"
    ),
    "orders_with_two_events": (
        "SELECT count(*) FROM (SELECT order_id FROM payment_events "
        "GROUP BY order_id HAVING count(*) > 1) AS t"
    ),
    "access_not_issued_on_fulfilled": (
        "SELECT count(*) FROM orders o JOIN accesses a ON a.order_id = o.id "
        "WHERE o.fulfillment_status = 'fulfilled' AND a.status = 'pending'"
    ),
}


async def counts(url: str) -> dict[str, int]:
    """The counts of :data:`CHECKS`."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return {
                name: int((await conn.execute(text(sql))).scalar_one())
                for name, sql in CHECKS.items()
            }
    finally:
        await engine.dispose()
