"""The provider contract: every payment provider passes these, whatever its wire format.

Each test runs once per kit (``conftest.KITS``): memory, sandbox, Stripe (over
the local stand-in) and ACME Pay (a plug-in outside accessgate). The service
around the provider is the real one (memory storage), so "applied once" and
"nothing changed" are read from storage, not assumed.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.container import Core, create_memory_container
from accessgate.domain.model.errors import (
    CapabilityNotSupported,
    InvalidAmount,
    InvalidSignature,
    PaymentNotFound,
)
from accessgate.domain.model.order import Order
from accessgate.domain.model.payment_event import EventOutcome, PaymentEventKind
from accessgate.domain.model.status import PaymentStatus
from accessgate.domain.model.values import Money
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from accessgate.entrypoints.http.app import create_app
from accessgate.ports.payment_gateway import (
    Capability,
    PaymentGateway,
    WebhookRequest,
    customer_portal,
    refunds,
    status_poll,
)
from tests.http.helpers import make_settings
from tests.providers.kits import CLIENT_IP, Kit, Ref

OTHER = "other"


def core_for(kit: Kit) -> Core:
    """The service with the kit's provider (the default) and a second provider ``other``."""
    other = MemoryPaymentGateway(secret=b"other-secret", clock=kit.clock, name=OTHER)
    return create_memory_container(make_settings(), clock=kit.clock, gateways=[kit.gateway, other])


async def checkout(core: Core, provider: str | None = None) -> Order:
    started = await core.start_checkout().execute(
        StartCheckoutCommand(
            mode="one_time", plan="one_time_basic", email="buyer@example.com", provider=provider
        )
    )
    order: Order = core.uow().store.tables.orders[started.order_id]
    return order


def ref_of(order: Order) -> Ref:
    return Ref(order_id=order.id, session_id=order.provider_session_id, paid=order.amount)


async def deliver(core: Core, kit: Kit, request: WebhookRequest) -> list[EventOutcome]:
    verified = await kit.gateway.verify_webhook(request)
    return await core.handle_payment_events().execute(verified.events, provider=kit.gateway.name)


def stored(core: Core, order: Order) -> Order:
    found: Order = core.uow().store.tables.orders[order.id]
    return found


