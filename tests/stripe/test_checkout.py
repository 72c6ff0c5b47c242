"""create_checkout, fetch_checkout and customer_portal_url against the fake Stripe server."""

from __future__ import annotations

import socket

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.stripe import StripeGateway
from accessgate.domain.model.catalogue import Period, Plan
from accessgate.domain.model.errors import DomainError, ProviderRejected, ServiceUnavailable
from accessgate.domain.model.payment_event import PaymentEventKind
from accessgate.domain.model.values import Locale, Mode, Money, PlanCode
from accessgate.ports.payment_gateway import CheckoutRequest
from tests.stripe.conftest import PUBLIC, make_gateway
from tests.stripe.fake_stripe import PRICE_BASIC, PRICE_MONTHLY, SECRET_KEY, FakeStripe

SESSIONS = "/v1/checkout/sessions"
BASIC = Plan(code=PlanCode.ONE_TIME_BASIC, mode=Mode.ONE_TIME, prices=(Money.of(2000, "usd"),))
# The SDK hands httpx the form body as ``data=bytes``; httpx deprecates that form.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

MONTHLY = Plan(
    code=PlanCode.SUB_MONTHLY,
    mode=Mode.SUBSCRIPTION,
    prices=(Money.of(1000, "usd"),),
    period=Period.days(30),
)


def request(plan: Plan = BASIC, order_id: str = "ord_000001") -> CheckoutRequest:
    return CheckoutRequest(
        order_id=order_id,
        plan=plan,
        price=plan.price,
        email="buyer@example.com",
        locale=Locale.RU,
        clickid="clk-42",
        telegram_chat_id="777",
    )


def assert_no_secret(error: BaseException) -> None:
    text = f"{error!s} {error!r} {getattr(error, 'details', '')} {error.__cause__!r}"
    assert SECRET_KEY not in text
    assert error.__cause__ is None
    assert error.__suppress_context__


