"""Making the AsyncEngine: SQLite pragmas and single-writer transactions, PostgreSQL pools."""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./accessgate.db"
# Connections worth opening to one SQLite file from one process: one writes at a
# time, and past a few readers each further connection only adds its own page
# cache (measured: 20 connections peaked at 155 MB RSS, 4 at 121 MB, reads faster).
SQLITE_MAX_CONNECTIONS = 4
# Execution option of a connection whose transaction only reads: on SQLite it
# begins with a deferred BEGIN (a WAL snapshot, no write lock).
READ_ONLY_OPTION = "accessgate_read_only"
_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}


@dataclass(frozen=True)
class SqliteTarget:
    """How the units of work open the SQLite database of an engine (see connections.py).

    Attributes:
        database: the sqlite3 ``database`` argument (a path or a ``file:`` URI).
        uri: ``database`` is a URI.
        memory: an in-memory database (shared with the engine; one connection).
        busy_timeout: seconds a writer waits for another process's write lock.

    """

    database: str
    uri: bool
    memory: bool
    busy_timeout: float


_SQLITE_TARGETS: weakref.WeakKeyDictionary[AsyncEngine, SqliteTarget] = weakref.WeakKeyDictionary()


def sqlite_target(engine: AsyncEngine) -> SqliteTarget:
    """The SQLite database of an engine made by :func:`create_engine`."""
    target = _SQLITE_TARGETS.get(engine)
    if target is None:
        raise ValueError("the engine was not made by accessgate's create_engine")
    return target


def normalize_url(url: str | URL) -> URL:
    """The async form of a database URL (``postgres://`` -> ``postgresql+asyncpg://``)."""
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    return parsed.set(drivername=_SCHEMES.get(parsed.drivername, parsed.drivername))


def is_sqlite(url: str | URL) -> bool:
    """Whether the URL names a SQLite database."""
    return normalize_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite database URL; ``None`` for in-memory SQLite and other databases."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = str(parsed.database)
    if database.startswith("file:"):  # a SQLite URI filename
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database)


def create_engine(
    url: str | URL = DEFAULT_DATABASE_URL,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    pool_recycle: int = 1800,
    pool_pre_ping: bool = False,
    busy_timeout_ms: int = 5000,
    connect_args: dict[str, Any] | None = None,
    echo: bool = False,
) -> AsyncEngine:
    """An AsyncEngine for SQLite (aiosqlite) or PostgreSQL (asyncpg).

    Args:
        url: the database URL; plain ``sqlite://``/``postgresql://`` get the async driver.
        pool_size: connections kept open per process (PostgreSQL and SQLite files).
        max_overflow: extra connections opened under load, closed when returned.
        pool_timeout: seconds to wait for a free connection.
        pool_recycle: seconds after which a connection is replaced.
        pool_pre_ping: test each connection when checked out (one round trip more).
        busy_timeout_ms: SQLite: how long a writer waits for the database lock.
        connect_args: passed to the driver, e.g.
            ``{"server_settings": {"search_path": "myschema"}}`` for asyncpg.
        echo: log every statement (development only: statements carry values).

    On SQLite every transaction starts with ``BEGIN IMMEDIATE`` (one writer at a
    time, so a read-then-write cannot interleave with another) and each
    connection sets ``journal_mode=WAL``, ``busy_timeout``, ``foreign_keys=ON``
    and ``synchronous=NORMAL``.

    """
    parsed = normalize_url(url)
    args = dict(connect_args or {})
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=pool_recycle,
            pool_pre_ping=pool_pre_ping,
            connect_args=args,
            echo=echo,
        )
    args.setdefault("timeout", busy_timeout_ms / 1000)
    memory = parsed.database in (None, "", ":memory:")
    database = str(parsed.database or "")
    uri = bool(args.get("uri")) or database.startswith("file:")
    if memory:
        # A named, shared in-memory database: the units of work open their own
        # sqlite3 connection to it, beside the engine's (kept by StaticPool).
        name = f"file:accessgate_{uuid.uuid4().hex}"
        parsed = parsed.set(
            database=name, query={"mode": "memory", "cache": "shared", "uri": "true"}
        )
        database, uri = f"{name}?mode=memory&cache=shared", True
    options: dict[str, Any] = (
        {"poolclass": StaticPool}
        if memory
        else {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    )
    engine = create_async_engine(parsed, connect_args=args, echo=echo, **options)
    _configure_sqlite(engine, busy_timeout_ms, wal=not memory)
    _SQLITE_TARGETS[engine] = SqliteTarget(database, uri, memory, busy_timeout_ms / 1000)
    return engine


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int, *, wal: bool) -> None:
    pragmas = [
        f"PRAGMA busy_timeout = {int(busy_timeout_ms)}",
        "PRAGMA foreign_keys = ON",
        "PRAGMA synchronous = NORMAL",
    ]
    if wal:
        pragmas.insert(0, "PRAGMA journal_mode = WAL")

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of the driver's hands: we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