async def test_a_genuine_completion_verifies_into_one_event_of_this_provider(kit: Kit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    assert order.provider == kit.gateway.name
    verified = await kit.gateway.verify_webhook(kit.completion(ref_of(order), "evt_round_trip"))
    [event] = verified.events
    assert event.provider == kit.gateway.name
    expected_id = getattr(kit, "expected_event_id", None)  # a provider whose events carry no id
    assert event.event_id == (
        expected_id(ref_of(order), "evt_round_trip") if expected_id else "evt_round_trip"
    )
    assert event.kind in {PaymentEventKind.CHECKOUT_COMPLETED, PaymentEventKind.PAYMENT_SUCCEEDED}
    assert event.amount == order.amount
    assert event.paid
    assert verified.reply == kit.reply


async def test_a_forged_signature_is_refused(kit: Kit) -> None:
    order = await checkout(core_for(kit))
    with pytest.raises(InvalidSignature):
        await kit.gateway.verify_webhook(kit.forged(ref_of(order), "evt_forged"))


async def test_an_unsigned_delivery_is_refused(kit: Kit) -> None:
    order = await checkout(core_for(kit))
    genuine = kit.completion(ref_of(order), "evt_unsigned")
    unsigned = WebhookRequest(
        body=genuine.body, headers={"content-type": "application/json"}, client_ip=CLIENT_IP
    )
    strip = getattr(kit, "unsigned", None)  # a provider that signs inside the body
    if strip is not None:
        unsigned = strip(genuine)
    with pytest.raises(InvalidSignature):
        await kit.gateway.verify_webhook(unsigned)


async def test_a_stale_delivery_is_refused(kit: Kit) -> None:
    if kit.tolerance is None:
        pytest.skip("this provider's deliveries carry no time")
    order = await checkout(core_for(kit))
    fresh = kit.completion(ref_of(order), "evt_fresh", age=kit.tolerance - timedelta(seconds=5))
    assert (await kit.gateway.verify_webhook(fresh)).events
    stale = kit.completion(ref_of(order), "evt_stale", age=kit.tolerance + timedelta(seconds=60))
    with pytest.raises(InvalidSignature):
        await kit.gateway.verify_webhook(stale)


async def test_a_tampered_body_is_refused(kit: Kit) -> None:
    if not getattr(kit, "signed", True):
        pytest.skip("this provider signs nothing: the API's re-fetched object decides")
    order = await checkout(core_for(kit))
    genuine = kit.completion(ref_of(order), "evt_tampered")
    body = genuine.body
    changed = [body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :] for i in (0, len(body) // 2)]
    changed += [body + b" ", body.replace(b'"evt_tampered"', b'"evt_tamperee"')]
    tamper = getattr(kit, "tampered", None)  # a provider that signs only some fields
    if tamper is not None:
        changed = tamper(genuine)
    for tampered in changed:
        request = WebhookRequest(body=tampered, headers=genuine.headers, client_ip=CLIENT_IP)
        with pytest.raises(InvalidSignature):
            await kit.gateway.verify_webhook(request)


async def test_a_duplicate_event_is_applied_once(kit: Kit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    delivery = kit.completion(ref_of(order), "evt_twice")
    assert await deliver(core, kit, delivery) == [EventOutcome.FULFILLED]
    assert await deliver(core, kit, delivery) == [EventOutcome.DUPLICATE]
    assert len(core.uow().store.tables.tokens) == 1
    assert stored(core, order).payment_status is PaymentStatus.PAID


async def test_an_unknown_order_is_payment_not_found_and_records_nothing(kit: Kit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    ghost = Ref(order_id="ord_missing", session_id="cs_missing", paid=order.amount)
    with pytest.raises(PaymentNotFound):
        await deliver(core, kit, kit.completion(ghost, "evt_ghost"))
    assert core.uow().store.tables.payment_events == {}


async def test_a_wrong_amount_or_currency_fulfils_nothing(kit: Kit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    currency = "EUR" if order.amount.currency != "EUR" else "USD"
    for n, paid in enumerate(
        [
            Money(amount=order.amount.amount + 1, currency=order.amount.currency),
            Money(amount=order.amount.amount, currency=currency),
        ]
    ):
        wrong = Ref(order_id=order.id, session_id=order.provider_session_id, paid=paid)
        with pytest.raises(InvalidAmount):
            await deliver(core, kit, kit.completion(wrong, f"evt_wrong_{n}"))
    assert stored(core, order).payment_status is PaymentStatus.UNPAID
    assert core.uow().store.tables.tokens == {}


async def test_an_event_never_touches_an_order_of_another_provider(kit: Kit) -> None:
    core = core_for(kit)
    foreign = await checkout(core, provider=OTHER)
    assert foreign.provider == OTHER
    with pytest.raises(PaymentNotFound):
        await deliver(core, kit, kit.completion(ref_of(foreign), "evt_foreign"))
    assert stored(core, foreign) == foreign
    assert core.uow().store.tables.payment_events == {}


async def test_the_webhook_answers_in_the_providers_format(kit: Kit) -> None:
    core = core_for(kit)
    order = await checkout(core)
    delivery = kit.completion(ref_of(order), "evt_http")
    # A provider trusted by source address is reached through a proxy on 127.0.0.1.
    app = create_app(make_settings(**getattr(kit, "app_settings", {})), core)
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        url = f"/webhook/{kit.gateway.name}"
        response = await client.post(url, content=delivery.body, headers=dict(delivery.headers))
        again = await client.post(url, content=delivery.body, headers=dict(delivery.headers))
        forged = kit.forged(ref_of(order), "evt_http_forged")
        refused = await client.post(url, content=forged.body, headers=dict(forged.headers))
    assert response.status_code == again.status_code == kit.reply.status_code
    if kit.reply.body is None:
        assert response.json() == {"received": True, "outcomes": ["fulfilled"]}
        assert again.json() == {"received": True, "outcomes": ["duplicate"]}
    else:
        assert response.content == again.content == kit.reply.body
        assert response.headers["content-type"].startswith(kit.reply.media_type)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert stored(core, order).payment_status is PaymentStatus.PAID


async def test_declared_capabilities_are_implemented_and_the_others_refused(kit: Kit) -> None:
    gateway: PaymentGateway = kit.gateway
    declared = gateway.capabilities
    assert declared <= set(Capability)
    for capability, reach in (
        (Capability.STATUS_POLL, status_poll),
        (Capability.CUSTOMER_PORTAL, customer_portal),
        (Capability.REFUND, refunds),
    ):
        if capability in declared:
            assert reach(gateway) is gateway
        else:
            with pytest.raises(CapabilityNotSupported):
                reach(gateway)
