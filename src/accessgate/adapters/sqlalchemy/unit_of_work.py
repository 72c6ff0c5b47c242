"""SqlUnitOfWork: one database transaction over every repository."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncEngine

from accessgate.adapters.sqlalchemy.connections import (
    Connection,
    ConnectionSource,
    PostgresSource,
    SqliteSource,
    in_memory,
    take_turn,
)
from accessgate.adapters.sqlalchemy.engine import SQLITE_MAX_CONNECTIONS, sqlite_target
from accessgate.adapters.sqlalchemy.errors import guarded
from accessgate.adapters.sqlalchemy.groups import GroupCommitSource, GroupMember
from accessgate.adapters.sqlalchemy.locked import LockedRows, ReadAhead
from accessgate.adapters.sqlalchemy.outbox import SqlOutboxRepository
from accessgate.adapters.sqlalchemy.read_batches import BatchedRead, ReadBatches
from accessgate.adapters.sqlalchemy.repositories import (
    SqlAccessRepository,
    SqlOrderRepository,
    SqlOtpRepository,
    SqlPaymentEventRepository,
    SqlTokenRepository,
)
from accessgate.adapters.sqlalchemy.sqlite_writer import GroupedSqliteSource
from accessgate.adapters.sqlalchemy.statements import POSTGRESQL, Row, Statement
from accessgate.adapters.sqlalchemy.writes import PendingWrites
from accessgate.domain.model.events import DomainEvent
from accessgate.ports.unit_of_work import Subscribers


class SqlUnitOfWork:
    """One transaction on one driver connection; rolled back unless committed.

    Args:
        source: where the connection comes from (see connections.py).
        gate: an in-process semaphore held for the whole unit of work, or ``None``.
        read_only: only reads: no transaction and no write lock, ``commit`` refused.
        wait_timeout: seconds to wait for the gate, then ``StorageError``.
        subscribers: who hears the domain events recorded here (before each commit).
        batches: where a read-only unit's look-ups by key join others (PostgreSQL).

    """

    def __init__(
        self,
        source: ConnectionSource,
        gate: asyncio.Semaphore | None = None,
        *,
        read_only: bool = False,
        wait_timeout: float = 30.0,
        subscribers: Subscribers | None = None,
        batches: ReadBatches | None = None,
    ) -> None:
        self._source = source
        self._batches = batches if read_only else None
        self._subscribers = subscribers or Subscribers()
        self._events: list[DomainEvent] = []
        self._gate = gate
        self._wait_timeout = wait_timeout
        self._read_only = read_only
        self._held = False
        self._entered = False
        self._conn: Connection | None = None
        self.writes = PendingWrites()
        # SQLite rewrites the index of every column an UPDATE sets: set only what changed.
        self.locked = LockedRows(keep_rows=source.dialect != POSTGRESQL)
        self.read_ahead = ReadAhead()
        self.orders = SqlOrderRepository(self)
        self.accesses = SqlAccessRepository(self)
        self.tokens = SqlTokenRepository(self)
        self.otps = SqlOtpRepository(self)
        self.payment_events = SqlPaymentEventRepository(self)
        self.outbox = SqlOutboxRepository(self)

    async def conn(self) -> Connection:
        """The driver connection, taken at the unit's first statement; only inside ``async with``."""
        if not self._entered:
            raise RuntimeError("use the unit of work inside 'async with'")
        if self._conn is None:
            await self._take_turn()
            connection = await self._source.acquire(read_only=self._read_only)
            self._conn = connection
            await connection.begin(read_only=self._read_only)
        return self._conn

    async def _take_turn(self) -> None:
        """Wait for the gate (a connection's worth of this process's turns)."""
        if self._gate is not None and not self._held:
            await take_turn(self._gate, self._wait_timeout)
            self._held = True

    def _give_turn(self) -> None:
        if self._gate is not None and self._held:
            self._held = False
            self._gate.release()

    @property
    def read_only(self) -> bool:
        """Whether the unit only reads."""
        return self._read_only

    @property
    def dialect(self) -> str:
        """``postgresql`` or ``sqlite``."""
        return self._source.dialect

    def can_group(self) -> bool:
        """Whether the unit may still join a commit group (PostgreSQL, nothing run yet)."""
        return (
            isinstance(self._source, GroupCommitSource)
            and self._conn is None
            and not self._read_only
            and not self.writes
        )

    async def read_by_key(self, read: BatchedRead, key: Any) -> list[Row]:
        """The rows of ``read`` for ``key``; a read-only unit on PostgreSQL shares a batch.

        Not a unit that holds a connection already: it reads on its own, rather
        than hold a turn while its batch waits for one.
        """
        if self._batches is not None and self._conn is None:
            return await self._batches.fetch(read, key)
        await self.flush()
        return await (await self.conn()).fetch(read.single, {read.key: key})

    async def read_committed(
        self, statement: Statement, params: Mapping[str, Any]
    ) -> list[Row] | None:
        """Rows of ``statement`` as last committed, read beside this unit; ``None`` if not offered.

        Offered to a SQLite writing unit that has run nothing yet: the read takes
        no turn on the writer, so a unit that only needs to know whether
        something is committed (a duplicate delivery) never waits for one.
        """
        if isinstance(self._source, GroupedSqliteSource) and self._conn is None:
            return await self._source.read_committed(statement, params)
        return None

    async def join_group(self, key: tuple[str, str], order_id: str) -> GroupMember:
        """Run this unit in a commit group; its first statement records event ``key``."""
        assert isinstance(self._source, GroupCommitSource)
        member = await self._source.join(key, order_id, self._gate, self._wait_timeout)
        self._conn = member
        return member

    async def leave_group(self) -> None:
        """Leave the commit group joined (before anything of this unit was written)."""
        member, self._conn = self._conn, None
        assert isinstance(member, GroupMember)
        await member.leave()

    def claim(self, order_id: str) -> None:
        """This unit locked ``order_id`` (a group member fails if another member holds it)."""
        if isinstance(self._conn, GroupMember):
            self._conn.claim(order_id)

    async def flush(self) -> None:
        """Send the held writes (before a read, an answered write and the commit)."""
        if self.writes:
            connection = await self.conn()
            if isinstance(connection, GroupMember):
                connection.wrote = True
            await self.writes.flush(connection, self._source.dialect)

    def record(self, event: DomainEvent) -> None:
        """Note an event; ``commit`` dispatches it to the subscribers first."""
        if not self._entered:
            raise RuntimeError("use the unit of work inside 'async with'")
        self._events.append(event)

    async def __aenter__(self) -> Self:
        """Enter; the first statement takes a turn, a connection, and begins the transaction.

        A unit that joins a commit group takes no turn of its own: the group took
        one for its connection.
        """
        self._entered = True
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
        except Exception:
            # A failure while cleaning up after another error must not hide it.
            if exc is None:
                raise

    async def _release(self) -> None:
        self._entered = False
        self._events = []
        self.writes.discard()
        self.locked.forget()
        self.read_ahead.forget()
        conn, self._conn = self._conn, None
        try:
            if isinstance(conn, GroupMember):
                await conn.leave()
            elif conn is not None:
                await self._source.release(conn)
        finally:
            self._give_turn()

    async def commit(self) -> None:
        """Make every write durable and visible; later writes start a new transaction."""
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self._subscribers.dispatch(self, self._events)
        if isinstance(self._conn, GroupMember):
            member, self._conn = self._conn, None
            writes = self.writes.take()
            self.locked.forget()
            await member.commit_with(writes)
            return
        await self.flush()
        self.locked.forget()
        if self._conn is not None:
            await self._conn.commit()

    async def rollback(self) -> None:
        """Discard every write and every recorded event since the last commit."""
        self._events = []
        self.writes.discard()
        self.locked.forget()
        if isinstance(self._conn, GroupMember):
            member, self._conn = self._conn, None
            await member.leave()
        elif self._conn is not None:
            await self._conn.rollback()


