"""The SQLAlchemy storage adapter: SQLite (embedded default) and PostgreSQL.

Every exactly-once guarantee rests on the database: unique constraints,
``INSERT ... ON CONFLICT DO NOTHING``, row locks (``SELECT ... FOR UPDATE`` and
``SKIP LOCKED`` on PostgreSQL) and, on SQLite, one writer at a time
(``BEGIN IMMEDIATE``).
"""

from accessgate.adapters.sqlalchemy.engine import create_engine
from accessgate.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory

__all__ = ["SqlUnitOfWork", "SqlUnitOfWorkFactory", "create_engine"]
