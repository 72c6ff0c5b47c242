"""SQL statements run on the driver's own connection: text built once, values converted once.

SQLAlchemy defines the tables (and migrates them); the units of work send
their statements straight to asyncpg or the sqlite3 module, because going
through SQLAlchemy's execution layer cost more CPU per statement than the
database itself (docs/performance.md). A :class:`Statement` is written once
with named ``:placeholders``; :func:`render` turns it into the dialect's text
(``$1`` positions for asyncpg, named ``:name`` for sqlite3, ``FOR UPDATE``
dropped on SQLite, whose single writer needs no row locks) and caches it.

Values cross in both directions by the column types of ``tables.py``: times
are timezone-aware UTC in Python, ``timestamptz`` on PostgreSQL and fixed-width
naive UTC text on SQLite (the format SQLAlchemy has always written there, so
text order is time order); JSON columns travel as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, Table

from accessgate.adapters.sqlalchemy.tables import UtcDateTime
from accessgate.domain.model.errors import StorageError

Row = dict[str, Any]
Decoder = Callable[[Any], Any]

POSTGRESQL = "postgresql"
SQLITE = "sqlite"

_PLACEHOLDER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_ROW_LOCK = re.compile(r"\s+FOR UPDATE(\s+OF\s+\w+(\s*,\s*\w+)*)?(\s+SKIP LOCKED)?")
_json_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder()


class Statement:
    """One SQL statement with ``:name`` placeholders and the columns its rows carry.

    Args:
        text: the SQL; ``FOR UPDATE [OF ...] [SKIP LOCKED]`` is dropped on SQLite.
        columns: the columns of each returned row, in order (for decoding).
        names: the key of each value of a row (default: the names of ``columns``;
            values past the columns are taken as the driver gives them).

    """

    __slots__ = ("columns", "names", "text")

    def __init__(
        self,
        text: str,
        columns: Iterable[Column[Any] | None] = (),
        names: Sequence[str] | None = None,
    ) -> None:
        self.text = text
        self.columns = tuple(columns)
        self.names = (
            tuple(names)
            if names is not None
            else tuple(c.name for c in self.columns if c is not None)
        )


class Rendered:
    """A statement in one dialect: its text, parameter order and row decoders."""

    __slots__ = ("decoders", "names", "params", "text")

    def __init__(
        self, text: str, params: tuple[str, ...], names: tuple[str, ...], decoders: tuple[Any, ...]
    ) -> None:
        self.text = text
        self.params = params
        self.names = names
        self.decoders = decoders

    def decode(self, values: Sequence[Any]) -> Row:
        """The row of a driver record, keyed by column name, values in Python types."""
        return {
            name: value if decoder is None or value is None else decoder(value)
            for name, decoder, value in zip(self.names, self.decoders, values, strict=True)
        }


@cache
def render(statement: Statement, dialect: str) -> Rendered:
    """``statement`` for ``dialect`` (``postgresql`` or ``sqlite``), built once."""
    text = statement.text
    params: list[str] = []
    if dialect == POSTGRESQL:

        def position(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in params:
                params.append(name)
            return f"${params.index(name) + 1}"

        text = _PLACEHOLDER.sub(position, text)
    else:
        text = _ROW_LOCK.sub("", text)
        params = list(dict.fromkeys(_PLACEHOLDER.findall(text)))
    decoders = tuple(_decoder(column, dialect) for column in statement.columns)
    decoders += (None,) * (len(statement.names) - len(decoders))
    return Rendered(text, tuple(params), statement.names, decoders)


def _decoder(column: Column[Any] | None, dialect: str) -> Decoder | None:
    if column is None:
        return None
    if isinstance(column.type, UtcDateTime):
        return _sqlite_time if dialect == SQLITE else _utc
    if isinstance(column.type, JSON):
        return _json_value
    if isinstance(column.type, Boolean) and dialect == SQLITE:
        return bool
    return None


def _sqlite_time(value: str) -> datetime:
    try:
        # Parsing an offset is ~4x cheaper than replacing the zone afterwards.
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:  # a text that carries its own offset
        return datetime.fromisoformat(value).astimezone(UTC)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _json_value(value: Any) -> Any:
    return _json_decoder.decode(value) if isinstance(value, str | bytes) else value


def encode(value: Any, dialect: str) -> Any:
    """A Python value as the driver takes it (times checked for a zone and made UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise StorageError(
                "A time without a time zone cannot be stored", reason="NaiveDatetime"
            )
        return _sqlite_text(value) if dialect == SQLITE else value
    if isinstance(value, dict):
        return _json_encoder.encode(value).decode()
    return value


# The texts of the times written lately: one unit of work writes the same few
# times (its "now" above all) into many columns.
_SQLITE_TEXTS: dict[datetime, str] = {}
_SQLITE_TEXTS_KEPT = 256


def _sqlite_text(value: datetime) -> str:
    """A zone-aware time as SQLite's fixed-width naive UTC text."""
    text = _SQLITE_TEXTS.get(value)
    if text is None:
        utc = value if value.tzinfo is UTC else value.astimezone(UTC)
        text = "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031 - twice as fast as isoformat
            utc.year,
            utc.month,
            utc.day,
            utc.hour,
            utc.minute,
            utc.second,
            utc.microsecond,
        )
        if len(_SQLITE_TEXTS) >= _SQLITE_TEXTS_KEPT:
            _SQLITE_TEXTS.clear()
        _SQLITE_TEXTS[value] = text
    return text


