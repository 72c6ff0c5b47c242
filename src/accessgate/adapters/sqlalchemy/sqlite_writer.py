"""Group commit on SQLite: writing units take turns on one connection and share commits.

SQLite lets one transaction write at a time, and a commit appends every page the
transaction changed to the WAL, one ``write`` per page: on a small machine the
``COMMIT`` of a fulfilment costs about a third of its CPU. A process's writing
units of work therefore take turns, in arrival order, on one writer connection
(:class:`SqliteWriter`), and units that run one after another share a commit:

* **Each on its own.** A unit runs inside its own ``SAVEPOINT`` of the shared
  transaction (the first unit of a transaction needs none). Its commit releases
  the savepoint; its rollback, or any error of its own, rolls back to it: the
  units before it keep their work, and it fails alone.
* **One COMMIT.** A unit that commits passes the turn on and waits for the
  ``COMMIT`` of the transaction, which stays open while the event loop runs the
  requests that are ready now (a sqlite3 unit of work never waits inside, so
  without this pause no two would ever overlap): it commits at the first loop
  turn that added no unit (after at most :data:`MAX_DEFERRALS` + 1 turns), or
  at once with :data:`MAX_MEMBERS` units. Under no load a unit's commit waits
  two turns of the loop.
* **Failing together only on the database's error.** If the ``COMMIT`` fails, or
  an error makes SQLite roll the whole transaction back, every unit waiting for
  that transaction gets ``StorageError`` (the providers deliver again).

Exactly-once still rests on the database: the constraints of the tables and the
write lock of ``BEGIN IMMEDIATE``, across processes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from accessgate.adapters.sqlalchemy.connections import Connection, SqliteConnection, SqliteSource
from accessgate.adapters.sqlalchemy.statements import Row, Statement
from accessgate.domain.model.errors import StorageError

T = TypeVar("T")

# Units per shared commit: past a few dozen the first ones only wait longer.
MAX_MEMBERS = 32
# Event-loop iterations a group stays open while units keep joining it.
MAX_DEFERRALS = 2


class SqliteWriter:
    """The writer connection of one SQLite file in this process, and whose turn it is."""

    def __init__(self, source: SqliteSource, wait_timeout: float) -> None:
        self._source = source
        self._wait_timeout = wait_timeout
        self._connection: SqliteConnection | None = None
        self._busy = False
        self._queue: deque[asyncio.Future[None]] = deque()
        self._members: list[asyncio.Future[None]] = []  # committed, waiting for COMMIT
        self._due: asyncio.Handle | None = None  # the scheduled look at the open group
        self._seen = 0  # members at the last look
        self._deferrals = 0
        self.groups_finished = 0
        self.largest_group = 0

    async def take(self) -> SqliteConnection:
        """Wait for this unit's turn (in arrival order); the writer connection."""
        if self._busy or self._queue:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._queue.append(turn)
            try:
                async with asyncio.timeout(self._wait_timeout):
                    await turn
            except TimeoutError:
                self._give_up(turn)
                raise StorageError(reason="TimeoutError") from None
            except BaseException:
                self._give_up(turn)
                raise
        self._busy = True
        if self._connection is None:
            try:
                self._connection = self._source.open_writer()
            except BaseException:
                self._pass_turn()
                raise
        return self._connection

    def _give_up(self, turn: asyncio.Future[None]) -> None:
        """A waiting unit leaves; if the turn had already reached it, it goes on."""
        if turn.done() and not turn.cancelled():
            self.end_turn(None)
        else:
            turn.cancel()

    def in_group(self) -> bool:
        """Whether units before this one wait for the open transaction's commit."""
        return bool(self._members)

    def end_turn(self, member: asyncio.Future[None] | None) -> None:
        """The unit whose turn it was is done; ``member`` waits for its commit.

        The transaction stays open for the units that are ready to run now: it
        commits once the event loop has run them (see :meth:`_commit_due`), or
        at once when the group is full. With nobody waiting for it, it is left
        rolled back.
        """
        if member is not None:
            self._members.append(member)
        if not self._members:
            try:
                if self._connection is not None:
                    self._connection.roll_back_now()
            finally:
                self._pass_turn()
            return
        if len(self._members) >= MAX_MEMBERS:
            self._commit_now()
            return
        self._pass_turn()
        if self._due is None:
            self._due = asyncio.get_running_loop().call_soon(self._commit_due)

    def _commit_due(self) -> None:
        """Commit the open group, unless a unit holds the turn (its end comes back here)."""
        self._due = None
        if self._busy or not self._members:
            return
        if len(self._members) > self._seen and self._deferrals < MAX_DEFERRALS:
            # Units joined since the last look: others may be a step behind them.
            self._seen = len(self._members)
            self._deferrals += 1
            self._due = asyncio.get_running_loop().call_soon(self._commit_due)
            return
        self._busy = True
        self._commit_now()

    def _commit_now(self) -> None:
        members, self._members = self._members, []
        self._seen = self._deferrals = 0
        try:
            self._commit(members)
        finally:
            self._pass_turn()

    def _commit(self, members: list[asyncio.Future[None]]) -> None:
        assert self._connection is not None
        failure: BaseException | None = None
        try:
            self._connection.commit_now()
        except StorageError as error:
            failure = error
            self._discard_transaction()
        self.groups_finished += 1
        self.largest_group = max(self.largest_group, len(members))
        for waiting in members:
            if not waiting.done():
                if failure is None:
                    waiting.set_result(None)
                else:
                    waiting.set_exception(failure)

    def _discard_transaction(self) -> None:
        """After a failed ``COMMIT`` (which may leave the transaction open): roll it back."""
        assert self._connection is not None
        try:
            self._connection.roll_back_now()
        except StorageError:
            self._connection.close()  # the next turn opens a new one
            self._connection = None

    def lost(self, error: StorageError) -> None:
        """SQLite rolled the open transaction back: the units waiting for it fail."""
        members, self._members = self._members, []
        self._seen = self._deferrals = 0
        for waiting in members:
            if not waiting.done():
                waiting.set_exception(error)

    def _pass_turn(self) -> None:
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._busy = False

    def close(self) -> None:
        """Close the writer connection (at shutdown)."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None


_SAVEPOINT = "SAVEPOINT unit"
_RELEASE = "RELEASE unit"
_ROLLBACK_TO = "ROLLBACK TO unit"


class WriterTurn:
    """One writing unit of work's use of the writer: a turn taken at its first statement."""

    __slots__ = ("_connection", "_savepoint", "_writer")

    def __init__(self, writer: SqliteWriter) -> None:
        self._writer = writer
        self._connection: SqliteConnection | None = None
        self._savepoint = False

    async def _turn(self) -> SqliteConnection:
        if self._connection is None:
            connection = await self._writer.take()
            self._connection = connection
            if self._writer.in_group():
                try:
                    connection.run_now(_SAVEPOINT)
                except BaseException:
                    self._end(None)
                    raise
                self._savepoint = True
        return self._connection

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """The rows of ``statement``, in this unit's turn."""
        return await self._in_turn(lambda connection: connection.fetch(statement, params))

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:
        """Run ``statement`` in this unit's turn; the rows it changed."""
        return await self._in_turn(lambda connection: connection.execute(statement, params))

    async def _in_turn(self, action: Callable[[SqliteConnection], Awaitable[T]]) -> T:
        connection = await self._turn()
        try:
            return await action(connection)
        except StorageError as error:
            if connection.lost_transaction():  # the units before this one lost their work
                self._savepoint = False
                self._writer.lost(error)
            raise

    async def begin(self, *, read_only: bool) -> None:
        """The transaction (or this unit's savepoint in it) begins at the first statement."""

    async def commit(self) -> None:
        """Keep this unit's work and wait until the shared transaction has committed."""
        connection = self._connection
        if connection is None:
            return
        if self._savepoint:
            try:
                connection.run_now(_RELEASE)
            except BaseException:
                await self.rollback()
                raise
        member: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._end(member)
        await member

    async def rollback(self) -> None:
        """Undo this unit's work alone (the units before it keep theirs) and end its turn.

        A unit that ran after others in a group may have read their work: it
        returns once that work is committed (``StorageError`` if it was not).
        """
        connection = self._connection
        if connection is None:
            return
        member: asyncio.Future[None] | None = None
        try:
            if self._savepoint and connection.in_transaction:
                connection.run_now(_ROLLBACK_TO)
                connection.run_now(_RELEASE)
                member = asyncio.get_running_loop().create_future()
        finally:
            # The first unit of a transaction has no savepoint: with nobody
            # waiting for the transaction, the end of its turn rolls it back.
            self._end(member)
        if member is not None:
            await member

    def _end(self, member: asyncio.Future[None] | None) -> None:
        self._connection = None
        self._savepoint = False
        self._writer.end_turn(member)


