"""Turning driver, SQLAlchemy and OS errors into the domain's StorageError.

Driver messages quote SQL and bound parameters (ids, seeds, hashes), so none
of it is kept: the StorageError carries a fixed sentence, the error's class
name and no cause (``from None``), so no traceback shows the driver's text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc

from accessgate.domain.model.errors import StorageError

_DRIVER_MODULES = ("asyncpg", "aiosqlite", "sqlite3", "sqlalchemy")


def is_storage_failure(error: BaseException) -> bool:
    """Whether ``error`` comes from the database, its driver or the network."""
    if isinstance(error, exc.SQLAlchemyError | sqlite3.Error | OSError | TimeoutError):
        return True
    return type(error).__module__.split(".")[0] in _DRIVER_MODULES


def storage_error(error: BaseException) -> StorageError:
    """The StorageError for a driver error, safe to show (no SQL, no values)."""
    if isinstance(error, exc.IntegrityError | sqlite3.IntegrityError) or any(
        cls.__name__ == "IntegrityConstraintViolationError" for cls in type(error).__mro__
    ):
        return StorageError("Storage refused a conflicting write", reason="IntegrityError")
    return StorageError(reason=type(error).__name__)


@asynccontextmanager
async def guarded() -> AsyncIterator[None]:
    """Re-raise any storage failure inside the block as StorageError."""
    try:
        yield
    except StorageError:
        raise
    except Exception as error:
        if is_storage_failure(error):
            raise storage_error(error) from None
        raise
