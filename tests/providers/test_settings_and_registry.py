"""PAYMENT_PROVIDERS, the settings groups of the plug-ins, the registry and the capabilities."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.adapters.sandbox.plugin import SandboxSettings
from accessgate.adapters.stripe.plugin import StripeSettings
from accessgate.config import ConfigError, Settings, load_settings
from accessgate.container import create_container
from accessgate.domain.model.errors import InvalidSignature, UnknownProvider
from accessgate.domain.model.outbox import EmailTemplate
from accessgate.ports.payment_gateway import Capability
from accessgate.ports.payment_providers import PaymentProviders
from tests.http.helpers import (
    INTERNAL_TOKEN,
    assert_envelope,
    checkout,
    client_for,
    make_settings,
    pay,
)

STRIPE = {
    "STRIPE_SECRET_KEY": "sk_test_groups",
    "STRIPE_WEBHOOK_SECRET": "whsec_new, whsec_old",
    "STRIPE_PRICE_ONE_TIME_BASIC": "price_a",
    "STRIPE_PRICE_SUB_MONTHLY": "price_b",
}


def test_several_providers_each_with_its_own_group() -> None:
    settings = load_settings(
        {"PAYMENT_PROVIDERS": "stripe, sandbox", "SANDBOX_WEBHOOK_SECRET": "sb"} | STRIPE
    )
    assert settings.payments.payment_providers == ("stripe", "sandbox")
    stripe, sandbox = settings.provider_settings["stripe"], settings.provider_settings["sandbox"]
    assert isinstance(stripe, StripeSettings)
    assert stripe.webhook_secret == ("whsec_new", "whsec_old")
    assert stripe.webhook_tolerance == 300
    assert isinstance(sandbox, SandboxSettings)
    assert sandbox.webhook_secret == "sb"
    assert "stripe_secret_key" not in Settings.__struct_fields__  # moved into the group


def test_the_seed_variable_is_a_one_item_list_and_both_at_once_is_refused() -> None:
    assert load_settings({"PAYMENT_PROVIDER": "stripe"} | STRIPE).payments.payment_providers == (
        "stripe",
    )
    assert load_settings({}).payments.payment_providers == ("sandbox",)
    with pytest.raises(ConfigError, match="PAYMENT_PROVIDER and PAYMENT_PROVIDERS"):
        load_settings({"PAYMENT_PROVIDER": "sandbox", "PAYMENT_PROVIDERS": "sandbox"})


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"PAYMENT_PROVIDERS": "sandbox,paypal"}, "PAYMENT_PROVIDERS: unknown payment provider"),
        ({"PAYMENT_PROVIDERS": "sandbox,sandbox"}, "PAYMENT_PROVIDERS names a provider twice"),
        ({"PAYMENT_PROVIDERS": "stripe"}, "STRIPE_SECRET_KEY is required"),
        (
            {"PAYMENT_PROVIDERS": "stripe", "STRIPE_SECRET_KEY": "sk"},
            "STRIPE_WEBHOOK_SECRET is required",
        ),
        ({"PAYMENT_PROVIDERS": "stripe", "STRIPE_TIMEOUT": "soon"} | STRIPE, "STRIPE_TIMEOUT"),
        (
            {"PAYMENT_PROVIDERS": "stripe", "STRIPE_WEBHOOK_TOLERANCE": "0"} | STRIPE,
            "STRIPE_WEBHOOK_TOLERANCE must be positive",
        ),
        ({"SANDBOX_WEBHOOK_TOLERANCE": "-1"}, "SANDBOX_WEBHOOK_TOLERANCE must be positive"),
    ],
)
def test_a_bad_group_stops_the_start_with_one_line_naming_the_variable(
    environ: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError, match=variable) as caught:
        load_settings(environ)
    assert "\n" not in str(caught.value)
    assert "sk_test_groups" not in str(caught.value)


def test_the_unknown_provider_message_lists_the_installed_ones() -> None:
    with pytest.raises(ConfigError, match=r"installed: .*sandbox, stripe"):
        load_settings({"PAYMENT_PROVIDERS": "paypal"})


def test_a_provider_listed_in_code_without_its_group_is_checked_when_built() -> None:
    core = create_container(
        Settings.for_tests(accessgate_env="test", payment_providers=("stripe",))
    )
    with pytest.raises(ConfigError, match="STRIPE_SECRET_KEY is required"):
        core.payments()


def test_the_registry_names_the_default_and_refuses_strangers() -> None:
    clock = SettableClock()
    first = MemoryPaymentGateway(secret=b"a", clock=clock, name="first")
    second = MemoryPaymentGateway(secret=b"b", clock=clock, name="second")
    registry = PaymentProviders([first, second])
    assert registry.names == ("first", "second")
    assert registry.default is first
    assert registry.get(None) is first
    assert registry.get("second") is second
    assert registry.find("third") is None
    with pytest.raises(UnknownProvider) as caught:
        registry.get("third")
    assert caught.value.details == {"field": "provider"}
    with pytest.raises(ValueError, match="same name"):
        PaymentProviders([first, first])


async def test_an_event_naming_another_provider_is_refused_for_the_whole_delivery() -> None:
    async with client_for() as (client, core):
        started = await checkout(client)
        gateway = core.gateway()
        delivery = gateway.webhook(gateway.completion(started["session_id"]))
        events = gateway.verify_delivery(delivery.body, delivery.headers)
        with pytest.raises(InvalidSignature):
            await core.handle_payment_events().execute(events, provider="stripe")
        assert core.uow().store.tables.payment_events == {}


def two_memory_providers() -> tuple[SettableClock, MemoryPaymentGateway, MemoryPaymentGateway]:
    clock = SettableClock()
    first = MemoryPaymentGateway(secret=b"first-secret", clock=clock)
    second = MemoryPaymentGateway(
        secret=b"second-secret",
        clock=clock,
        name="second",
        checkout_base_url="https://second.invalid/pay",
    )
    return clock, first, second


async def test_status_poll_and_portals_go_to_the_orders_own_provider() -> None:
    clock, first, second = two_memory_providers()
    settings = make_settings(customer_portal_mode="direct")
    async with client_for(settings, clock=clock, gateways=[first, second]) as (client, _):
        started = await checkout(client, mode="subscription", plan="sub_monthly", provider="second")
        assert started["checkout_url"].startswith("https://second.invalid/pay/")
        first.paid_sessions.add(started["session_id"])  # the wrong provider says paid: unheard
        status = await client.get(
            "/api/payment/session-status", params={"session_id": started["session_id"]}
        )
        assert status.json()["payment_status"] == "unpaid"
        clock.advance(timedelta(seconds=10))  # past the lookup interval
        second.paid_sessions.add(started["session_id"])
        status = await client.get(
            "/api/payment/session-status", params={"session_id": started["session_id"]}
        )
        assert status.json()["payment_status"] == "paid"
        portal = await client.post(
            "/api/payment/customer-portal", json={"email": "buyer@example.com"}
        )
        assert portal.json()["portal_url"].startswith("https://second.invalid/pay/portal/")


async def test_the_portal_email_opens_the_orders_own_provider_portal() -> None:
    clock, first, second = two_memory_providers()
    async with client_for(clock=clock, gateways=[first, second]) as (client, core):
        started = await checkout(client, mode="subscription", plan="sub_monthly", provider="second")
        delivery = second.webhook(second.completion(started["session_id"]))
        response = await client.post(
            "/webhook/second", content=delivery.body, headers=delivery.headers
        )
        assert response.json()["outcomes"] == ["fulfilled"]
        sent = await client.post(
            "/api/payment/customer-portal", json={"email": "buyer@example.com"}
        )
        assert sent.json() == {"status": "portal_link_sent"}
        await core.deliver_outbox().execute()
        [email] = [m for m in core.mailer().sent if m.template is EmailTemplate.CUSTOMER_PORTAL]
        assert email.context["portal_link"].startswith("https://second.invalid/pay/portal/")


async def test_a_missing_capability_is_a_clear_error_never_a_crash() -> None:
    clock = SettableClock()
    bare = MemoryPaymentGateway(secret=b"bare-secret", clock=clock, capabilities=())
    settings = make_settings(customer_portal_mode="direct")
    async with client_for(settings, clock=clock, gateway=bare) as (client, core):
        started = await checkout(client, mode="subscription", plan="sub_monthly")
        bare.paid_sessions.add(started["session_id"])  # would be seen by a poll: none is made
        status = await client.get(
            "/api/payment/session-status", params={"session_id": started["session_id"]}
        )
        assert status.json()["payment_status"] == "unpaid"
        await pay(client, core, started["session_id"])
        portal = await client.post(
            "/api/payment/customer-portal", json={"email": "buyer@example.com"}
        )
        error = assert_envelope(portal, 400, "CAPABILITY_NOT_SUPPORTED")
        assert error["details"] == {"provider": "memory", "capability": "customer_portal"}
        token = core.codec().activation_token(
            next(iter(core.uow().store.tables.tokens.values())).seed
        )
        headers = {"X-Internal-Token": INTERNAL_TOKEN}
        await client.post(
            "/api/bot/access/activate",
            json={"activation_token": token, "telegram_user_id": 77},
            headers=headers,
        )
        bot = await client.post(
            "/api/bot/customer-portal", json={"telegram_user_id": 77}, headers=headers
        )
        assert_envelope(bot, 400, "CAPABILITY_NOT_SUPPORTED")
    assert Capability.CUSTOMER_PORTAL not in bare.capabilities