class GroupedSqliteSource(SqliteSource):
    """SQLite connections: pooled ones for reading units, the shared writer for writing ones."""

    def __init__(
        self,
        database: str,
        *,
        max_connections: int,
        busy_timeout: float,
        uri: bool = False,
        wait_timeout: float = 30.0,
    ) -> None:
        super().__init__(
            database, max_connections=max_connections, busy_timeout=busy_timeout, uri=uri
        )
        self.writer = SqliteWriter(self, wait_timeout)

    async def acquire(self, *, read_only: bool) -> Connection:
        """A pooled connection to read; to write, a turn on the writer (taken at first use)."""
        if read_only:
            return await super().acquire(read_only=True)
        return WriterTurn(self.writer)

    async def read_committed(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """The rows of ``statement`` as last committed, on a reader: no writer turn taken.

        What the open group has written is not seen (it is not committed yet).
        """
        reader = await super().acquire(read_only=True)
        try:
            return await reader.fetch(statement, params)
        finally:
            await super().release(reader)

    async def release(self, connection: Connection) -> None:
        """End a writing unit's turn (rolled back unless committed), or pool a reader."""
        if isinstance(connection, WriterTurn):
            await connection.rollback()
            return
        await super().release(connection)

    async def dispose(self) -> None:
        """Close the writer and every idle connection."""
        self.writer.close()
        await super().dispose()

    @property
    def groups_finished(self) -> int:
        """Shared commits so far."""
        return self.writer.groups_finished

    @property
    def largest_group(self) -> int:
        """The most units one commit carried."""
        return self.writer.largest_group
