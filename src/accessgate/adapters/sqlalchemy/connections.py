"""The driver connections a unit of work runs on: asyncpg, or sqlite3 on the event loop.

PostgreSQL connections come from the engine's pool (its size, timeouts,
recycling and ``connect_args`` apply) and are used through asyncpg itself,
whose statement cache prepares each statement once per connection.

SQLite connections are the sqlite3 module's own, opened here and used
synchronously on the event loop: with WAL and ``synchronous=NORMAL`` a
statement takes microseconds and a commit writes without waiting for the
disk, so a thread hand-off per statement (aiosqlite) cost far more than the
work. Nothing here ever waits for a lock on the loop: the writer's ``BEGIN
IMMEDIATE`` does not wait for another process's write lock (busy timeout 0)
but sleeps and retries until the busy timeout has passed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from accessgate.adapters.sqlalchemy.errors import is_storage_failure, storage_error
from accessgate.adapters.sqlalchemy.statements import (
    POSTGRESQL,
    SQLITE,
    Row,
    Statement,
    arguments,
    render,
)
from accessgate.domain.model.errors import StorageError


class Connection(Protocol):
    """One driver connection, checked out by one unit of work."""

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """The rows of ``statement`` (decoded)."""
        ...

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:
        """Run ``statement``; the number of rows it changed."""
        ...

    async def begin(self, *, read_only: bool) -> None:
        """Start a unit of work: a writing one begins a transaction at its first statement.

        After ``commit`` or ``rollback`` the next statement begins a new one.
        A read-only unit runs without a transaction: each statement reads its
        own snapshot (READ COMMITTED on PostgreSQL, a WAL snapshot on SQLite).
        """
        ...

    async def commit(self) -> None:
        """Commit the open transaction (nothing if no statement ran since the last)."""
        ...

    async def rollback(self) -> None:
        """Roll the open transaction back (nothing if none is open)."""
        ...


class ConnectionSource(Protocol):
    """Where units of work get their connections."""

    dialect: str

    async def acquire(self, *, read_only: bool) -> Connection:
        """A connection for one unit of work."""
        ...

    async def release(self, connection: Connection) -> None:
        """Give the connection back (rolled back; dropped if it is broken)."""
        ...

    async def dispose(self) -> None:
        """Close every connection."""
        ...


def _rowcount(status: str) -> int:
    """The row count of an asyncpg command status (``UPDATE 1``, ``INSERT 0 1``)."""
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


class PostgresConnection:
    """An asyncpg connection checked out of the engine's pool (until ``return_at``, monotonic)."""

    __slots__ = ("_begin", "_pooled", "_raw", "_return_at", "_writing", "broken")

    def __init__(self, pooled: Any, return_at: float = 0.0) -> None:
        self._pooled = pooled
        self._return_at = return_at
        self._raw: Any = pooled.driver_connection
        self._begin = self._writing = False
        self.broken = False

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """The decoded rows of ``statement``."""
        rendered = render(statement, POSTGRESQL)
        if self._begin:
            await self._start()
        try:
            records = await self._raw.fetch(rendered.text, *arguments(rendered, params, POSTGRESQL))
        except Exception as error:
            raise self._failed(error) from None
        return [rendered.decode(record) for record in records]

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:
        """Run ``statement``; the rows it changed."""
        rendered = render(statement, POSTGRESQL)
        if self._begin:
            await self._start()
        try:
            status = await self._raw.execute(
                rendered.text, *arguments(rendered, params, POSTGRESQL)
            )
        except Exception as error:
            raise self._failed(error) from None
        return _rowcount(status)

    async def begin(self, *, read_only: bool) -> None:
        """A writing unit sends ``BEGIN`` with its first statement."""
        self._begin = self._writing = not read_only

    async def _start(self) -> None:
        await self._simple("BEGIN")
        self._begin = False

    async def commit(self) -> None:
        """``COMMIT``; the next statement begins anew."""
        if self._raw.is_in_transaction():
            await self._simple("COMMIT")
        self._begin = self._writing

    async def rollback(self) -> None:
        """``ROLLBACK`` when a transaction is open."""
        if self._raw.is_in_transaction():
            await self._simple("ROLLBACK")
        self._begin = self._writing

    async def _simple(self, sql: str) -> None:
        try:
            await self._raw.execute(sql)
        except Exception as error:
            raise self._failed(error) from None

    def _failed(self, error: BaseException) -> BaseException:
        if not is_storage_failure(error):
            return error
        if self._raw.is_closed() or isinstance(error, OSError | TimeoutError):
            self.broken = True
        return storage_error(error)

    async def reset(self) -> None:
        """Roll back what is left open; a connection that cannot is marked broken."""
        self._begin = self._writing = False  # the next unit's begin() says what it does
        try:
            if not self.broken and self._raw.is_in_transaction():
                await self._raw.execute("ROLLBACK")
        except BaseException:
            self.broken = True
            raise

    def reusable(self, now: float) -> bool:
        """Whether to keep it for the next unit of work (whole, and not kept too long)."""
        return not self.broken and not self._raw.is_closed() and now < self._return_at

    def give_back(self) -> None:
        """Back to the engine's pool; a broken or closed connection is dropped."""
        if self.broken or self._raw.is_closed():
            self._pooled.invalidate()
        self._pooled.close()


