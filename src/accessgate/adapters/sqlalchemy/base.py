"""What every repository shares: the unit of work's driver connection and the row statements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table

from accessgate.adapters.sqlalchemy import statements as st
from accessgate.adapters.sqlalchemy.statements import Row, Statement

if TYPE_CHECKING:
    from accessgate.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork

_NO_PARAMS: Mapping[str, Any] = {}


class SqlRepository:
    """A repository working on its unit of work's connection."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def _all(self, statement: Statement, params: Mapping[str, Any] = _NO_PARAMS) -> list[Row]:
        """Every row of ``statement`` (held writes are sent first)."""
        await self._uow.flush()
        return await (await self._uow.conn()).fetch(statement, params)

    async def _first(
        self, statement: Statement, params: Mapping[str, Any] = _NO_PARAMS
    ) -> Row | None:
        """The first row of ``statement``, or ``None``."""
        found = await self._all(statement, params)
        return found[0] if found else None

    async def _execute(self, statement: Statement, params: Mapping[str, Any] = _NO_PARAMS) -> int:
        """Run a write now (held writes first); the number of rows it changed."""
        await self._uow.flush()
        return await (await self._uow.conn()).execute(statement, params)

    def _hold(self, statement: Statement, params: Row) -> None:
        """Send a write with the next read or the commit (see writes.py)."""
        self._uow.writes.statement(statement, params)

    async def _one_by(
        self, table: Table, column: str, value: Any, for_update: bool = False
    ) -> Row | None:
        """The row whose ``column`` equals ``value`` (``FOR UPDATE`` on request)."""
        return await self._first(st.select_by(table, column, for_update), {"match_value": value})

    async def _add(self, table: Table, row: Row) -> None:
        self._uow.writes.insert(table, row)

    async def _add_unless_exists(self, table: Table, row: Row) -> bool:
        return await self._execute(st.insert(table, unless_exists=True), row) == 1

    async def _add_all_unless_exist(self, table: Table, rows: list[Row]) -> None:
        """Many rows in one statement, conflicts skipped."""
        if rows:
            self._uow.writes.insert_all(table, rows)

    async def _update(self, table: Table, row: Row, *keys: str, before: Row | None = None) -> None:
        """Update the row whose ``keys`` match; a missing row fails the flush.

        ``before``: the row as this transaction stored it, when known (then only
        what changed is written).
        """
        self._uow.writes.update(table, row, keys, before)
