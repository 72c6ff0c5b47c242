"""Stripe events -> the domain's PaymentEvents.

| Stripe event | PaymentEvent kind |
| --- | --- |
| ``checkout.session.completed`` | CHECKOUT_COMPLETED (``paid`` iff payment_status is paid / no_payment_required) |
| ``checkout.session.async_payment_succeeded`` | PAYMENT_SUCCEEDED |
| ``checkout.session.async_payment_failed`` | PAYMENT_FAILED |
| ``checkout.session.expired`` | CHECKOUT_EXPIRED |
| ``invoice.paid`` | SUBSCRIPTION_RENEWED (not for billing_reason ``subscription_create``) |
| ``invoice.payment_failed`` | SUBSCRIPTION_PAYMENT_FAILED (not for ``subscription_create``) |
| ``customer.subscription.updated`` | SUBSCRIPTION_UPDATED |
| ``customer.subscription.deleted`` | SUBSCRIPTION_EXPIRED |
| ``charge.refunded`` | REFUNDED (full refunds only) |
| ``charge.dispute.created`` | DISPUTED |

Every other type gives no event. The first invoice of a subscription
(``subscription_create``) is the checkout's own payment, already reported by
the completion, and may arrive before the order knows its subscription.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import msgspec

from accessgate.adapters.stripe import wire
from accessgate.domain.model.errors import InvalidSignature, ValidationError
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Money

K = PaymentEventKind
PAID_STATUSES = frozenset({"paid", "no_payment_required"})
FIRST_INVOICE = "subscription_create"

_SESSION_KINDS = {
    "checkout.session.completed": K.CHECKOUT_COMPLETED,
    "checkout.session.async_payment_succeeded": K.PAYMENT_SUCCEEDED,
    "checkout.session.async_payment_failed": K.PAYMENT_FAILED,
    "checkout.session.expired": K.CHECKOUT_EXPIRED,
}


def _time(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _money(amount: int | None, currency: str | None) -> Money | None:
    return None if amount is None or not currency else Money.of(amount, currency)


def session_event(
    provider: str, event_id: str, kind: PaymentEventKind, at: datetime, s: wire.CheckoutSession
) -> PaymentEvent:
    """The event of a Checkout Session (from a webhook or a retrieve)."""
    order_id = s.client_reference_id or (s.metadata or {}).get("order_id")
    paid = kind is K.PAYMENT_SUCCEEDED or (
        kind is K.CHECKOUT_COMPLETED and s.payment_status in PAID_STATUSES
    )
    return PaymentEvent(
        provider=provider,
        event_id=event_id,
        kind=kind,
        occurred_at=at,
        order_id=order_id,
        session_id=s.id,
        subscription_id=s.subscription,
        payment_id=s.payment_intent,
        customer_id=s.customer,
        amount=_money(s.amount_total, s.currency),
        paid=paid,
    )


def _invoice(provider: str, e: wire.Event, at: datetime) -> list[PaymentEvent]:
    invoice = wire.INVOICE.decode(e.data.object)
    subscription = invoice.subscription_id()
    if invoice.billing_reason == FIRST_INVOICE or subscription is None:
        return []
    renewed = e.type == "invoice.paid"
    return [
        PaymentEvent(
            provider=provider,
            event_id=e.id,
            kind=K.SUBSCRIPTION_RENEWED if renewed else K.SUBSCRIPTION_PAYMENT_FAILED,
            occurred_at=at,
            subscription_id=subscription,
            customer_id=invoice.customer,
            amount=_money(invoice.amount_paid, invoice.currency) if renewed else None,
            paid=renewed,
            period_end=_time(invoice.period_end()),
        )
    ]


def _subscription(provider: str, e: wire.Event, at: datetime) -> list[PaymentEvent]:
    sub = wire.SUBSCRIPTION.decode(e.data.object)
    updated = e.type == "customer.subscription.updated"
    return [
        PaymentEvent(
            provider=provider,
            event_id=e.id,
            kind=K.SUBSCRIPTION_UPDATED if updated else K.SUBSCRIPTION_EXPIRED,
            occurred_at=at,
            subscription_id=sub.id,
            customer_id=sub.customer,
            period_end=_time(sub.period_end()),
            cancel_at_period_end=sub.cancel_at_period_end if updated else None,
        )
    ]


def _refund(provider: str, e: wire.Event, at: datetime) -> list[PaymentEvent]:
    charge = wire.CHARGE.decode(e.data.object)
    if charge.amount_refunded < charge.amount:
        return []  # a partial refund keeps the access
    return [
        PaymentEvent(
            provider=provider,
            event_id=e.id,
            kind=K.REFUNDED,
            occurred_at=at,
            payment_id=charge.payment_intent or charge.id,
            customer_id=charge.customer,
            amount=_money(charge.amount_refunded, charge.currency),
        )
    ]


def _dispute(provider: str, e: wire.Event, at: datetime) -> list[PaymentEvent]:
    dispute = wire.DISPUTE.decode(e.data.object)
    payment_id = dispute.payment_intent or dispute.charge
    return [
        PaymentEvent(
            provider=provider,
            event_id=e.id,
            kind=K.DISPUTED,
            occurred_at=at,
            payment_id=payment_id,
            amount=_money(dispute.amount, dispute.currency),
        )
    ]


_Mapper = Callable[[str, wire.Event, datetime], list[PaymentEvent]]
_MAPPERS: dict[str, _Mapper] = {
    "invoice.paid": _invoice,
    "invoice.payment_failed": _invoice,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _subscription,
    "charge.refunded": _refund,
    "charge.dispute.created": _dispute,
}


def parse_event(provider: str, body: bytes) -> list[PaymentEvent]:
    """Decode a verified event body into PaymentEvents (``[]`` for unused types).

    A body that is not a Stripe event raises InvalidSignature: it cannot come
    from Stripe even if it was signed.
    """
    try:
        event = wire.EVENT.decode(body)
        at = datetime.fromtimestamp(event.created, UTC)
        kind = _SESSION_KINDS.get(event.type)
        if kind is not None:
            session = wire.CHECKOUT_SESSION.decode(event.data.object)
            return [session_event(provider, event.id, kind, at, session)]
        mapper = _MAPPERS.get(event.type)
        return mapper(provider, event, at) if mapper else []
    except (msgspec.DecodeError, ValidationError, ValueError, OverflowError, OSError):
        raise InvalidSignature("Signed body is not a valid Stripe event") from None
