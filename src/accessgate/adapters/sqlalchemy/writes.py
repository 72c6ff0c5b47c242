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
(every write carries the whole row).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table

from accessgate.adapters.sqlalchemy import statements as st
from accessgate.adapters.sqlalchemy.connections import Connection
from accessgate.adapters.sqlalchemy.statements import POSTGRESQL, Row, Statement
from accessgate.domain.model.errors import StorageError

# Writes per combined statement: a fulfilment has four to seven; bulk loads are
# cut into statements well under PostgreSQL's 32,767 parameters.
MAX_WRITES_PER_STATEMENT = 16


class _Write:
    __slots__ = ("params", "statement", "updates")

    def __init__(self, statement: Statement, params: Row, updates: Table | None) -> None:
        self.statement = statement
        self.params = params
        self.updates = updates  # the table of an UPDATE that must find its row


@cache
def _key_columns(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key.columns)


class PendingWrites:
    """Writes held until :meth:`flush`."""

    __slots__ = ("_rows", "_writes")

    def __init__(self) -> None:
        self._writes: list[_Write] = []
        self._rows: dict[tuple[str, tuple[Any, ...]], _Write] = {}

    def insert(self, table: Table, row: Row) -> None:
        """Hold ``INSERT INTO table`` of ``row``."""
        write = _Write(st.insert(table), row, None)
        self._writes.append(write)
        self._rows[(table.name, tuple(row[name] for name in _key_columns(table)))] = write

    def update(self, table: Table, row: Row, keys: tuple[str, ...]) -> None:
        """Hold ``UPDATE table`` of the row whose ``keys`` match (it must exist)."""
        key = (table.name, tuple(row[name] for name in _key_columns(table)))
        held = self._rows.get(key)
        if held is not None and held.updates is None:  # inserted in this batch
            held.params = row
            return
        params = dict(row)
        params.update({f"key_{name}": row[name] for name in keys})
        if held is not None and held.statement is st.update_by(table, keys):
            held.params = params
            return
        write = _Write(st.update_by(table, keys), params, table)
        self._writes.append(write)
        self._rows[key] = write

    def statement(self, statement: Statement, params: Row) -> None:
        """Hold any other write whose answer nobody needs."""
        self._writes.append(_Write(statement, params, None))

    def discard(self) -> None:
        """Forget every held write (rollback)."""
        self._writes = []
        self._rows = {}

    def __bool__(self) -> bool:
        return bool(self._writes)

    async def flush(self, connection: Connection, dialect: str) -> None:
        """Send every held write: one statement on PostgreSQL, in order on SQLite."""
        writes, self._writes, self._rows = self._writes, [], {}
        for start in range(0, len(writes), MAX_WRITES_PER_STATEMENT):
            batch = writes[start : start + MAX_WRITES_PER_STATEMENT]
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
                if write.updates is not None and count != 1:
                    raise StorageError(f"{write.updates.name} row not found")
