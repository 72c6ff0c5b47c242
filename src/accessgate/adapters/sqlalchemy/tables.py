"""The tables of the storage, on one MetaData with a constraint naming convention.

Uniqueness lives here, in the database: (provider, event_id) of payment
events, the provider session id of orders, the token hash, one challenge per
email, the outbox dedupe key. Every lookup a repository does has an index.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

from accessgate.domain.model.currency import MAX_CURRENCY_LENGTH
from accessgate.domain.model.outbox import MAX_CHANNEL, MAX_DEDUPE_KEY

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL stores ``timestamptz``. SQLite has no time zones: values are
    stored as naive UTC text (fixed width, so text order is time order) and
    come back tz-aware UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive values; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes cannot be stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return tz-aware UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _id(name: str = "id", *args: Any, **kwargs: Any) -> Column[str]:
    return Column(name, String(64), *args, **kwargs)


def _ts(name: str, nullable: bool = False) -> Column[datetime]:
    return Column(name, UtcDateTime(), nullable=nullable)


orders = Table(
    "orders",
    metadata,
    _id(primary_key=True),
    Column("mode", String(32), nullable=False),
    Column("plan", String(64), nullable=False),
    Column("email", String(254), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("provider_session_id", String(255), nullable=False, unique=True),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(MAX_CURRENCY_LENGTH), nullable=False),
    _ts("created_at"),
    _ts("updated_at"),
    Column("clickid", String(512)),
    Column("telegram_chat_id", String(512)),
    Column("telegram_user_id", BigInteger),
    Column("payment_status", String(16), nullable=False),
    Column("fulfillment_status", String(16), nullable=False),
    Column("provider_customer_id", String(255)),
    Column("provider_subscription_id", String(255), index=True),
    Column("provider_payment_id", String(255), index=True),
    Column("fbclid", String(512)),
    Column("client_ip", String(512)),
    Column("user_agent", String(512)),
    _ts("paid_at", nullable=True),
    Index("ix_orders_email_created_at", "email", "created_at"),
    Index("ix_orders_payment_status_created_at", "payment_status", "created_at"),
)

accesses = Table(
    "accesses",
    metadata,
    _id("order_id", ForeignKey("orders.id"), primary_key=True),
    Column("status", String(16), nullable=False),
    _ts("changed_at"),
    _ts("updated_at"),
    Column("telegram_user_id", BigInteger, index=True),
    _ts("valid_until", nullable=True),
    _ts("grace_until", nullable=True),
    Column("cancel_at_period_end", Boolean, nullable=False),
    _ts("billing_at", nullable=True),
    Index("ix_accesses_status_valid_until", "status", "valid_until"),
)

activation_tokens = Table(
    "activation_tokens",
    metadata,
    Column("token_hash", String(128), primary_key=True),
    _id("order_id", ForeignKey("orders.id"), nullable=False, index=True),
    Column("seed", String(128), nullable=False),
    _ts("created_at"),
    _ts("expires_at"),
    _ts("used_at", nullable=True),
    Column("used_by", BigInteger),
    _ts("revoked_at", nullable=True),
)

otp_challenges = Table(
    "otp_challenges",
    metadata,
    _id(primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("code_hash", String(128), nullable=False),
    Column("seed", String(128), nullable=False),
    _ts("created_at"),
    _ts("expires_at"),
    Column("attempts_left", Integer, nullable=False),
    _ts("consumed_at", nullable=True),
    _ts("window_started_at", nullable=True),
    Column("codes_in_window", Integer, nullable=False, server_default="1"),
)

payment_events = Table(
    "payment_events",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("kind", String(32), nullable=False),
    # The order the event claims, written before the order is looked up (0005):
    # no foreign key; an event whose order is unknown rolls its record back.
    _id("order_id", nullable=True, index=True),
    _ts("occurred_at"),
    _ts("received_at"),
    Column("outcome", String(32), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    _id(primary_key=True),
    Column("channel", String(MAX_CHANNEL), nullable=False),
    Column("dedupe_key", String(MAX_DEDUPE_KEY), nullable=False, unique=True),
    Column("payload", JSON, nullable=False),
    _ts("created_at"),
    _ts("next_attempt_at"),
    Column("max_attempts", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    _ts("locked_until", nullable=True),
    Column("last_error", Text),
    _ts("delivered_at", nullable=True),
    Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_outbox_created_at", "created_at"),
)