# A connection goes back to the engine's pool after this long, so that the pool's
# recycling of old connections (create_engine's pool_recycle) still applies to it.
KEEP_SECONDS = 60.0


class PostgresSource:
    """asyncpg connections out of an AsyncEngine's pool, kept between units of work.

    Checking a connection out of SQLAlchemy's pool and back in costs about as
    much CPU as a short query (~30-40 us). The source keeps the connections
    its units gave back, up to the pool's size, and hands them to the next
    unit; each goes back to the pool after :data:`KEEP_SECONDS`, and at once
    while a unit of this source waits for the pool.
    """

    dialect = POSTGRESQL

    def __init__(self, engine: AsyncEngine, *, keep_seconds: float = KEEP_SECONDS) -> None:
        self._engine = engine
        self._keep_seconds = keep_seconds
        self._idle: list[PostgresConnection] = []
        size = getattr(engine.pool, "size", None)
        self._keep = size() if callable(size) else 0
        self._waiting = 0  # units waiting for the engine's pool

    async def acquire(self, *, read_only: bool) -> Connection:
        """A kept connection, else one out of the engine's pool."""
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable(time.monotonic()):
                return connection
            connection.give_back()
        self._waiting += 1
        try:
            pooled = await self._engine.raw_connection()
        except Exception as error:
            if is_storage_failure(error):
                raise storage_error(error) from None
            raise
        finally:
            self._waiting -= 1
        return PostgresConnection(pooled, time.monotonic() + self._keep_seconds)

    async def release(self, connection: Connection) -> None:
        """Rolled back and kept, unless broken, kept long enough, or wanted by a waiting unit."""
        assert isinstance(connection, PostgresConnection)
        try:
            await connection.reset()
        finally:
            if (
                not self._waiting
                and len(self._idle) < self._keep
                and connection.reusable(time.monotonic())
            ):
                self._idle.append(connection)
            else:
                connection.give_back()

    async def dispose(self) -> None:
        """Give every kept connection back (the engine closes its pool itself)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.give_back()


_BUSY_RETRY_SECONDS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)


class SqliteConnection:
    """A sqlite3 connection used on the event loop (no thread hand-off)."""

    __slots__ = ("_begin", "_busy_timeout", "_raw", "_writing", "broken")

    def __init__(
        self, raw: sqlite3.Connection, busy_timeout: float, *, writer: bool = False
    ) -> None:
        self._raw = raw
        self._busy_timeout = busy_timeout
        # The writer's every transaction begins with ``BEGIN IMMEDIATE`` (see begin()).
        self._begin = self._writing = writer
        self.broken = False

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """The decoded rows of ``statement``."""
        rendered = render(statement, SQLITE)
        if self._begin:
            await self._start()
        try:
            records = self._raw.execute(rendered.text, arguments(rendered, params, SQLITE))
            return [rendered.decode(record) for record in records.fetchall()]
        except sqlite3.Error as error:
            raise storage_error(error) from None

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:
        """Run ``statement``; the rows it changed."""
        rendered = render(statement, SQLITE)
        if self._begin:
            await self._start()
        try:
            return self._raw.execute(rendered.text, arguments(rendered, params, SQLITE)).rowcount
        except sqlite3.Error as error:
            raise storage_error(error) from None

    async def begin(self, *, read_only: bool) -> None:
        """A writing unit sends ``BEGIN IMMEDIATE`` with its first statement."""
        self._begin = self._writing = not read_only

    async def _start(self) -> None:
        """``BEGIN IMMEDIATE`` (the write lock), waiting off the loop."""
        deadline = time.monotonic() + self._busy_timeout
        attempt = 0
        while True:
            try:
                self._raw.execute("BEGIN IMMEDIATE")
                self._begin = False
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise storage_error(error) from None
            await asyncio.sleep(_BUSY_RETRY_SECONDS[min(attempt, len(_BUSY_RETRY_SECONDS) - 1)])
            attempt += 1

    async def commit(self) -> None:
        """``COMMIT``; the next statement begins anew."""
        self.commit_now()

    async def rollback(self) -> None:
        """``ROLLBACK`` when a transaction is open."""
        self.roll_back_now()

    def commit_now(self) -> None:
        """``COMMIT`` (synchronous: sqlite3 never waits here in WAL mode)."""
        if self._raw.in_transaction:
            self.run_now("COMMIT")
        self._begin = self._writing

    def roll_back_now(self) -> None:
        """``ROLLBACK`` when a transaction is open (synchronous)."""
        if self._raw.in_transaction:
            self.run_now("ROLLBACK")
        self._begin = self._writing

    def run_now(self, sql: str) -> None:
        """Run a statement without parameters or rows (``SAVEPOINT``, ``RELEASE``)."""
        try:
            self._raw.execute(sql)
        except sqlite3.Error as error:
            raise storage_error(error) from None

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        return self._raw.in_transaction

    def lost_transaction(self) -> bool:
        """Whether SQLite rolled back the transaction begun here (after an error).

        The next statement then begins a new one.
        """
        if self._writing and not self._begin and not self._raw.in_transaction:
            self._begin = True
            return True
        return False

    def close(self) -> None:
        """Close the driver connection."""
        self._raw.close()


async def take_turn(gate: asyncio.Semaphore, wait_timeout: float) -> None:
    """Take a turn of ``gate`` (a connection's worth of this process's turns).

    Raises:
        StorageError: no turn came within ``wait_timeout`` seconds.

    """
    if not gate.locked():
        await gate.acquire()  # free: taken at once, nothing to time out
        return
    try:
        async with asyncio.timeout(wait_timeout):
            await gate.acquire()
    except TimeoutError:
        raise StorageError(reason="TimeoutError") from None


def in_memory(database: str) -> bool:
    """Whether a SQLite database name is an in-memory database (private or shared)."""
    return database in ("", ":memory:") or "mode=memory" in database


class SqliteSource:
    """A few sqlite3 connections to one database file (or one shared in-memory database).

    Args:
        database: the file (``:memory:`` for a private in-memory database).
        max_connections: connections kept open (one writes at a time).
        busy_timeout: seconds a writer waits for another process's write lock.
        uri: ``database`` is a ``file:`` URI.

    """

    dialect = SQLITE

    def __init__(
        self, database: str, *, max_connections: int, busy_timeout: float, uri: bool = False
    ) -> None:
        self._database = database
        self._uri = uri
        self._busy_timeout = busy_timeout
        self.memory = in_memory(database)
        self._limit = 1 if self.memory else max(1, max_connections)
        self._idle: list[SqliteConnection] = []
        self._open = 0

    def open_writer(self) -> SqliteConnection:
        """A connection of its own for the writer (see sqlite_writer.py), begun lazily."""
        try:
            return self._connect(writer=True)
        except sqlite3.Error as error:
            raise storage_error(error) from None

    def _connect(self, *, writer: bool = False) -> SqliteConnection:
        raw = sqlite3.connect(
            self._database,
            isolation_level=None,
            check_same_thread=False,
            uri=self._uri,
            timeout=0,
            cached_statements=256,
        )
        try:
            if not self.memory:
                raw.execute("PRAGMA journal_mode = WAL")
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("PRAGMA synchronous = NORMAL")
            # Readers in WAL mode almost never wait; the writer's BEGIN IMMEDIATE
            # retries off the loop instead (busy timeout 0 there, see begin()).
            raw.execute("PRAGMA busy_timeout = 0")
        except BaseException:
            raw.close()
            raise
        return SqliteConnection(raw, self._busy_timeout, writer=writer)

    async def acquire(self, *, read_only: bool) -> Connection:
        """An idle connection, or a new one (the factory's gates bound how many are out)."""
        if self._idle:
            return self._idle.pop()
        try:
            connection = self._connect()
        except sqlite3.Error as error:
            raise storage_error(error) from None
        self._open += 1
        return connection

    async def release(self, connection: Connection) -> None:
        """Roll back what is left and keep the connection (or close a surplus or broken one)."""
        assert isinstance(connection, SqliteConnection)
        try:
            await connection.rollback()
        except StorageError:
            connection.broken = True
        if connection.broken or len(self._idle) >= self._limit:
            connection.close()
            self._open -= 1
        else:
            self._idle.append(connection)

    async def dispose(self) -> None:
        """Close every idle connection."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
            self._open -= 1
