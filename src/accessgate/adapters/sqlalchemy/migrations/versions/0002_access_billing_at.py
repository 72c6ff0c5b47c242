"""Access: the time of the newest billing event (renewal paid or failed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``accesses.billing_at``."""
    with op.batch_alter_table("accesses") as batch:
        batch.add_column(sa.Column("billing_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop ``accesses.billing_at``."""
    with op.batch_alter_table("accesses") as batch:
        batch.drop_column("billing_at")
