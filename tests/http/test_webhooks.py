"""Webhooks: verification through the gateway, idempotence, provider routing."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway, WireEvent
from accessgate.adapters.sandbox import SandboxPaymentGateway
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind

from .helpers import assert_envelope, checkout, client_for


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

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[PaymentEvent]:
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
