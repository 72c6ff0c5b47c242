"""CryptoPay checkout and status poll against the local Crypto Pay stand-in, field by field."""

from __future__ import annotations

import re

import pytest

from accessgate.adapters.cryptopay.gateway import CryptoPayGateway
from accessgate.adapters.memory.clock import SettableClock
from accessgate.domain.model.catalogue import Period, Plan
from accessgate.domain.model.errors import ProviderRejected, ServiceUnavailable
from accessgate.domain.model.payment_event import PaymentEventKind
from accessgate.domain.model.values import Locale, Mode, Money
from accessgate.ports.payment_gateway import CheckoutRequest, status_poll
from tests.providers.cryptopay.conftest import make_gateway
from tests.providers.cryptopay.fake_cryptopay import TOKEN, FakeCryptoPay

SESSION = re.compile(r"^cp_(\d+)_[A-Za-z0-9_-]{22}$")


def request(
    price: Money, *, mode: Mode = Mode.ONE_TIME, order_id: str = "ord_1"
) -> CheckoutRequest:
    period = None if mode is Mode.ONE_TIME else Period.months(1)
    plan = Plan(
        code="one_time_basic",
        mode=mode,
        prices=(price,),
        period=period,
        titles={Locale.EN: "Lifetime access"},
    )
    return CheckoutRequest(
        order_id=order_id, plan=plan, price=price, email="buyer@example.com", locale=Locale.EN
    )


async def test_a_fiat_price_makes_a_fiat_invoice_with_the_accepted_assets(
    gateway: CryptoPayGateway, fake: FakeCryptoPay
) -> None:
    session = await gateway.create_checkout(request(Money.of(1990, "USD")))
    [call] = fake.calls("createInvoice")
    assert call.headers["Crypto-Pay-API-Token"] == TOKEN
    assert call.params == {
        "currency_type": "fiat",
        "fiat": "USD",
        "accepted_assets": "USDT,TON",
        "amount": "19.90",
        "payload": "ord_1",
        "description": "Lifetime access",
        "expires_in": 3600,
        "allow_comments": False,
    }
    invoice = fake.invoices[int(SESSION.fullmatch(session.session_id).group(1))]  # type: ignore[union-attr]
    assert session.checkout_url == invoice["bot_invoice_url"]
    assert (session.amount, session.currency) == (1990, "USD")
    assert TOKEN not in session.checkout_url


async def test_a_crypto_price_makes_an_invoice_in_that_asset_with_an_exact_amount(
    gateway: CryptoPayGateway, fake: FakeCryptoPay
) -> None:
    session = await gateway.create_checkout(request(Money.of(1_500_001, "USDT")))
    [call] = fake.calls("createInvoice")
    assert call.params["currency_type"] == "crypto"
    assert call.params["asset"] == "USDT"
    assert call.params["amount"] == "1.500001"
    assert "fiat" not in call.params
    assert "accepted_assets" not in call.params
    assert (session.amount, session.currency) == (1_500_001, "USDT")
    await gateway.create_checkout(request(Money.of(2_500_000_000, "TON"), order_id="ord_2"))
    assert fake.calls("createInvoice")[1].params["amount"] == "2.5"


async def test_the_buyer_can_be_sent_to_the_web_app_or_mini_app_url(
    clock: SettableClock, fake: FakeCryptoPay
) -> None:
    for choice, field in (("web_app", "web_app_invoice_url"), ("mini_app", "mini_app_invoice_url")):
        gw = make_gateway(clock, fake, invoice_url=choice)
        session = await gw.create_checkout(request(Money.of(500, "EUR")))
        await gw.aclose()
        invoice = fake.invoices[int(SESSION.fullmatch(session.session_id).group(1))]  # type: ignore[union-attr]
        assert session.checkout_url == invoice[field]


async def test_session_ids_carry_the_invoice_id_and_an_unguessable_tag(
    gateway: CryptoPayGateway, clock: SettableClock, fake: FakeCryptoPay
) -> None:
    first = await gateway.create_checkout(request(Money.of(1990, "USD")))
    second = await gateway.create_checkout(request(Money.of(1990, "USD"), order_id="ord_2"))
    a, b = SESSION.fullmatch(first.session_id), SESSION.fullmatch(second.session_id)
    assert a is not None
    assert b is not None
    assert int(b.group(1)) == int(a.group(1)) + 1  # invoice ids are sequential...
    assert first.session_id.split("_")[2] != second.session_id.split("_")[2]  # ...tags are not
    other = make_gateway(clock, fake, api_token="67890:AAotherToken")
    assert other.session_id_of(int(a.group(1))) != first.session_id
    await other.aclose()


async def test_a_subscription_plan_or_stars_are_refused_before_any_call(
    gateway: CryptoPayGateway, fake: FakeCryptoPay
) -> None:
    with pytest.raises(ProviderRejected):
        await gateway.create_checkout(request(Money.of(990, "USD"), mode=Mode.SUBSCRIPTION))
    with pytest.raises(ProviderRejected):
        await gateway.create_checkout(request(Money.of(100, "XTR")))
    assert fake.requests == []


async def test_api_failures_are_clear_errors_that_never_show_the_token(
    clock: SettableClock, fake: FakeCryptoPay
) -> None:
    wrong = make_gateway(clock, fake, api_token="1:AAwrongToken")
    with pytest.raises(ServiceUnavailable) as unauthorized:  # the operator must act, not the buyer
        await wrong.create_checkout(request(Money.of(1990, "USD")))
    await wrong.aclose()
    gw = make_gateway(clock, fake)
    with pytest.raises(ProviderRejected) as rejected:  # a fiat the API does not take
        await gw.create_checkout(request(Money.of(1990, "JPY")))
    assert rejected.value.details == {"provider": "cryptopay", "provider_code": "FIAT_INVALID"}
    fake.fail_next = 1
    with pytest.raises(ServiceUnavailable) as down:
        await gw.create_checkout(request(Money.of(1990, "USD")))
    await gw.aclose()
    for error in (unauthorized.value, rejected.value, down.value):
        assert TOKEN not in f"{error} {error.details}"
    unreachable = make_gateway(clock, fake, api_base="http://127.0.0.1:9/api", timeout_seconds=2)
    with pytest.raises(ServiceUnavailable):
        await unreachable.create_checkout(request(Money.of(1990, "USD")))
    await unreachable.aclose()


async def test_the_status_poll_asks_get_invoices_and_reports_a_paid_invoice(
    gateway: CryptoPayGateway, fake: FakeCryptoPay
) -> None:
    session = await gateway.create_checkout(request(Money.of(1990, "USD")))
    invoice_id = int(SESSION.fullmatch(session.session_id).group(1))  # type: ignore[union-attr]
    poll = status_poll(gateway)
    assert await poll.fetch_checkout(session.session_id) is None
    [call] = fake.calls("getInvoices")
    assert call.params == {"invoice_ids": str(invoice_id)}
    assert call.headers["Crypto-Pay-API-Token"] == TOKEN
    fake.mark_paid(invoice_id)
    event = await poll.fetch_checkout(session.session_id)
    assert event is not None
    assert event.event_id == f"invoice_paid:{invoice_id}"
    assert event.kind is PaymentEventKind.CHECKOUT_COMPLETED
    assert (event.order_id, event.session_id) == ("ord_1", session.session_id)
    assert event.amount == Money.of(1990, "USD")
    assert await poll.fetch_checkout("cs_not_ours") is None
