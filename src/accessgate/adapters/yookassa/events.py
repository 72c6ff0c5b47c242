"""Re-fetched YooKassa objects -> the domain's PaymentEvents.

| notification | checked at the API | PaymentEvent kind |
| --- | --- | --- |
| ``payment.succeeded`` | ``GET /payments/{id}``: ``status`` succeeded and ``paid`` | PAYMENT_SUCCEEDED |
| ``payment.canceled`` | ``GET /payments/{id}``: ``status`` canceled | PAYMENT_FAILED |
| ``refund.succeeded`` | ``GET /refunds/{id}`` succeeded, then its payment: refunded in full | REFUNDED |

Every other event gives no event. The event id is the notification's event
and the object's id (``payment.succeeded:<payment id>``): stable across
YooKassa's redeliveries, and the same for the status poll, so a webhook after
a poll (or ``accessgate reconcile``) is a duplicate. Everything in an event
comes from the API's object, never from the notification's body.
"""

from __future__ import annotations

from datetime import UTC, datetime

from accessgate.adapters.yookassa import wire
from accessgate.domain.model.currency import minor_units
from accessgate.domain.model.errors import ServiceUnavailable, ValidationError
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Money

PROVIDER = "yookassa"
SUCCEEDED = "payment.succeeded"
CANCELED = "payment.canceled"
REFUND_SUCCEEDED = "refund.succeeded"


def event_id(event: str, object_id: str) -> str:
    """The deduplication id of a notification: ``<event>:<object id>``."""
    return f"{event}:{object_id}"


def money(amount: wire.Amount) -> Money:
    """The exact Money of a YooKassa amount.

    Raises:
        ServiceUnavailable: the API answered an amount that is not valid money.

    """
    try:
        currency = amount.currency.upper()
        return Money.of(minor_units(amount.value, currency), currency)
    except ValidationError:
        raise ServiceUnavailable("YooKassa returned an unexpected amount") from None


def _time(text: str | None, fallback: datetime) -> datetime:
    if not text:
        return fallback
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return fallback
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def payment_event(
    payment: wire.Payment, kind: PaymentEventKind, event: str, now: datetime, provider: str
) -> PaymentEvent:
    """The event of a (re-fetched) payment."""
    paid = kind is PaymentEventKind.PAYMENT_SUCCEEDED
    at = payment.captured_at if paid else None
    return PaymentEvent(
        provider=provider,
        event_id=event_id(event, payment.id),
        kind=kind,
        occurred_at=_time(at or payment.created_at, now),
        order_id=(payment.metadata or {}).get("order_id"),
        session_id=payment.id,
        payment_id=payment.id,
        amount=money(payment.amount),
        paid=paid,
    )


def refund_event(
    refund: wire.Refund, payment: wire.Payment, now: datetime, provider: str
) -> PaymentEvent | None:
    """The REFUNDED event when the payment is refunded in full, else ``None``."""
    refunded = money(payment.refunded_amount) if payment.refunded_amount else None
    paid = money(payment.amount)
    if refunded is None or refunded.currency != paid.currency or refunded.amount < paid.amount:
        return None  # a partial refund keeps the access
    return PaymentEvent(
        provider=provider,
        event_id=event_id(REFUND_SUCCEEDED, refund.id),
        kind=PaymentEventKind.REFUNDED,
        occurred_at=_time(refund.created_at, now),
        order_id=(payment.metadata or {}).get("order_id"),
        session_id=payment.id,
        payment_id=payment.id,
        amount=refunded,
    )