async def test_one_time_checkout_sends_stripe_parameters(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    session = await gateway.create_checkout(request())

    [sent] = fake.posts(SESSIONS)
    assert sent.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert sent.headers["Idempotency-Key"] == "accessgate-checkout-ord_000001"
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.form["mode"] == "payment"
    assert sent.form["line_items[0][price]"] == PRICE_BASIC
    assert sent.form["line_items[0][quantity]"] == "1"
    assert sent.form["customer_email"] == "buyer@example.com"
    assert sent.form["client_reference_id"] == "ord_000001"
    assert sent.form["customer_creation"] == "always"
    assert sent.form["success_url"] == f"{PUBLIC}/pay/success?session_id={{CHECKOUT_SESSION_ID}}"
    assert sent.form["cancel_url"] == f"{PUBLIC}/pay?cancelled=1"
    for key, value in {
        "order_id": "ord_000001",
        "clickid": "clk-42",
        "locale": "ru",
        "telegram_chat_id": "777",
    }.items():
        assert sent.form[f"metadata[{key}]"] == value
        assert sent.form[f"payment_intent_data[metadata][{key}]"] == value
    # The amount is Stripe's price, not the catalogue's list price.
    assert (session.amount, session.currency) == (1990, "USD")
    assert session.session_id in fake.sessions
    assert session.checkout_url.startswith("https://checkout.stripe.com/c/pay/cs_test_")


async def test_subscription_checkout(gateway: StripeGateway, fake: FakeStripe) -> None:
    session = await gateway.create_checkout(request(MONTHLY, "ord_000002"))
    [sent] = fake.posts(SESSIONS)
    assert sent.form["mode"] == "subscription"
    assert sent.form["line_items[0][price]"] == PRICE_MONTHLY
    assert sent.form["subscription_data[metadata][order_id]"] == "ord_000002"
    assert "customer_creation" not in sent.form
    assert (session.amount, session.currency) == (990, "USD")


async def test_amount_from_the_price_when_the_session_has_none(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    fake.omit_amount_total = True
    session = await gateway.create_checkout(request(MONTHLY))
    assert (session.amount, session.currency) == (990, "USD")
    assert any(r.path == f"/v1/prices/{PRICE_MONTHLY}" for r in fake.requests)


@pytest.mark.parametrize("mode", ["500", "drop"])
async def test_retries_reuse_the_idempotency_key(
    gateway: StripeGateway, fake: FakeStripe, mode: str
) -> None:
    fake.fail_next(SESSIONS, 2, mode)
    session = await gateway.create_checkout(request())
    attempts = fake.posts(SESSIONS)
    assert len(attempts) == 3
    assert {a.headers["Idempotency-Key"] for a in attempts} == {"accessgate-checkout-ord_000001"}
    assert list(fake.sessions) == [session.session_id]


async def test_a_lost_response_is_replayed_not_created_twice(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    fake.fail_next(SESSIONS, 1, "drop_after")  # Stripe created it, the answer was lost
    session = await gateway.create_checkout(request())
    assert len(fake.posts(SESSIONS)) == 2
    assert list(fake.sessions) == [session.session_id]


async def test_persistent_5xx_is_service_unavailable(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    fake.fail_next(SESSIONS, 10, "500")
    with pytest.raises(ServiceUnavailable) as caught:
        await gateway.create_checkout(request())
    assert len(fake.posts(SESSIONS)) == 3  # the first try and max_network_retries=2
    assert_no_secret(caught.value)


async def test_unknown_price_is_provider_rejected(clock: SettableClock, fake: FakeStripe) -> None:
    gw = make_gateway(clock, fake.url, price_one_time_basic="price_missing")
    try:
        with pytest.raises(ProviderRejected) as caught:
            await gw.create_checkout(request())
    finally:
        await gw.aclose()
    assert caught.value.details == {
        "provider": "stripe",
        "provider_code": "resource_missing",
        "param": "line_items[0][price]",
    }
    assert len(fake.posts(SESSIONS)) == 1  # a 400 is not retried
    assert_no_secret(caught.value)


async def test_bad_key_is_service_unavailable_and_never_shown(
    clock: SettableClock, fake: FakeStripe
) -> None:
    gw = make_gateway(clock, fake.url, secret_key="sk_test_wrong_secret_value")
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            await gw.create_checkout(request())
    finally:
        await gw.aclose()
    assert "sk_test_wrong_secret_value" not in f"{caught.value} {caught.value.details}"
    assert_no_secret(caught.value)


async def test_unreachable_stripe_is_service_unavailable(clock: SettableClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gw = make_gateway(clock, f"http://127.0.0.1:{port}", max_network_retries=0)
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            await gw.create_checkout(request())
        with pytest.raises(ServiceUnavailable):
            await gw.fetch_checkout("cs_test_x")
        with pytest.raises(ServiceUnavailable):
            await gw.customer_portal_url("cus_x", PUBLIC + "/pay")
    finally:
        await gw.aclose()
    assert_no_secret(caught.value)


async def test_fetch_checkout_paid_unpaid_and_unknown(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    session = await gateway.create_checkout(request())
    assert await gateway.fetch_checkout(session.session_id) is None
    stored = fake.mark_paid(session.session_id)
    event = await gateway.fetch_checkout(session.session_id)
    assert event is not None
    assert event.kind is PaymentEventKind.CHECKOUT_COMPLETED
    assert event.event_id == f"checkout_fetch:{session.session_id}"
    assert event.paid
    assert event.order_id == "ord_000001"
    assert event.session_id == session.session_id
    assert event.payment_id == stored["payment_intent"]
    assert event.customer_id == stored["customer"]
    assert event.amount == Money.of(1990, "usd")
    assert int(event.occurred_at.timestamp()) == stored["created"]
    with pytest.raises(DomainError):
        await gateway.fetch_checkout("cs_test_unknown")


async def test_customer_portal(gateway: StripeGateway, fake: FakeStripe) -> None:
    fake.customers.add("cus_Known")
    url = await gateway.customer_portal_url("cus_Known", f"{PUBLIC}/pay")
    assert url.startswith("https://billing.stripe.com/p/session/")
    [sent] = fake.posts("/v1/billing_portal/sessions")
    assert sent.form == {"customer": "cus_Known", "return_url": f"{PUBLIC}/pay"}
    assert sent.headers["Idempotency-Key"].startswith("accessgate-portal-")
    with pytest.raises(ProviderRejected):
        await gateway.customer_portal_url("cus_Unknown", f"{PUBLIC}/pay")


def test_constructor_rejects_zero_tolerance_and_no_secret(clock: SettableClock) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        make_gateway(clock, "http://127.0.0.1:9", tolerance_seconds=0)
    with pytest.raises(ValueError, match="secret"):
        make_gateway(clock, "http://127.0.0.1:9", webhook_secrets=[" "])
