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
from typing import Any, NamedTuple

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


def _session(provider: str, e: _Head, obj: wire.CheckoutSession) -> list[PaymentEvent]:
    return [session_event(provider, e.id, _SESSION_KINDS[e.type], e.at, obj)]


def _invoice(provider: str, e: _Head, invoice: wire.Invoice) -> list[PaymentEvent]:
    subscription = invoice.subscription_id()
    if invoice.billing_reason == FIRST_INVOICE or subscription is None:
        return []
    renewed = e.type == "invoice.paid"
    return [
        PaymentEvent(
            provider=provider,
            event_id=e.id,
            kind=K.SUBSCRIPTION_RENEWED if renewed else K.SUBSCRIPTION_PAYMENT_FAILED,
            occurred_at=e.at,
            subscription_id=subscription,
            customer_id=invoice.customer,
            amount=_money(invoice.amount_paid, invoice.currency) if renewed else None,
            paid=renewed,
            period_end=_time(invoice.period_end()),
        )
    ]


def _subscription(provider: str, e: _Head, sub: wire.Subscription) -> list[PaymentEvent]:
    updated = e.type == "customer.subscription.updated"
    return [
        PaymentEvent(
            provider=provider,
            event_id=e.id,
            kind=K.SUBSCRIPTION_UPDATED if updated else K.SUBSCRIPTION_EXPIRED,
            occurred_at=e.at,
            subscription_id=sub.id,
            customer_id=sub.customer,
            period_end=_time(sub.period_end()),
            cancel_at_period_end=sub.cancel_at_period_end if updated else None,
        )
    ]


def _refund(provider: str, e: _Head, charge: wire.Charge) -> list[PaymentEvent]:
    if charge.amount_refunded < charge.amount:
        return []  # a partial refund keeps the access
    return [
        PaymentEvent(
            provider=provider,
            event_id=e.id,
            kind=K.REFUNDED,
            occurred_at=e.at,
            payment_id=charge.payment_intent or charge.id,
            customer_id=charge.customer,
            amount=_money(charge.amount_refunded, charge.currency),
        )
    ]


def _dispute(provider: str, e: _Head, dispute: wire.Dispute) -> list[PaymentEvent]:
    return [
        PaymentEvent(
            provider=provider,
            event_id=e.id,
            kind=K.DISPUTED,
            occurred_at=e.at,
            payment_id=dispute.payment_intent or dispute.charge,
            amount=_money(dispute.amount, dispute.currency),
        )
    ]


class _Head(NamedTuple):
    id: str
    type: str
    at: datetime


_Mapper = Callable[[str, _Head, Any], list[PaymentEvent]]
_SESSION = (wire.CheckoutSession, wire.CHECKOUT_SESSION, _session)
_INVOICE = (wire.Invoice, wire.INVOICE, _invoice)
_SUBSCRIPTION = (wire.Subscription, wire.SUBSCRIPTION, _subscription)
_TABLE: dict[str, tuple[type, msgspec.json.Decoder[Any], _Mapper]] = {
    **dict.fromkeys(_SESSION_KINDS, _SESSION),
    "invoice.paid": _INVOICE,
    "invoice.payment_failed": _INVOICE,
    "customer.subscription.updated": _SUBSCRIPTION,
    "customer.subscription.deleted": _SUBSCRIPTION,
    "charge.refunded": (wire.Charge, wire.CHARGE, _refund),
    "charge.dispute.created": (wire.Dispute, wire.DISPUTE, _dispute),
}


def parse_event(provider: str, body: bytes) -> list[PaymentEvent]:
    """Decode a verified event body into PaymentEvents (``[]`` for unused types).

    An event about one of the objects read decodes in one pass; anything else
    goes through a raw envelope. A body that is not a Stripe event raises
    InvalidSignature: it cannot come from Stripe even if it was signed.
    """
    try:
        try:
            typed = wire.TYPED_EVENT.decode(body)
        except msgspec.DecodeError:
            return _parse_other(provider, body)
        entry = _TABLE.get(typed.type)
        obj = typed.data.object
        if entry is None:
            return []
        if not isinstance(obj, entry[0]):
            raise ValueError("the event's object is not of its type")
        head = _Head(typed.id, typed.type, datetime.fromtimestamp(typed.created, UTC))
        return entry[2](provider, head, obj)
    except (msgspec.DecodeError, ValidationError, ValueError, OverflowError, OSError):
        raise InvalidSignature("Signed body is not a valid Stripe event") from None


def _parse_other(provider: str, body: bytes) -> list[PaymentEvent]:
    event = wire.EVENT.decode(body)
    entry = _TABLE.get(event.type)
    if entry is None:
        return []
    head = _Head(event.id, event.type, datetime.fromtimestamp(event.created, UTC))
    return entry[2](provider, head, entry[1].decode(event.data.object))
