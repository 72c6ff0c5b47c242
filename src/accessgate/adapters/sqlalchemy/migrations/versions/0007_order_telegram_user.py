"""Orders remember a verified Telegram account (``telegram_user_id``).

The bot's pay URL carries the user's Telegram id signed with SECRET_KEY; the pay
page verifies it and the order keeps the id, so fulfilment binds the access to that
account without a deep link. ``telegram_chat_id`` keeps its meaning (unverified).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable ``orders.telegram_user_id``."""
    op.add_column("orders", sa.Column("telegram_user_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Drop ``orders.telegram_user_id``."""
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("telegram_user_id")
