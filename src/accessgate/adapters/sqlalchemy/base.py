"""What every repository shares: the unit of work's connection and guarded execution."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, Executable, Insert, Select, Table, Update, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from accessgate.adapters.sqlalchemy.errors import guarded
from accessgate.domain.model.errors import StorageError

if TYPE_CHECKING:
    from accessgate.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork


class SqlRepository:
    """A repository working on its unit of work's connection."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def _conn(self) -> AsyncConnection:
        return self._uow.connection

    async def _execute(
        self,
        statement: Executable,
        params: dict[str, Any] | list[dict[str, Any]] | None = None,
    ) -> CursorResult[Any]:
        async with guarded():
            return await self._conn.execute(statement, params)

    async def _one(self, statement: Select[Any], for_update: bool = False) -> RowMapping | None:
        if for_update:
            statement = statement.with_for_update()
        async with guarded():
            result = await self._conn.execute(statement.limit(1))
            row: RowMapping | None = result.mappings().first()
            return row

    async def _first(
        self, statement: Select[Any], params: dict[str, Any] | None = None
    ) -> RowMapping | None:
        """The first row of a fixed statement (compiled once) with ``params``."""
        async with guarded():
            result = await self._conn.execute(statement, params)
            row: RowMapping | None = result.mappings().first()
            return row

    async def _one_by(
        self, table: Table, column: str, value: Any, for_update: bool = False
    ) -> RowMapping | None:
        """The row whose ``column`` equals ``value`` (``FOR UPDATE`` on request)."""
        return await self._first(_select_by(table, column, for_update), {"match_value": value})

    async def _all(
        self, statement: Select[Any], params: dict[str, Any] | None = None
    ) -> list[RowMapping]:
        async with guarded():
            result = await self._conn.execute(statement, params)
            return list(result.mappings().all())

    def _insert(self, table: Table) -> Insert:
        """The dialect's INSERT (with ``on_conflict_do_nothing`` / ``_do_update``)."""
        if self._conn.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    # Writes are fixed statements with the values as parameters, so SQLAlchemy
    # compiles each once and reuses it (no per-call statement building).

    async def _add(self, table: Table, row: dict[str, Any]) -> None:
        await self._execute(table.insert(), row)

    async def _add_unless_exists(self, table: Table, row: dict[str, Any]) -> bool:
        statement = _insert_unless_exists(self._conn.dialect.name, table)
        result = await self._execute(statement, row)
        return bool(result.rowcount == 1)

    async def _add_all_unless_exist(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Many rows in one round trip (the driver's executemany), conflicts skipped."""
        if rows:
            await self._execute(_insert_unless_exists(self._conn.dialect.name, table), rows)

    async def _update(self, table: Table, row: dict[str, Any], *keys: str) -> None:
        params = {name: value for name, value in row.items() if name not in keys}
        params.update({f"key_{key}": row[key] for key in keys})
        result = await self._execute(_update_by(table, keys), params)
        if result.rowcount != 1:
            raise StorageError(f"{table.name} row not found")


@cache
def _insert_unless_exists(dialect: str, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` of the dialect, built once."""
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_nothing()


@cache
def _select_by(table: Table, column: str, for_update: bool) -> Select[Any]:
    """``SELECT * FROM table WHERE column = :match_value LIMIT 1 [FOR UPDATE]``, built once."""
    statement = select(table).where(table.c[column] == bindparam("match_value")).limit(1)
    return statement.with_for_update() if for_update else statement


@cache
def _update_by(table: Table, keys: tuple[str, ...]) -> Update:
    """``UPDATE table SET <the columns given> WHERE key = :key_<key> ...``."""
    return table.update().where(*(table.c[key] == bindparam(f"key_{key}") for key in keys))
