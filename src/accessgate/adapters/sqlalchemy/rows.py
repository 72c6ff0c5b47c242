"""Explicit mapping between the domain's msgspec Structs and table rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accessgate.domain.model.access import Access
from accessgate.domain.model.credentials import ActivationToken, OtpChallenge
from accessgate.domain.model.order import Order
from accessgate.domain.model.outbox import OutboxMessage, OutboxStatus, parse_channel
from accessgate.domain.model.payment_event import (
    EventOutcome,
    PaymentEventKind,
    PaymentEventRecord,
)
from accessgate.domain.model.status import AccessStatus, FulfillmentStatus, PaymentStatus
from accessgate.domain.model.values import Locale, Mode, Money

Row = dict[str, Any]

_ORDER_PLAIN = (
    "id",
    "email",
    "provider",
    "provider_session_id",
    "created_at",
    "updated_at",
    "clickid",
    "telegram_chat_id",
    "telegram_user_id",
    "provider_customer_id",
    "provider_subscription_id",
    "provider_payment_id",
    "fbclid",
    "client_ip",
    "user_agent",
    "paid_at",
)


def order_row(order: Order) -> Row:
    """The row of an order (Money as amount + currency, enums as their values)."""
    row: Row = {name: getattr(order, name) for name in _ORDER_PLAIN}
    row.update(
        mode=order.mode.value,
        plan=order.plan,
        locale=order.locale.value,
        amount=order.amount.amount,
        currency=order.amount.currency,
        payment_status=order.payment_status.value,
        fulfillment_status=order.fulfillment_status.value,
    )
    return row


def to_order(row: Mapping[str, Any]) -> Order:
    """The order of a row."""
    return Order(
        **{name: row[name] for name in _ORDER_PLAIN},
        mode=Mode(row["mode"]),
        plan=row["plan"],
        locale=Locale(row["locale"]),
        amount=Money(amount=row["amount"], currency=row["currency"]),
        payment_status=PaymentStatus(row["payment_status"]),
        fulfillment_status=FulfillmentStatus(row["fulfillment_status"]),
    )


def access_row(access: Access) -> Row:
    """The row of an access."""
    return {
        "order_id": access.order_id,
        "status": access.status.value,
        "changed_at": access.changed_at,
        "updated_at": access.updated_at,
        "telegram_user_id": access.telegram_user_id,
        "valid_until": access.valid_until,
        "grace_until": access.grace_until,
        "cancel_at_period_end": access.cancel_at_period_end,
        "billing_at": access.billing_at,
    }


def to_access(row: Mapping[str, Any]) -> Access:
    """The access of a row."""
    return Access(
        order_id=row["order_id"],
        status=AccessStatus(row["status"]),
        changed_at=row["changed_at"],
        updated_at=row["updated_at"],
        telegram_user_id=row["telegram_user_id"],
        valid_until=row["valid_until"],
        grace_until=row["grace_until"],
        cancel_at_period_end=bool(row["cancel_at_period_end"]),
        billing_at=row["billing_at"],
    )


_TOKEN = ("token_hash", "order_id", "seed", "created_at", "expires_at", "used_at", "used_by")
_TOKEN_FIELDS = (*_TOKEN, "revoked_at")


def token_row(token: ActivationToken) -> Row:
    """The row of an activation token."""
    return {name: getattr(token, name) for name in _TOKEN_FIELDS}


def to_token(row: Mapping[str, Any]) -> ActivationToken:
    """The activation token of a row."""
    return ActivationToken(**{name: row[name] for name in _TOKEN_FIELDS})


_OTP_FIELDS = (
    "id",
    "email",
    "code_hash",
    "seed",
    "created_at",
    "expires_at",
    "attempts_left",
    "consumed_at",
    "window_started_at",
    "codes_in_window",
)


def otp_row(challenge: OtpChallenge) -> Row:
    """The row of a restore challenge."""
    return {name: getattr(challenge, name) for name in _OTP_FIELDS}


def to_otp(row: Mapping[str, Any]) -> OtpChallenge:
    """The restore challenge of a row."""
    return OtpChallenge(**{name: row[name] for name in _OTP_FIELDS})


def event_row(record: PaymentEventRecord) -> Row:
    """The row of an applied payment event."""
    return {
        "provider": record.provider,
        "event_id": record.event_id,
        "kind": record.kind.value,
        "order_id": record.order_id,
        "occurred_at": record.occurred_at,
        "received_at": record.received_at,
        "outcome": record.outcome.value,
    }


def to_event(row: Mapping[str, Any]) -> PaymentEventRecord:
    """The applied payment event of a row."""
    return PaymentEventRecord(
        provider=row["provider"],
        event_id=row["event_id"],
        kind=PaymentEventKind(row["kind"]),
        order_id=row["order_id"],
        occurred_at=row["occurred_at"],
        received_at=row["received_at"],
        outcome=EventOutcome(row["outcome"]),
    )


_OUTBOX_PLAIN = (
    "id",
    "dedupe_key",
    "created_at",
    "next_attempt_at",
    "max_attempts",
    "attempts",
    "locked_until",
    "last_error",
    "delivered_at",
)


def outbox_row(message: OutboxMessage) -> Row:
    """The row of an outbox message (payload as JSON)."""
    row: Row = {name: getattr(message, name) for name in _OUTBOX_PLAIN}
    row.update(
        channel=str(message.channel), status=message.status.value, payload=dict(message.payload)
    )
    return row


def to_outbox(row: Mapping[str, Any]) -> OutboxMessage:
    """The outbox message of a row."""
    return OutboxMessage(
        **{name: row[name] for name in _OUTBOX_PLAIN},
        channel=parse_channel(row["channel"]),
        status=OutboxStatus(row["status"]),
        payload={str(k): str(v) for k, v in row["payload"].items()},
    )
