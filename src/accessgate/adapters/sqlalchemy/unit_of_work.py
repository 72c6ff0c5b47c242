"""SqlUnitOfWork: one database transaction over every repository."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from accessgate.adapters.sqlalchemy.errors import guarded, is_storage_failure, storage_error
from accessgate.adapters.sqlalchemy.outbox import SqlOutboxRepository
from accessgate.adapters.sqlalchemy.repositories import (
    SqlAccessRepository,
    SqlOrderRepository,
    SqlOtpRepository,
    SqlPaymentEventRepository,
    SqlTokenRepository,
)


class SqlUnitOfWork:
    """One transaction on one pooled connection; rolled back unless committed.

    Args:
        engine: the AsyncEngine (from :func:`create_engine`).
        lock: an in-process lock held for the whole unit of work (SQLite), or ``None``.

    """

    def __init__(self, engine: AsyncEngine, lock: asyncio.Lock | None = None) -> None:
        self._engine = engine
        self._lock = lock
        self._conn: AsyncConnection | None = None
        self.orders = SqlOrderRepository(self)
        self.accesses = SqlAccessRepository(self)
        self.tokens = SqlTokenRepository(self)
        self.otps = SqlOtpRepository(self)
        self.payment_events = SqlPaymentEventRepository(self)
        self.outbox = SqlOutboxRepository(self)

    @property
    def connection(self) -> AsyncConnection:
        """The connection of the open transaction; only inside ``async with``."""
        if self._conn is None:
            raise RuntimeError("use the unit of work inside 'async with'")
        return self._conn

    async def __aenter__(self) -> Self:
        """Check out a connection and begin (``BEGIN IMMEDIATE`` on SQLite)."""
        if self._lock is not None:
            await self._lock.acquire()
        try:
            async with guarded():
                self._conn = await self._engine.connect()
                await self._conn.begin()
        except BaseException:
            await self._release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed and return the connection."""
        try:
            await self._release()
        except Exception as error:
            # A failure while cleaning up after another error must not hide it.
            if exc is None:
                if is_storage_failure(error):
                    raise storage_error(error) from None
                raise

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                try:
                    if conn.in_transaction():
                        await conn.rollback()
                finally:
                    await conn.close()
        finally:
            if self._lock is not None and self._lock.locked():
                self._lock.release()

    async def commit(self) -> None:
        """Make every write durable and visible; later writes start a new transaction."""
        async with guarded():
            await self.connection.commit()

    async def rollback(self) -> None:
        """Discard every write since the last commit."""
        async with guarded():
            await self.connection.rollback()


class SqlUnitOfWorkFactory:
    """Makes units of work over one AsyncEngine.

    Args:
        engine: the AsyncEngine (from :func:`create_engine`).
        serialize_in_process: queue this process's units of work on an asyncio lock
            before they ask the database for its write lock. ``None`` (default): on
            SQLite only, where one writer runs at a time anyway and waiting on the
            lock beats polling the busy timeout. Correctness never depends on it.
        check_timeout: seconds ``check`` waits for the database.

    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        serialize_in_process: bool | None = None,
        check_timeout: float = 5.0,
    ) -> None:
        self.engine = engine
        if serialize_in_process is None:
            serialize_in_process = engine.dialect.name == "sqlite"
        self._lock = asyncio.Lock() if serialize_in_process else None
        self._check_timeout = check_timeout

    def __call__(self) -> SqlUnitOfWork:
        """A new, not yet entered unit of work."""
        return SqlUnitOfWork(self.engine, self._lock)

    async def check(self) -> None:
        """Run ``SELECT 1``; raise StorageError unless the database answers in time."""
        async with guarded():
            async with asyncio.timeout(self._check_timeout):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection (at shutdown)."""
        await self.engine.dispose()
