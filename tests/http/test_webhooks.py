"""Webhooks: verification through the gateway, idempotence, provider routing."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx
import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway, WireEvent
from accessgate.adapters.sandbox import SandboxPaymentGateway
from accessgate.config import load_settings
from accessgate.container import create_container, stop_services
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.status import PaymentStatus
from accessgate.entrypoints.http.app import create_app
from tests.providers.kits import Ref, StripeKit
from tests.stripe import fake_stripe

from .helpers import CHECKOUT, assert_envelope, checkout, client_for


async def test_provider_webhook_fulfils_once_and_acknowledges_duplicates() -> None:
    async with client_for() as (client, core):
        started = await checkout(client)
        gateway = core.gateway()
        delivery = gateway.webhook(gateway.completion(started["session_id"]))
        first = await client.post(
            "/webhook/memory", content=delivery.body, headers=delivery.headers
        )
        assert first.status_code == 200
        assert first.json() == {"received": True, "outcomes": ["fulfilled"]}
        again = await client.post(
            "/webhook/memory", content=delivery.body, headers=delivery.headers
        )
        assert again.status_code == 200
        assert again.json() == {"received": True, "outcomes": ["duplicate"]}
        assert len(core.uow().store.tables.tokens) == 1


async def test_invalid_signature_is_403() -> None:
    async with client_for() as (client, core):
        started = await checkout(client)
        gateway = core.gateway()
        delivery = gateway.webhook(gateway.completion(started["session_id"]))
        tampered = delivery.body.replace(b'"paid":true', b'"paid":false')
        response = await client.post("/webhook/memory", content=tampered, headers=delivery.headers)
        assert_envelope(response, 403, "INVALID_SIGNATURE")
        response = await client.post("/webhook/memory", content=delivery.body)
        assert_envelope(response, 403, "INVALID_SIGNATURE")


async def test_other_provider_in_path_is_404() -> None:
    async with client_for() as (client, _):
        response = await client.post("/webhook/yookassa", content=b"{}")
        assert_envelope(response, 404, "NOT_FOUND")
        response = await client.post("/api/stripe/webhook", content=b"{}")
        assert_envelope(response, 404, "NOT_FOUND")


async def test_unknown_order_is_404_so_the_provider_retries() -> None:
    async with client_for() as (client, core):
        gateway: MemoryPaymentGateway = core.gateway()
        event = WireEvent(
            id="evt_orphan",
            type=PaymentEventKind.CHECKOUT_COMPLETED,
            created=int(core.clock().now().timestamp()),
            order_id="ord_missing",
            amount=1900,
            currency="USD",
        )
        delivery = gateway.webhook(event)
        response = await client.post(
            "/webhook/memory", content=delivery.body, headers=delivery.headers
        )
        assert_envelope(response, 404, "PAYMENT_NOT_FOUND")


async def test_stripe_route_uses_the_configured_stripe_gateway() -> None:
    clock = SettableClock()
    stripe_like = MemoryPaymentGateway(secret=b"whsec", clock=clock, name="stripe")
    async with client_for(clock=clock, gateway=stripe_like) as (client, _):
        started = await checkout(client)
        delivery = stripe_like.webhook(stripe_like.completion(started["session_id"]))
        response = await client.post(
            "/api/stripe/webhook", content=delivery.body, headers=delivery.headers
        )
        assert response.status_code == 200
        assert response.json()["outcomes"] == ["fulfilled"]
        response = await client.post("/webhook/memory", content=delivery.body)
        assert_envelope(response, 404, "NOT_FOUND")


class IgnoringGateway(MemoryPaymentGateway):
    """A provider that verifies a delivery and finds no event the domain uses."""

    def verify_delivery(self, body: bytes, headers: Mapping[str, str]) -> list[PaymentEvent]:
        return []


async def test_event_types_the_domain_ignores_are_acknowledged() -> None:
    clock = SettableClock()
    gateway = IgnoringGateway(secret=b"s", clock=clock)
    async with client_for(clock=clock, gateway=gateway) as (client, _):
        response = await client.post("/webhook/memory", content=b'{"type":"customer.created"}')
        assert response.status_code == 200
        assert response.json() == {"received": True, "outcomes": []}


SANDBOX_SECRET = b"sandbox-test-secret"
MALFORMED_BODIES = [
    pytest.param(b'{"id":"evt_1","type":"checkout_completed","created":1', id="truncated"),
    pytest.param(b"", id="empty"),
    pytest.param(b"[]", id="not-an-object"),
    pytest.param(b'{"id":"evt_1","type":"checkout_completed","created":1e18}', id="float-created"),
    pytest.param(
        b'{"id":"evt_1","type":"checkout_completed","created":1000000000000000000}',
        id="created-beyond-year-9999",
    ),
    pytest.param(
        b'{"id":"evt_1","type":"checkout_completed","created":-99999999999999}',
        id="created-before-1970",
    ),
    pytest.param(
        b'{"id":"evt_1","type":"checkout_completed","created":1,"period_end":1000000000000000000}',
        id="period-end-beyond-year-9999",
    ),
    pytest.param(b'{"id":1,"type":"checkout_completed","created":1}', id="wrong-type-id"),
    pytest.param(b'{"id":"evt_1","type":"nonsense","created":1}', id="unknown-type"),
    pytest.param(
        b'{"id":"evt_1","type":"checkout_completed","created":1,"amount":"19"}',
        id="wrong-type-amount",
    ),
]


@pytest.mark.parametrize("body", MALFORMED_BODIES)
async def test_signed_but_malformed_sandbox_webhook_is_400_without_traceback(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SettableClock()
    sandbox = SandboxPaymentGateway(
        secret=SANDBOX_SECRET, clock=clock, public_base_url="http://testserver"
    )
    # The sandbox's signing scheme, computed here from the secret: a correct signature.
    signer = MemoryPaymentGateway(secret=SANDBOX_SECRET, clock=clock, name="sandbox")
    headers = {"Accessgate-Signature": signer.sign(body), "Content-Type": "application/json"}
    with caplog.at_level(logging.INFO):
        async with client_for(clock=clock, gateway=sandbox) as (client, _):
            response = await client.post("/webhook/sandbox", content=body, headers=headers)
            error = assert_envelope(response, 400, "VALIDATION_ERROR")
            assert error["message"] == "Malformed webhook body"
            unsigned = await client.post("/webhook/sandbox", content=body)
            assert_envelope(unsigned, 403, "INVALID_SIGNATURE")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]


async def test_stripe_and_sandbox_sell_side_by_side_and_each_fulfils_only_its_own() -> None:
    """PAYMENT_PROVIDERS=stripe,sandbox: the real plug-ins, built from the environment."""
    fake, runner = await fake_stripe.start(lambda: datetime.now(UTC))
    env = {
        "ACCESSGATE_ENV": "test",
        "DATABASE_URL": "memory://",
        "RATE_LIMIT_ENABLED": "false",
        "PAYMENT_PROVIDERS": "stripe,sandbox",
        "STRIPE_SECRET_KEY": fake_stripe.SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": StripeKit.secret,
        "STRIPE_PRICE_ONE_TIME_BASIC": fake_stripe.PRICE_BASIC,
        "STRIPE_PRICE_SUB_MONTHLY": fake_stripe.PRICE_MONTHLY,
        "STRIPE_API_BASE": fake.url,
        "STRIPE_MAX_NETWORK_RETRIES": "0",
        "SANDBOX_WEBHOOK_SECRET": "side-by-side-sandbox-secret",
    }
    settings = load_settings(env)
    core = create_container(settings)
    stripe_kit = StripeKit(SettableClock(datetime.now(UTC)), core.payments().get("stripe"))
    sandbox: SandboxPaymentGateway = core.payments().get("sandbox")
    try:
        # In the test's own event loop, where the Stripe stand-in serves.
        transport = httpx.ASGITransport(app=create_app(settings, core))
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
            by_stripe = await checkout(client)  # the default: the first listed
            by_sandbox = await checkout(client, provider="sandbox")
            other_sandbox = await checkout(client, provider="sandbox")
            orders = core.uow().store.tables.orders
            assert orders[by_stripe["order_id"]].provider == "stripe"
            assert by_stripe["checkout_url"].startswith("https://checkout.stripe.com/")
            assert orders[by_sandbox["order_id"]].provider == "sandbox"
            assert "/sandbox/checkout/" in by_sandbox["checkout_url"]
            for unknown in ("paypal", "acme", "memory"):
                refused = await client.post(
                    "/api/payment/checkout-session", json=CHECKOUT | {"provider": unknown}
                )
                error = assert_envelope(refused, 400, "VALIDATION_ERROR")
                assert error["details"]["field"] == "provider"

            # The sandbox's own delivery: refused by Stripe's endpoints, applied by its own.
            paid = orders[by_sandbox["order_id"]]
            delivery = sandbox.signed_event(
                outcome="pay",
                session_id=paid.provider_session_id,
                order_id=paid.id,
                amount=paid.amount.amount,
                currency=paid.amount.currency,
            )
            for path in ("/webhook/stripe", "/api/stripe/webhook"):
                response = await client.post(path, content=delivery.body, headers=delivery.headers)
                assert_envelope(response, 403, "INVALID_SIGNATURE")
            response = await client.post(
                "/webhook/sandbox", content=delivery.body, headers=delivery.headers
            )
            assert response.json() == {"received": True, "outcomes": ["fulfilled"]}

            # A valid Stripe event naming a sandbox order: not found, nothing changes.
            target = orders[other_sandbox["order_id"]]
            before = dict(core.uow().store.tables.payment_events)
            forged_ref = Ref(target.id, target.provider_session_id, target.amount)
            stripe_delivery = stripe_kit.completion(forged_ref, "evt_names_a_sandbox_order")
            for path in ("/api/stripe/webhook", "/webhook/stripe"):
                response = await client.post(
                    path, content=stripe_delivery.body, headers=dict(stripe_delivery.headers)
                )
                assert_envelope(response, 404, "PAYMENT_NOT_FOUND")
            orders = core.uow().store.tables.orders  # the tables are replaced on commit
            assert orders[target.id] == target
            assert core.uow().store.tables.payment_events == before

            # Stripe's own order is fulfilled by Stripe's webhook, on either path.
            own = orders[by_stripe["order_id"]]
            own_ref = Ref(own.id, own.provider_session_id, own.amount)
            stripe_delivery = stripe_kit.completion(own_ref, "evt_stripe_own")
            outcomes = []
            for path in ("/api/stripe/webhook", "/webhook/stripe"):
                response = await client.post(
                    path, content=stripe_delivery.body, headers=dict(stripe_delivery.headers)
                )
                assert response.status_code == 200, response.text
                outcomes += response.json()["outcomes"]
            assert outcomes == ["fulfilled", "duplicate"]
            orders = core.uow().store.tables.orders
            assert orders[own.id].payment_status is PaymentStatus.PAID
            assert orders[target.id].payment_status is PaymentStatus.UNPAID

            # Installed but not listed: no webhook.
            response = await client.post("/webhook/acme", content=b"{}")
            assert_envelope(response, 404, "NOT_FOUND")
    finally:
        await stop_services(core)
        await runner.cleanup()
