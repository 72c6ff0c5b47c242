"""Access targets are plug-ins: their outbox channel is ``target:<name>``.

``outbox.channel`` widens from 32 to 80 characters (``target:`` and a name of
up to 64), and the messages of the built-in access webhook move from the
channel ``access_webhook`` to ``target:access_webhook``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _outbox(channel_length: int) -> sa.Table:
    """``outbox`` as 0001 made it, so SQLite's batch copy needs no reflection (``--sql``)."""
    return sa.Table(
        "outbox",
        sa.MetaData(),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=channel_length), nullable=False),
        sa.Column("dedupe_key", sa.String(length=512), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_outbox_created_at", "created_at"),
    )


def upgrade() -> None:
    """Widen ``outbox.channel`` to 80; ``access_webhook`` becomes ``target:access_webhook``."""
    with op.batch_alter_table("outbox", copy_from=_outbox(32)) as batch:
        batch.alter_column("channel", existing_type=sa.String(32), type_=sa.String(80))
    op.execute(
        "UPDATE outbox SET channel = 'target:access_webhook' WHERE channel = 'access_webhook'"
    )


def downgrade() -> None:
    """Back to ``access_webhook``; other target channels do not fit 32 characters and are dropped."""
    op.execute(
        "UPDATE outbox SET channel = 'access_webhook' WHERE channel = 'target:access_webhook'"
    )
    op.execute("DELETE FROM outbox WHERE length(channel) > 32")
    with op.batch_alter_table("outbox", copy_from=_outbox(80)) as batch:
        batch.alter_column("channel", existing_type=sa.String(80), type_=sa.String(32))
