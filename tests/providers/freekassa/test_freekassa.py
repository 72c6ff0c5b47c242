"""FreeKassa: the signed payment form, the MD5 notification and its refusals.

Notifications are made by ``kit.notification`` exactly as FreeKassa makes
them (a form body, ``SIGN`` = md5 of ``MERCHANT_ID:AMOUNT:secret_2:MERCHANT_ORDER_ID``),
independently of the adapter. Refusals go through the HTTP app: none answers
500, none fulfils, none is answered ``YES``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from accessgate import plugins
from accessgate.adapters.freekassa.gateway import exact_amount
from accessgate.adapters.freekassa.plugin import (
    DEFAULT_PAY_URL,
    DEFAULT_TRUSTED_IPS,
    FreeKassaSettings,
)
from accessgate.adapters.memory.clock import SettableClock
from accessgate.container import Core, create_memory_container
from accessgate.domain.model.currency import decimal_string
from accessgate.domain.model.errors import InvalidSignature, ValidationError
from accessgate.domain.model.order import Order
from accessgate.domain.model.status import PaymentStatus
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from accessgate.entrypoints.http.app import create_app
from accessgate.plugins import PluginError
from accessgate.ports.payment_providers import ProviderContext
from accessgate.support.redaction import MASK
from tests.http.helpers import make_settings
from tests.providers.freekassa.kit import (
    ENV,
    FK_IP,
    MERCHANT_ID,
    SECRET_1,
    SECRET_2,
    FreeKassaKit,
    md5,
    notification,
)

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
YES = b"YES"


@pytest.fixture
def kit() -> FreeKassaKit:
    return FreeKassaKit(SettableClock(START))


def core_for(kit: FreeKassaKit) -> Core:
    return create_memory_container(make_settings(), clock=kit.clock, gateways=[kit.gateway])


async def checkout(core: Core, locale: str = "en") -> Order:
    started = await core.start_checkout().execute(
        StartCheckoutCommand(
            mode="one_time", plan="one_time_basic", email="buyer@example.com", locale=locale
        )
    )
    order: Order = core.uow().store.tables.orders[started.order_id]
    return order


def stored(core: Core, order: Order) -> Order:
    found: Order = core.uow().store.tables.orders[order.id]
    return found


def amount_of(order: Order) -> str:
    return decimal_string(order.amount.amount, order.amount.currency)


async def post(core: Core, body: bytes, *, peer: str = FK_IP, **settings: Any) -> httpx.Response:
    app = create_app(make_settings(**settings), core)
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        return await client.post(
            "/webhook/freekassa",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )


# --- the payment form ---------------------------------------------------------------------


async def test_checkout_is_the_signed_payment_form_url(kit: FreeKassaKit) -> None:
    core = core_for(kit)
    started = await core.start_checkout().execute(
        StartCheckoutCommand(
            mode="one_time", plan="one_time_basic", email="b+1@example.com", locale="en"
        )
    )
    url = urlsplit(started.checkout_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == DEFAULT_PAY_URL
    query = {k: v[0] for k, v in parse_qs(url.query, strict_parsing=True).items()}
    placed: Order = core.uow().store.tables.orders[started.order_id]
    amount = amount_of(placed)
    currency = placed.amount.currency
    assert query == {
        "m": MERCHANT_ID,
        "oa": amount,
        "currency": currency,
        "o": started.order_id,
        "em": "b+1@example.com",
        "lang": "en",
        "us_currency": currency,
        "s": md5(f"{MERCHANT_ID}:{amount}:{SECRET_1}:{currency}:{started.order_id}"),
    }
    assert SECRET_1 not in started.checkout_url
    assert SECRET_2 not in started.checkout_url


async def test_the_session_id_is_derived_from_the_order_and_not_guessable(
    kit: FreeKassaKit,
) -> None:
    core = core_for(kit)
    order = await checkout(core)
    session = order.provider_session_id
    assert session == kit.gateway.session_id_of(order.id)
    assert session.startswith(f"fk_{order.id}_")
    assert len(session) > len(order.id) + 20
    other = plugins.load("freekassa").build(
        plugins.read_group(plugins.load("freekassa"), {**ENV, "FREEKASSA_SECRET_2": "other"}),
        ProviderContext(clock=kit.clock, public_base_url="https://x", webhook_url="x"),
    )
    assert other.session_id_of(order.id) != session  # type: ignore[attr-defined]
    # the success page finds the order by it
    summary = await core.describe_checkout().execute(session)
    assert summary.order_id == order.id


# --- the notification: round trip ------------------------------------------------------------


async def test_a_genuine_notification_fulfils_and_is_answered_yes(kit: FreeKassaKit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    body = notification(order_id=order.id, amount=amount_of(order), intid="90812345").body
    response = await post(core, body)
    assert response.status_code == 200
    assert response.content == YES
    assert response.headers["content-type"].startswith("text/plain")
    paid = stored(core, order)
    assert paid.payment_status is PaymentStatus.PAID
    assert paid.provider_payment_id == "fk_90812345"
    again = await post(core, body)
    assert (again.status_code, again.content) == (200, YES)  # a redelivery is a no-op
    assert len(core.uow().store.tables.tokens) == 1
    assert list(core.uow().store.tables.payment_events) == [("freekassa", "90812345")]


async def test_the_sign_is_compared_case_insensitively(kit: FreeKassaKit) -> None:
    order = await checkout(core_for(kit))
    note = notification(order_id=order.id, amount=amount_of(order), intid="1", upper=True)
    verified = await kit.gateway.verify_webhook(note)
    [event] = verified.events
    assert (event.event_id, event.order_id, event.amount) == ("1", order.id, order.amount)


async def test_the_form_signature_round_trips_into_the_notification(kit: FreeKassaKit) -> None:
    """FreeKassa signs back what the form sent (m, oa, o); the amount parses exactly."""
    core = core_for(kit)
    started = await core.start_checkout().execute(
        StartCheckoutCommand(mode="one_time", plan="one_time_basic", email="b@example.com")
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.checkout_url).query).items()}
    note = notification(merchant_id=query["m"], amount=query["oa"], order_id=query["o"], intid="77")
    [event] = (await kit.gateway.verify_webhook(note)).events
    order = stored(core, core.uow().store.tables.orders[started.order_id])
    assert (event.order_id, event.amount) == (order.id, order.amount)


# --- refusals ------------------------------------------------------------------------------


async def assert_refused(core: Core, order: Order, response: httpx.Response, code: str) -> None:
    assert response.status_code in (400, 403, 404), response.text
    assert response.content != YES
    assert response.json()["error"]["code"] == code
    assert stored(core, order).payment_status is PaymentStatus.UNPAID
    assert core.uow().store.tables.tokens == {}
    assert core.uow().store.tables.payment_events == {}


async def test_a_notification_signed_with_the_first_secret_word_is_refused(
    kit: FreeKassaKit,
) -> None:
    core = core_for(kit)
    order = await checkout(core)
    note = notification(order_id=order.id, amount=amount_of(order), intid="2", secret=SECRET_1)
    await assert_refused(core, order, await post(core, note.body), "INVALID_SIGNATURE")


async def test_a_notification_for_another_merchant_is_refused(kit: FreeKassaKit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    # correctly signed with our second word, but for another shop id
    note = notification(order_id=order.id, amount=amount_of(order), intid="3", merchant_id="999")
    await assert_refused(core, order, await post(core, note.body), "INVALID_SIGNATURE")


async def test_an_amount_formatted_unlike_the_signed_one_is_refused(kit: FreeKassaKit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    sent = amount_of(order)  # "19.90" / "49.00"
    signed = sent.rstrip("0").rstrip(".") if sent.endswith("0") else f"{sent}0"
    assert signed != sent
    note = notification(order_id=order.id, amount=sent, intid="4", signed_amount=signed)
    await assert_refused(core, order, await post(core, note.body), "INVALID_SIGNATURE")


async def test_100_signed_and_100_00_sent_is_refused(kit: FreeKassaKit) -> None:
    note = notification(order_id="ord_x", amount="100.00", intid="5", signed_amount="100")
    with pytest.raises(InvalidSignature):
        await kit.gateway.verify_webhook(note)


async def test_an_address_outside_the_list_is_refused(kit: FreeKassaKit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    body = notification(order_id=order.id, amount=amount_of(order), intid="6").body
    await assert_refused(
        core, order, await post(core, body, peer="203.0.113.7"), "INVALID_SIGNATURE"
    )
    # a forwarded header from a peer that is not a trusted proxy counts for nothing
    app = create_app(make_settings(), core)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        spoofed = await client.post(
            "/webhook/freekassa",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded", "x-forwarded-for": FK_IP},
        )
    await assert_refused(core, order, spoofed, "INVALID_SIGNATURE")


async def test_freekassa_behind_a_trusted_proxy_is_accepted(kit: FreeKassaKit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    body = notification(order_id=order.id, amount=amount_of(order), intid="7").body
    app = create_app(make_settings(trusted_proxies=("10.0.0.0/8",)), core)
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        response = await client.post(
            "/webhook/freekassa",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded", "x-forwarded-for": FK_IP},
        )
    assert (response.status_code, response.content) == (200, YES)
    assert stored(core, order).payment_status is PaymentStatus.PAID


async def test_another_currency_or_amount_is_invalid_amount_and_not_yes(kit: FreeKassaKit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    other = "EUR" if order.amount.currency != "EUR" else "USD"
    wrong_currency = notification(
        order_id=order.id, amount=amount_of(order), intid="8", currency=other
    )
    await assert_refused(core, order, await post(core, wrong_currency.body), "INVALID_AMOUNT")
    more = decimal_string(order.amount.amount + 100, order.amount.currency)
    wrong_amount = notification(order_id=order.id, amount=more, intid="9")
    await assert_refused(core, order, await post(core, wrong_amount.body), "INVALID_AMOUNT")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not a form",
        b"\xff\xfe\x00",
        b"MERCHANT_ID=48213&MERCHANT_ID=48213&AMOUNT=1&MERCHANT_ORDER_ID=o&SIGN=x",
        b"MERCHANT_ID=48213&AMOUNT=%FF&MERCHANT_ORDER_ID=o&SIGN=" + b"a" * 32,
        b"&".join(b"f%d=1" % n for n in range(500)),
        b'{"MERCHANT_ID": "48213"}',
    ],
)
async def test_junk_is_refused_without_a_500(kit: FreeKassaKit, body: bytes) -> None:
    core = core_for(kit)
    order = await checkout(core)
    await assert_refused(core, order, await post(core, body), "INVALID_SIGNATURE")


async def test_a_signed_notification_without_intid_or_currency_is_a_validation_error(
    kit: FreeKassaKit,
) -> None:
    core = core_for(kit)
    order = await checkout(core)
    for note in (
        notification(order_id=order.id, amount=amount_of(order), intid=""),
        notification(order_id=order.id, amount=amount_of(order), intid="10", currency=None),
        notification(order_id=order.id, amount="1e3", intid="11"),
    ):
        await assert_refused(core, order, await post(core, note.body), "VALIDATION_ERROR")


def test_exact_amount() -> None:
    assert exact_amount("100", "RUB") == 10000
    assert exact_amount("100.00", "RUB") == 10000
    assert exact_amount("199.000", "RUB") == 19900
    assert exact_amount("19.9", "USD") == 1990
    with pytest.raises(ValidationError):
        exact_amount("19.901", "USD")
    with pytest.raises(ValidationError):
        exact_amount("-1", "USD")


# --- settings --------------------------------------------------------------------------------


def test_settings_defaults_masking_and_checks() -> None:
    plugin = plugins.load("freekassa")
    group = plugins.read_group(
        plugin,
        {
            "FREEKASSA_MERCHANT_ID": MERCHANT_ID,
            "FREEKASSA_SECRET_1": SECRET_1,
            "FREEKASSA_SECRET_2": SECRET_2,
        },
    )
    assert isinstance(group, FreeKassaSettings)
    assert group.pay_url == DEFAULT_PAY_URL == "https://pay.fk.money/"
    assert group.trusted_ips == DEFAULT_TRUSTED_IPS
    shown = repr(group)
    assert SECRET_1 not in shown
    assert SECRET_2 not in shown
    assert MASK in shown
    with pytest.raises(PluginError, match="FREEKASSA_SECRET_2 is required"):
        plugins.read_group(plugin, {k: v for k, v in ENV.items() if k != "FREEKASSA_SECRET_2"})
    with pytest.raises(PluginError, match="FREEKASSA_TRUSTED_IPS") as refused:
        plugins.read_group(plugin, {**ENV, "FREEKASSA_TRUSTED_IPS": "not-an-ip"})
    assert "not-an-ip" not in str(refused.value)
    with pytest.raises(PluginError, match="FREEKASSA_PAY_URL"):
        plugins.read_group(plugin, {**ENV, "FREEKASSA_PAY_URL": "ftp://pay.example/?a=1"})


async def test_no_capability_is_declared(kit: FreeKassaKit) -> None:
    assert kit.gateway.capabilities == frozenset()
