"""Normalised payment events: what any provider's webhook is parsed into."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from accessgate.domain.model.values import Money


class PaymentEventKind(StrEnum):
    """What happened, in the provider-neutral words of the domain."""

    CHECKOUT_COMPLETED = "checkout_completed"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    CHECKOUT_EXPIRED = "checkout_expired"
    SUBSCRIPTION_RENEWED = "subscription_renewed"
    SUBSCRIPTION_PAYMENT_FAILED = "subscription_payment_failed"
    SUBSCRIPTION_UPDATED = "subscription_updated"
    SUBSCRIPTION_EXPIRED = "subscription_expired"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


FULFILLING_KINDS = frozenset(
    {PaymentEventKind.CHECKOUT_COMPLETED, PaymentEventKind.PAYMENT_SUCCEEDED}
)


class PaymentEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One verified provider event.

    The order is found by the first of ``order_id``, ``session_id``,
    ``subscription_id`` and ``payment_id`` that the event carries.
    ``paid`` is false for a completed checkout whose money has not arrived yet
    (a delayed payment method). ``period_end`` is the end of the paid period
    for subscription events; ``cancel_at_period_end`` for subscription updates.
    """

    provider: str
    event_id: str
    kind: PaymentEventKind
    occurred_at: datetime
    order_id: str | None = None
    session_id: str | None = None
    subscription_id: str | None = None
    payment_id: str | None = None
    customer_id: str | None = None
    amount: Money | None = None
    paid: bool = True
    period_end: datetime | None = None
    cancel_at_period_end: bool | None = None


class EventOutcome(StrEnum):
    """What applying an event did."""

    FULFILLED = "fulfilled"
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    ALREADY_FULFILLED = "already_fulfilled"
    AWAITING_PAYMENT = "awaiting_payment"
    STALE = "stale"
    IGNORED = "ignored"
    # Recorded, not yet applied: only seen inside the unit of work that records it.
    RECEIVED = "received"


class PaymentEventRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The stored trace of an applied event; (provider, event_id) is unique.

    Use cases record it first, before the order is looked up (``order_id``
    ``None``, outcome ``received``), and store its order and outcome before
    they commit: a committed record always names its order.
    """

    provider: str
    event_id: str
    kind: PaymentEventKind
    order_id: str | None
    occurred_at: datetime
    received_at: datetime
    outcome: EventOutcome
