"""Restore challenges: the daily window of codes issued to an address.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``otp_challenges.window_started_at`` and ``otp_challenges.codes_in_window``."""
    with op.batch_alter_table("otp_challenges") as batch:
        batch.add_column(sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("codes_in_window", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    """Drop the daily window columns."""
    with op.batch_alter_table("otp_challenges") as batch:
        batch.drop_column("codes_in_window")
        batch.drop_column("window_started_at")
