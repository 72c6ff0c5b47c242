"""Schema migrations: upgrade, downgrade, offline SQL, and the start-up check.

The Alembic scripts ship inside the package (``migrations/``) and are
configured in code, so no ``alembic.ini`` is needed. Each function takes a
database URL or an AsyncEngine; Alembic runs on the async connection through
``run_sync``. On PostgreSQL an advisory lock makes concurrent upgrades (several
replicas starting at once) run one after the other.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessgate.adapters.sqlalchemy.engine import create_engine, normalize_url
from accessgate.adapters.sqlalchemy.errors import guarded
from accessgate.domain.model.errors import StorageError

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATE_COMMAND = "accessgate migrate"
logger = logging.getLogger("accessgate.storage")
_LOCK_ID = 7_274_921_356  # pg_advisory_xact_lock key of accessgate migrations
T = TypeVar("T")


class SchemaOutdated(StorageError):
    """The database schema is not the one this version of accessgate needs."""

    default_message = f"The database schema is not up to date: run `{MIGRATE_COMMAND}`"


def alembic_config(url: str | None = None, output: io.StringIO | None = None) -> Config:
    """The Alembic configuration of the packaged migrations."""
    config = Config(output_buffer=output)
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.attributes["url"] = normalize_url(url).render_as_string(hide_password=False)
    return config


def head_revision() -> str:
    """The newest revision this version of accessgate ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations are packaged")
    return head


async def _run(target: str | AsyncEngine, work: Callable[[Connection], T]) -> T:
    engine = target if isinstance(target, AsyncEngine) else create_engine(target, pool_size=1)
    try:
        async with guarded(), engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        if engine is not target:
            await engine.dispose()


def _alembic(action: Callable[[Config], None]) -> Callable[[Connection], None]:
    def work(conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK_ID})"))
        config = alembic_config()
        config.attributes["connection"] = conn
        action(config)

    return work


async def upgrade(target: str | AsyncEngine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (default: the newest)."""
    await _run(target, _alembic(lambda config: command.upgrade(config, revision)))


async def downgrade(target: str | AsyncEngine, revision: str) -> None:
    """Downgrade the schema to ``revision`` (``base`` drops every table)."""
    await _run(target, _alembic(lambda config: command.downgrade(config, revision)))


def upgrade_sql(url: str, revision: str = "head", from_revision: str | None = None) -> str:
    """The SQL that upgrades an empty (or ``from_revision``) schema, for a DBA to run.

    No connection is made: the URL only selects the SQL dialect.
    """
    output = io.StringIO()
    span = revision if from_revision is None else f"{from_revision}:{revision}"
    command.upgrade(alembic_config(url, output), span, sql=True)
    return output.getvalue()


async def current_revision(target: str | AsyncEngine) -> str | None:
    """The schema's revision, ``None`` for a database never migrated."""
    return await _run(target, lambda conn: MigrationContext.configure(conn).get_current_revision())


async def ensure_schema_current(
    target: str | AsyncEngine, *, auto_upgrade: bool | None = None
) -> None:
    """Make sure the schema is at the newest revision, or raise SchemaOutdated.

    Args:
        target: a database URL or AsyncEngine.
        auto_upgrade: upgrade an outdated schema instead of refusing it.
            ``None`` (default): upgrade a SQLite database, refuse any other.

    Raises:
        SchemaOutdated: the schema is behind (message: run ``accessgate migrate``)
            or ahead of this version of accessgate.

    """
    current = await current_revision(target)
    head = head_revision()
    if current == head:
        return
    script = ScriptDirectory.from_config(alembic_config())
    known = current is None or current in {rev.revision for rev in script.walk_revisions()}
    if not known:
        raise SchemaOutdated(
            f"The database schema (revision {current}) is newer than this accessgate "
            f"(revision {head}); upgrade accessgate"
        )
    backend = (
        target.dialect.name
        if isinstance(target, AsyncEngine)
        else normalize_url(target).get_backend_name()
    )
    is_sqlite = backend == "sqlite"
    if auto_upgrade or (auto_upgrade is None and is_sqlite):
        logger.info("upgrading the database schema from %s to %s", current or "none", head)
        await upgrade(target)
        return
    raise SchemaOutdated(
        f"The database schema is at revision {current or 'none'}, this accessgate needs "
        f"{head}: run `{MIGRATE_COMMAND}`",
        current=current,
        required=head,
    )
