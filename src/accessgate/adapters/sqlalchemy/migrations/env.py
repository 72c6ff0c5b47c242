"""Alembic environment, driven by :mod:`accessgate.adapters.sqlalchemy.migrate`.

Online, the caller hands over a synchronous connection (from ``run_sync``) in
``config.attributes["connection"]``, already in a transaction; offline, the
URL in ``config.attributes["url"]`` only picks the SQL dialect.
"""

from __future__ import annotations

from alembic import context

from accessgate.adapters.sqlalchemy.tables import metadata

config = context.config

if context.is_offline_mode():
    context.configure(
        url=config.attributes["url"],
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