# Values every driver takes as they are (no call to ``encode`` for them).
_AS_THEY_ARE = frozenset({str, int, bool, float, bytes, type(None)})


def arguments(rendered: Rendered, params: Mapping[str, Any], dialect: str) -> Any:
    """The driver's arguments: a tuple in ``$n`` order (asyncpg) or a dict (sqlite3)."""
    plain = _AS_THEY_ARE
    if dialect == POSTGRESQL:
        return tuple(
            value if value.__class__ in plain else encode(value, dialect)
            for value in map(params.__getitem__, rendered.params)
        )
    return {
        name: value if (value := params[name]).__class__ in plain else encode(value, dialect)
        for name in rendered.params
    }


# Statements built from a table's columns (cached per table).


def aliased_columns(table: Table, prefix: str) -> str:
    """``table.a AS <prefix>a, ...`` of every column of ``table``."""
    return ", ".join(f"{table.name}.{c.name} AS {prefix}{c.name}" for c in table.columns)


def unprefixed(row: Row, prefix: str) -> Row:
    """The values of ``row`` whose key starts with ``prefix``, without it."""
    return {short: row[key] for key, short in _prefixed_keys(prefix, tuple(row))}


@cache
def _prefixed_keys(prefix: str, keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The keys starting with ``prefix``, each with its name without it (per statement shape)."""
    cut = len(prefix)
    return tuple((key, key[cut:]) for key in keys if key.startswith(prefix))


def column_list(table: Table, *, qualified: bool = True) -> str:
    """``table.a, table.b, ...`` (or ``a, b, ...``) of every column of ``table``."""
    owner = f"{table.name}." if qualified else ""
    return ", ".join(owner + column.name for column in table.columns)


@cache
def select_by(table: Table, column: str, for_update: bool) -> Statement:
    """``SELECT * FROM table WHERE column = :match_value LIMIT 1 [FOR UPDATE]``."""
    lock = " FOR UPDATE" if for_update else ""
    return Statement(
        f"SELECT {column_list(table)} FROM {table.name} "
        f"WHERE {table.name}.{column} = :match_value LIMIT 1{lock}",
        table.columns,
    )


@cache
def insert(table: Table, *, unless_exists: bool = False) -> Statement:
    """``INSERT INTO table (...) VALUES (:col, ...) [ON CONFLICT DO NOTHING]``."""
    names = [column.name for column in table.columns]
    conflict = " ON CONFLICT DO NOTHING" if unless_exists else ""
    return Statement(
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join(':' + n for n in names)}){conflict}"
    )


# Rows per multi-row INSERT: far below the parameter limits of both databases.
MAX_ROWS_PER_INSERT = 100


@cache
def insert_rows(table: Table, count: int) -> Statement:
    """``INSERT INTO table (...) VALUES (row 0), (row 1), ... ON CONFLICT DO NOTHING``.

    The values of row ``i`` are the parameters ``:<column>_<i>``.
    """
    names = [column.name for column in table.columns]
    rows = ", ".join(
        "(" + ", ".join(f":{name}_{index}" for name in names) + ")" for index in range(count)
    )
    return Statement(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {rows} ON CONFLICT DO NOTHING"
    )


def numbered(rows: Iterable[Mapping[str, Any]]) -> Row:
    """The parameters of :func:`insert_rows` for ``rows``."""
    return {
        f"{name}_{index}": value for index, row in enumerate(rows) for name, value in row.items()
    }


@cache
def other_columns(table: Table, keys: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of ``table`` an update by ``keys`` sets, in table order."""
    return tuple(column.name for column in table.columns if column.name not in keys)


@cache
def update_by(table: Table, keys: tuple[str, ...]) -> Statement:
    """``UPDATE table SET <other columns> WHERE key = :key_<key> ...``."""
    return update_columns(table, keys, other_columns(table, keys))


@cache
def update_columns(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Statement:
    """``UPDATE table SET <columns> WHERE key = :key_<key> ...``."""
    sets = ", ".join(f"{name} = :{name}" for name in columns)
    where = " AND ".join(f"{key} = :key_{key}" for key in keys)
    return Statement(f"UPDATE {table.name} SET {sets} WHERE {where}")


@cache
def combined(parts: tuple[Statement, ...]) -> Statement:
    """Several writes as one statement (PostgreSQL's data-modifying CTEs).

    Part ``i`` takes its parameters as ``:w<i>_<name>``; the one row answered
    has ``c<i>``, the number of rows part ``i`` wrote. Every part sees the same
    snapshot, so no part may touch a row another part writes (see writes.py).
    """
    clauses = []
    for index, part in enumerate(parts):
        text = _PLACEHOLDER.sub(f":w{index}_" + r"\1", part.text)
        clauses.append(f"w{index} AS ({text} RETURNING 1)")
    counts = ", ".join(f"(SELECT count(*) FROM w{i}) AS c{i}" for i in range(len(parts)))
    return Statement(
        f"WITH {', '.join(clauses)} SELECT {counts}", names=[f"c{i}" for i in range(len(parts))]
    )


# PostgreSQL: many rows through one statement of a fixed shape. The rows travel
# as one parameter, an array of JSON objects (one per row), which ``unnest`` and
# ``json_to_record`` turn back into typed rows, so the statement is prepared once
# whatever the number of rows. One array parameter per column cost the client
# ~17 us per row of 20 columns (asyncpg's array encoder checks every element);
# a JSON object per row costs ~3 us. ``unnest`` (not ``json_to_recordset``) keeps
# the planner's estimate of a few rows: at 100, the default of a set-returning
# function, it chose a hash join over a full scan of the table to be updated.


def _sql_type(column: Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, UtcDateTime):
        return "timestamptz"
    if isinstance(kind, JSON):
        return "json"
    if isinstance(kind, Boolean):
        return "boolean"
    if isinstance(kind, BigInteger):
        return "bigint"
    if isinstance(kind, Integer):
        return "integer"
    return "text"


def recordset(table: Table, alias: str, keys: tuple[str, ...] = ()) -> str:
    """A ``FROM`` item of ``table``'s rows in ``:rows`` (``json[]``), named ``alias``.

    ``keys`` come first, named ``key_<column>``, then the other columns.
    """
    columns = [f"key_{key} {_sql_type(table.c[key])}" for key in keys] + [
        f"{c.name} {_sql_type(c)}" for c in table.columns if c.name not in keys
    ]
    return (
        f"unnest(:rows::json[]) AS {alias}_json(row_json) "
        f"CROSS JOIN LATERAL json_to_record({alias}_json.row_json) AS {alias}({', '.join(columns)})"
    )


@cache
def insert_recordset(table: Table, *, unless_exists: bool = False) -> Statement:
    """``INSERT INTO table (...) SELECT ... FROM`` the rows in ``:rows``."""
    names = ", ".join(c.name for c in table.columns)
    conflict = " ON CONFLICT DO NOTHING" if unless_exists else ""
    return Statement(
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {recordset(table, 'v')}{conflict}"
    )


@cache
def update_recordset(table: Table, keys: tuple[str, ...]) -> Statement:
    """``UPDATE table SET ... FROM`` the rows in ``:rows`` ``WHERE`` each row's keys match."""
    sets = ", ".join(f"{c.name} = v.{c.name}" for c in table.columns if c.name not in keys)
    where = " AND ".join(f"{table.name}.{key} = v.key_{key}" for key in keys)
    return Statement(
        f"UPDATE {table.name} SET {sets} FROM {recordset(table, 'v', keys)} WHERE {where}"
    )


def rows_json(rows: Sequence[Mapping[str, Any]]) -> Row:
    """The parameters of a recordset statement: ``rows`` as an array of JSON texts.

    Raises:
        StorageError: a time without a time zone (PostgreSQL would read it as local time).

    """
    plain = _AS_THEY_ARE
    for row in rows:
        for value in row.values():
            if value.__class__ not in plain and isinstance(value, datetime):
                encode(value, POSTGRESQL)  # raises for a time without a zone
    encode_row = _json_encoder.encode
    return {"rows": [encode_row(row).decode() for row in rows]}
