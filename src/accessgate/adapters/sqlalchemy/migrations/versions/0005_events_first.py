"""Payment events are recorded before their order is known; accesses expire by a job.

``payment_events.order_id`` becomes nullable and loses its foreign key: a use
case inserts the event record as its first statement (a duplicate stops there),
naming the order the event claims, before it has looked the order up; an event
whose order does not exist (or is another provider's) rolls the whole unit of
work back, the record with it, so a committed record always names its order.
(Orders are never deleted.)
``ix_accesses_status_valid_until`` serves the expiry job's search for accesses
that still run but whose period has ended.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _payment_events(order_id_nullable: bool, *, foreign_key: bool = True) -> sa.Table:
    """``payment_events`` as 0001 made it, so SQLite's batch copy needs no reflection (``--sql``)."""
    constraints: list[sa.ForeignKeyConstraint] = []
    if foreign_key:
        constraints.append(
            sa.ForeignKeyConstraint(
                ["order_id"], ["orders.id"], name="fk_payment_events_order_id_orders"
            )
        )
    return sa.Table(
        "payment_events",
        sa.MetaData(),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=order_id_nullable),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        *constraints,
        sa.PrimaryKeyConstraint("provider", "event_id", name="pk_payment_events"),
        sa.Index("ix_payment_events_order_id", "order_id"),
    )


def upgrade() -> None:
    """Let ``payment_events.order_id`` be NULL; index accesses by status and period end."""
    with op.batch_alter_table("payment_events", copy_from=_payment_events(False)) as batch:
        batch.alter_column("order_id", existing_type=sa.String(64), nullable=True)
        batch.drop_constraint("fk_payment_events_order_id_orders", type_="foreignkey")
    op.create_index(
        "ix_accesses_status_valid_until", "accesses", ["status", "valid_until"], unique=False
    )


def downgrade() -> None:
    """Drop the index; ``payment_events.order_id`` is NOT NULL again."""
    op.drop_index("ix_accesses_status_valid_until", table_name="accesses")
    op.execute("DELETE FROM payment_events WHERE order_id IS NULL")
    with op.batch_alter_table(
        "payment_events", copy_from=_payment_events(True, foreign_key=False)
    ) as batch:
        batch.alter_column("order_id", existing_type=sa.String(64), nullable=False)
        batch.create_foreign_key(
            "fk_payment_events_order_id_orders", "orders", ["order_id"], ["id"]
        )
