"""Signed Stripe events -> PaymentEvents, for each type used and both API shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.stripe import StripeGateway
from accessgate.domain.model.errors import InvalidSignature
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Money
from tests.stripe import stripe_events as se
from tests.stripe.conftest import make_gateway

K = PaymentEventKind
SESSION: dict[str, Any] = {
    "id": "cs_test_a1",
    "object": "checkout.session",
    "amount_total": 990,
    "currency": "usd",
    "client_reference_id": "ord_000001",
    "customer": "cus_1",
    "customer_details": {"email": "buyer@example.com", "name": None},
    "metadata": {"order_id": "ord_000001", "locale": "en"},
    "mode": "subscription",
    "payment_intent": None,
    "payment_status": "paid",
    "status": "complete",
    "subscription": "sub_1",
}


@pytest.fixture
def gw(clock: SettableClock) -> StripeGateway:
    return make_gateway(clock, "http://127.0.0.1:9")


def deliver(
    gw: StripeGateway, clock: SettableClock, type_: str, obj: dict[str, Any], **kw: Any
) -> list[PaymentEvent]:
    body = se.body_of(se.event(type_, obj, clock.now() - timedelta(seconds=5), **kw))
    return gw.verify_delivery(body, se.sign(body, clock.now()))


def one(events: list[PaymentEvent]) -> PaymentEvent:
    assert len(events) == 1
    return events[0]


def test_checkout_completed_paid(gw: StripeGateway, clock: SettableClock) -> None:
    e = one(deliver(gw, clock, "checkout.session.completed", SESSION))
    assert e.provider == "stripe"
    assert e.event_id.startswith("evt_")
    assert e.kind is K.CHECKOUT_COMPLETED
    assert e.paid
    assert e.occurred_at == clock.now() - timedelta(seconds=5)
    assert e.occurred_at.tzinfo is UTC
    assert (e.order_id, e.session_id, e.subscription_id, e.customer_id) == (
        "ord_000001",
        "cs_test_a1",
        "sub_1",
        "cus_1",
    )
    assert e.amount == Money(amount=990, currency="USD")


@pytest.mark.parametrize(("status", "paid"), [("unpaid", False), ("no_payment_required", True)])
def test_checkout_completed_payment_status(
    gw: StripeGateway, clock: SettableClock, status: str, paid: bool
) -> None:
    obj = {**SESSION, "payment_status": status, "mode": "payment", "payment_intent": "pi_1"}
    e = one(deliver(gw, clock, "checkout.session.completed", obj))
    assert e.paid is paid
    assert e.payment_id == "pi_1"


def test_order_id_falls_back_to_metadata(gw: StripeGateway, clock: SettableClock) -> None:
    e = one(
        deliver(gw, clock, "checkout.session.completed", {**SESSION, "client_reference_id": None})
    )
    assert e.order_id == "ord_000001"


@pytest.mark.parametrize(
    ("type_", "kind", "paid"),
    [
        ("checkout.session.async_payment_succeeded", K.PAYMENT_SUCCEEDED, True),
        ("checkout.session.async_payment_failed", K.PAYMENT_FAILED, False),
        ("checkout.session.expired", K.CHECKOUT_EXPIRED, False),
    ],
)
def test_other_session_events(
    gw: StripeGateway, clock: SettableClock, type_: str, kind: PaymentEventKind, paid: bool
) -> None:
    obj = {**SESSION, "payment_status": "unpaid", "status": "expired"}
    e = one(deliver(gw, clock, type_, obj))
    assert (e.kind, e.paid, e.session_id, e.order_id) == (kind, paid, "cs_test_a1", "ord_000001")


@pytest.mark.parametrize("legacy", [False, True])
def test_invoice_paid_is_a_renewal(gw: StripeGateway, clock: SettableClock, legacy: bool) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = datetime(2026, 4, 1, tzinfo=UTC)
    obj = se.invoice(
        subscription="sub_1", customer="cus_1", period_start=start, period_end=end, legacy=legacy
    )
    e = one(
        deliver(
            gw, clock, "invoice.paid", obj, api_version="2024-06-20" if legacy else se.API_VERSION
        )
    )
    assert (e.kind, e.subscription_id, e.customer_id, e.period_end) == (
        K.SUBSCRIPTION_RENEWED,
        "sub_1",
        "cus_1",
        end,
    )
    assert e.amount == Money.of(990, "usd")


@pytest.mark.parametrize("type_", ["invoice.paid", "invoice.payment_failed"])
def test_first_invoice_is_skipped(gw: StripeGateway, clock: SettableClock, type_: str) -> None:
    obj = se.invoice(
        subscription="sub_1",
        customer="cus_1",
        period_start=clock.now(),
        period_end=clock.now() + timedelta(days=30),
        billing_reason="subscription_create",
    )
    assert deliver(gw, clock, type_, obj) == []


@pytest.mark.parametrize("legacy", [False, True])
def test_invoice_payment_failed(gw: StripeGateway, clock: SettableClock, legacy: bool) -> None:
    obj = se.invoice(
        subscription="sub_1",
        customer="cus_1",
        period_start=clock.now(),
        period_end=clock.now() + timedelta(days=30),
        paid=False,
        legacy=legacy,
    )
    e = one(deliver(gw, clock, "invoice.payment_failed", obj))
    assert (e.kind, e.subscription_id, e.paid) == (K.SUBSCRIPTION_PAYMENT_FAILED, "sub_1", False)


def test_invoice_without_subscription_is_ignored(gw: StripeGateway, clock: SettableClock) -> None:
    obj = se.invoice(
        subscription="x", customer="cus_1", period_start=clock.now(), period_end=clock.now()
    )
    obj["parent"] = None
    assert deliver(gw, clock, "invoice.paid", obj) == []


@pytest.mark.parametrize("legacy", [False, True])
def test_subscription_updated_and_deleted(
    gw: StripeGateway, clock: SettableClock, legacy: bool
) -> None:
    end = datetime(2026, 4, 1, tzinfo=UTC)
    obj = se.subscription(
        sub_id="sub_1", customer="cus_1", period_end=end, cancel_at_period_end=True, legacy=legacy
    )
    e = one(deliver(gw, clock, "customer.subscription.updated", obj))
    assert (e.kind, e.subscription_id, e.cancel_at_period_end, e.period_end) == (
        K.SUBSCRIPTION_UPDATED,
        "sub_1",
        True,
        end,
    )
    obj["status"] = "canceled"
    e = one(deliver(gw, clock, "customer.subscription.deleted", obj))
    assert (e.kind, e.subscription_id, e.cancel_at_period_end) == (
        K.SUBSCRIPTION_EXPIRED,
        "sub_1",
        None,
    )


def test_full_refund_only(gw: StripeGateway, clock: SettableClock) -> None:
    assert (
        deliver(
            gw,
            clock,
            "charge.refunded",
            se.charge(payment_intent="pi_1", amount=1990, refunded=500),
        )
        == []
    )
    e = one(
        deliver(
            gw,
            clock,
            "charge.refunded",
            se.charge(payment_intent="pi_1", amount=1990, refunded=1990),
        )
    )
    assert (e.kind, e.payment_id) == (K.REFUNDED, "pi_1")


def test_dispute(gw: StripeGateway, clock: SettableClock) -> None:
    e = one(
        deliver(gw, clock, "charge.dispute.created", se.dispute(payment_intent="pi_1", amount=1990))
    )
    assert (e.kind, e.payment_id) == (K.DISPUTED, "pi_1")


@pytest.mark.parametrize(
    "type_",
    [
        "customer.subscription.created",
        "payment_intent.succeeded",
        "invoice.finalized",
        "some.future.event",
    ],
)
def test_unknown_types_give_nothing(gw: StripeGateway, clock: SettableClock, type_: str) -> None:
    assert (
        deliver(gw, clock, type_, {"id": "x_1", "object": "whatever", "nested": {"a": [1, 2]}})
        == []
    )


def test_known_type_with_a_broken_object_is_rejected(
    gw: StripeGateway, clock: SettableClock
) -> None:
    broken = se.charge(payment_intent="pi_1", amount=1990, refunded=1990)
    del broken["amount"]
    with pytest.raises(InvalidSignature):
        deliver(gw, clock, "charge.refunded", broken)


def test_known_type_about_another_object_is_rejected(
    gw: StripeGateway, clock: SettableClock
) -> None:
    with pytest.raises(InvalidSignature):
        deliver(gw, clock, "invoice.paid", se.charge(payment_intent="pi_1", amount=1, refunded=1))
    with pytest.raises(InvalidSignature):
        deliver(gw, clock, "invoice.paid", {"id": "x", "object": "quote"})
