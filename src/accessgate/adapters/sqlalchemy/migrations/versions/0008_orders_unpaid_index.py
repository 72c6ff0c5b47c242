"""Index unpaid orders by creation time (``accessgate reconcile``).

``accessgate reconcile`` reads the unpaid orders of a recent window, oldest
first, in batches; ``ix_orders_payment_status_created_at`` serves that read
without scanning every order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``ix_orders_payment_status_created_at``."""
    op.create_index(
        "ix_orders_payment_status_created_at", "orders", ["payment_status", "created_at"]
    )


def downgrade() -> None:
    """Drop ``ix_orders_payment_status_created_at``."""
    op.drop_index("ix_orders_payment_status_created_at", table_name="orders")
