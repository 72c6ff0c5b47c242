"""The writes of a unit of work not yet sent: sent together at the next read or the commit.

A fulfilment writes the order, the access, a token and the outbox messages and
reads nothing in between; sent one by one that is four round trips, each of
which costs more than the write. Held here, they go as one statement on
PostgreSQL (data-modifying CTEs, :func:`statements.combined`) and one after
another, without a round trip, on SQLite. Any read, any write whose answer is
needed (``INSERT ... ON CONFLICT DO NOTHING`` telling a duplicate) and the
commit send them first, so a unit of work always reads its own writes; an error
of a held write (a conflict, a missing row) surfaces there, and rolls back the
whole unit of work as it always did.

Two writes of one row never go in one statement: a later update of a row
inserted or updated in the same batch replaces the earlier write's values
(an insert carries the whole row; an update of a row the transaction read sets
the columns that changed, the union of both when one is held already).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table

from accessgate.adapters.sqlalchemy import statements as st
from accessgate.adapters.sqlalchemy.connections import Connection
from accessgate.adapters.sqlalchemy.statements import POSTGRESQL, Row, Statement
from accessgate.domain.model.errors import StorageError

# Writes per combined statement, and parameters: a fulfilment has four to seven
# writes; group commits and bulk loads are cut into statements well under
# PostgreSQL's 32,767 parameters.
MAX_WRITES_PER_STATEMENT = 64
MAX_PARAMS_PER_STATEMENT = 16_000


class Write:
    """One held write.

    Attributes:
        statement: the write on its own (SQLite, or a single write).
        params: its parameters.
        updates: the table of an UPDATE that must find its row.
        shape: ``(kind, table, keys)`` of a row write (``insert``,
            ``insert_unless_exists``, ``update``) that PostgreSQL sends together
            with the same writes of other rows; ``None`` for any other statement.
        rows: the rows of a row write.

    """

    __slots__ = ("params", "rows", "shape", "statement", "updates")

    def __init__(
        self,
        statement: Statement,
        params: Row,
        updates: Table | None,
        shape: tuple[str, Table, tuple[str, ...]] | None = None,
        rows: list[Row] | None = None,
    ) -> None:
        self.statement = statement
        self.params = params
        self.updates = updates
        self.shape = shape
        self.rows = rows or []


@cache
def _key_columns(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key.columns)


class PendingWrites:
    """Writes held until :meth:`flush`."""

    __slots__ = ("_rows", "_writes")

    def __init__(self) -> None:
        self._writes: list[Write] = []
        self._rows: dict[tuple[str, tuple[Any, ...]], Write] = {}

    def insert(self, table: Table, row: Row) -> None:
        """Hold ``INSERT INTO table`` of ``row``."""
        write = Write(st.insert(table), row, None, ("insert", table, ()), [row])
        self._writes.append(write)
        self._rows[(table.name, tuple(row[name] for name in _key_columns(table)))] = write

    def update(
        self, table: Table, row: Row, keys: tuple[str, ...], before: Row | None = None
    ) -> None:
        """Hold ``UPDATE table`` of the row whose ``keys`` match (it must exist).

        With ``before``, the row as this transaction last stored it, only the
        columns that differ from it are set (SQLite then leaves the indexes of
        the others alone); nothing at all when none does.
        """
        key = (table.name, tuple(row[name] for name in _key_columns(table)))
        held = self._rows.get(key)
        if held is not None and held.updates is None:  # inserted in this batch
            held.params = row
            held.rows = [row]
            return
        others = st.other_columns(table, keys)
        if before is None:
            columns = others
        else:
            columns = tuple(
                name
                for name, value in row.items()
                if name not in keys and (name not in before or before[name] != value)
            )
        if held is not None and len(columns) < len(others):  # held: set both's columns
            columns = tuple(name for name in others if name in columns or name in held.params)
        if not columns:
            return
        if len(columns) == len(others):  # the whole row (PostgreSQL merges these)
            params = dict(row)
            statement, shape = st.update_by(table, keys), ("update", table, keys)
        else:
            params = {name: row[name] for name in columns}
            statement, shape = st.update_columns(table, keys, columns), None
        params.update({f"key_{name}": row[name] for name in keys})
        if held is not None:
            held.statement, held.params, held.rows, held.shape = statement, params, [params], shape
            return
        write = Write(statement, params, table, shape, [params])
        self._writes.append(write)
        self._rows[key] = write

    def insert_all(self, table: Table, rows: list[Row]) -> None:
        """Hold ``INSERT INTO table`` of ``rows``, skipping rows whose unique keys exist."""
        for start in range(0, len(rows), st.MAX_ROWS_PER_INSERT):
            chunk = rows[start : start + st.MAX_ROWS_PER_INSERT]
            shape = ("insert_unless_exists", table, ())
            statement = st.insert_rows(table, len(chunk))
            self._writes.append(Write(statement, st.numbered(chunk), None, shape, chunk))

    def statement(self, statement: Statement, params: Row) -> None:
        """Hold any other write whose answer nobody needs."""
        self._writes.append(Write(statement, params, None))

    def discard(self) -> None:
        """Forget every held write (rollback)."""
        self._writes = []
        self._rows = {}

    def __bool__(self) -> bool:
        return bool(self._writes)

    def take(self) -> list[Write]:
        """The held writes, now no longer held."""
        writes, self._writes, self._rows = self._writes, [], {}
        return writes

    async def flush(self, connection: Connection, dialect: str) -> None:
        """Send every held write: one statement on PostgreSQL, in order on SQLite."""
        await send(connection, dialect, self.take())


def _batches(writes: list[Write]) -> list[list[Write]]:
    batches: list[list[Write]] = [[]]
    params = 0
    for write in writes:
        if batches[-1] and (
            len(batches[-1]) >= MAX_WRITES_PER_STATEMENT
            or params + len(write.params) > MAX_PARAMS_PER_STATEMENT
        ):
            batches.append([])
            params = 0
        batches[-1].append(write)
        params += len(write.params)
    return batches


async def send(connection: Connection, dialect: str, writes: list[Write]) -> None:
    """Send ``writes``: combined statements on PostgreSQL, one after another on SQLite.

    Raises:
        StorageError: an UPDATE found no row, or the database refused a write.

    """
    if not writes:
        return
    if dialect == POSTGRESQL and len(writes) > 1:
        writes = _by_shape(writes)
    for batch in _batches(writes):
        if len(batch) > 1 and dialect == POSTGRESQL:
            statement = st.combined(tuple(write.statement for write in batch))
            params = {
                f"w{index}_{name}": value
                for index, write in enumerate(batch)
                for name, value in write.params.items()
            }
            answer = (await connection.fetch(statement, params))[0]
            counts = [answer[f"c{index}"] for index in range(len(batch))]
        else:
            counts = [await connection.execute(w.statement, w.params) for w in batch]
        for write, count in zip(batch, counts, strict=True):
            if write.updates is not None and count != len(write.rows or [write.params]):
                raise StorageError(f"{write.updates.name} row not found")


def _by_shape(writes: list[Write]) -> list[Write]:
    """The row writes of one shape merged into one recordset write each (PostgreSQL).

    A statement's shape then depends on which tables are written, not on how
    many rows: PostgreSQL prepares it once per connection.
    """
    merged: dict[tuple[str, Table, tuple[str, ...]], list[Row]] = {}
    others: list[Write] = []
    for write in writes:
        if write.shape is None:
            others.append(write)
        else:
            merged.setdefault(write.shape, []).extend(write.rows)
    out = []
    for (kind, table, keys), rows in merged.items():
        if kind == "update":
            statement = st.update_recordset(table, keys)
            out.append(Write(statement, st.rows_json(rows), table, None, rows))
        else:
            statement = st.insert_recordset(table, unless_exists=kind == "insert_unless_exists")
            out.append(Write(statement, st.rows_json(rows), None, None, rows))
    return out + others
