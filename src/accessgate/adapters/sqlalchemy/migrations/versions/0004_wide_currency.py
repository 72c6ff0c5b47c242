"""Currencies of up to 8 characters: ``XTR`` and crypto assets (``USDT``, ``DOGE``...).

``orders.currency`` is the only currency column; it grows from 3 to 8
characters. Downgrading narrows it back, which fails while an order holds a
longer code. SQLite does not enforce a VARCHAR length: an offline SQLite script
(``accessgate migrate --sql``), which cannot reflect the table to rebuild it,
leaves the column as it is and stays correct.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _offline_sqlite() -> bool:
    context = op.get_context()
    return context.as_sql and context.dialect.name == "sqlite"


def upgrade() -> None:
    """Widen ``orders.currency`` to 8 characters."""
    if _offline_sqlite():
        return
    with op.batch_alter_table("orders") as batch:
        batch.alter_column(
            "currency",
            existing_type=sa.String(length=3),
            type_=sa.String(length=8),
            existing_nullable=False,
        )


def downgrade() -> None:
    """Narrow ``orders.currency`` back to 3 characters."""
    if _offline_sqlite():
        return
    with op.batch_alter_table("orders") as batch:
        batch.alter_column(
            "currency",
            existing_type=sa.String(length=8),
            type_=sa.String(length=3),
            existing_nullable=False,
        )