class SqlUnitOfWorkFactory:
    """Makes units of work over one AsyncEngine.

    Args:
        engine: the AsyncEngine (from :func:`create_engine`).
        serialize_in_process: queue this process's writing units of work on one
            in-process slot before they ask the database for its write lock.
            ``None`` (default): on SQLite only, where one writer runs at a time
            anyway and a queue beats polling the busy timeout. Read-only units
            of work skip it. Correctness never depends on it.
        max_connections: at most this many units of work hold a connection at
            once; the rest wait in arrival order. Give the pool's size plus its
            overflow: the pool's own queue is not first come, first served, and
            under load a few requests would wait far longer than the others.
        wait_timeout: seconds a unit of work waits for its turn before it fails
            with ``StorageError`` (SERVICE_UNAVAILABLE), like the pool's timeout.
        check_timeout: seconds ``check`` waits for the database.
        subscribers: who hears the domain events its units of work record.
        group_commit: units of work that arrive together share one transaction
            and one ``COMMIT``: on PostgreSQL those recording payment events
            (groups.py), on a SQLite file every writing one (sqlite_writer.py;
            not with ``serialize_in_process=False``).

    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        serialize_in_process: bool | None = None,
        max_connections: int | None = None,
        wait_timeout: float = 30.0,
        check_timeout: float = 5.0,
        subscribers: Subscribers | None = None,
        group_commit: bool = True,
    ) -> None:
        self._wait_timeout = wait_timeout
        self.engine = engine
        self.subscribers = subscribers or Subscribers()
        sqlite = engine.dialect.name == "sqlite"
        if serialize_in_process is None:
            serialize_in_process = sqlite
        self.source = _source(
            engine,
            max_connections,
            group_commit and (serialize_in_process or not sqlite),
            wait_timeout,
        )
        self._connections = asyncio.Semaphore(max_connections) if max_connections else None
        self._writers = self._connections
        self._batches = (
            ReadBatches(self.source, self._connections, wait_timeout)
            if group_commit and not sqlite
            else None
        )
        if serialize_in_process:
            self._writers = asyncio.Semaphore(1)
        if isinstance(self.source, GroupedSqliteSource):
            self._writers = None  # the writer's own turns queue them
        elif isinstance(self.source, SqliteSource) and self.source.memory:
            # One connection holds the in-memory database: every unit takes turns on it.
            self._writers = self._connections = asyncio.Semaphore(1)
        self._check_timeout = check_timeout

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """A new, not yet entered unit of work."""
        gate = self._connections if read_only else self._writers
        return SqlUnitOfWork(
            self.source,
            gate,
            read_only=read_only,
            wait_timeout=self._wait_timeout,
            subscribers=self.subscribers,
            batches=self._batches,
        )

    @property
    def read_batches(self) -> ReadBatches | None:
        """The batches read-only units' look-ups by key join (PostgreSQL, group commit on)."""
        return self._batches

    async def check(self) -> None:
        """Run ``SELECT 1``; raise StorageError unless the database answers in time."""
        async with guarded(), asyncio.timeout(self._check_timeout), self(read_only=True) as uow:
            await (await uow.conn()).fetch(_SELECT_ONE, {})

    async def dispose(self) -> None:
        """Close every connection (at shutdown)."""
        if self._batches is not None:
            self._batches.close()
        await self.source.dispose()
        await self.engine.dispose()


_SELECT_ONE = Statement("SELECT 1", names=("one",))


def _source(
    engine: AsyncEngine, max_connections: int | None, group_commit: bool, wait_timeout: float
) -> ConnectionSource:
    if engine.dialect.name != "sqlite":
        return GroupCommitSource(engine) if group_commit else PostgresSource(engine)
    target = sqlite_target(engine)
    limit = max_connections or SQLITE_MAX_CONNECTIONS
    if group_commit and not in_memory(target.database):
        return GroupedSqliteSource(
            target.database,
            max_connections=limit,
            busy_timeout=target.busy_timeout,
            uri=target.uri,
            wait_timeout=wait_timeout,
        )
    return SqliteSource(
        target.database, max_connections=limit, busy_timeout=target.busy_timeout, uri=target.uri
    )
