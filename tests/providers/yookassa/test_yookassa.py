"""YooKassa against the local stand-in of its API: what is sent, what is trusted, what is refused."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from accessgate import plugins
from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.system import SecureTokenFactory, SystemClock
from accessgate.adapters.yookassa import YooKassaGateway
from accessgate.adapters.yookassa.receipt import ReceiptPolicy
from accessgate.container import Core, build_sinks, create_memory_container, event_subscribers
from accessgate.domain.model.errors import InvalidSignature
from accessgate.domain.model.order import Order
from accessgate.domain.model.payment_event import PaymentEventKind
from accessgate.domain.model.status import AccessStatus, PaymentStatus
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from accessgate.entrypoints.http.app import create_app
from accessgate.ports.payment_providers import PaymentProviders, ProviderContext
from tests.http.helpers import make_settings
from tests.providers.yookassa import fake_yookassa
from tests.providers.yookassa.fake_yookassa import SECRET_KEY, SHOP_ID, notification
from tests.providers.yookassa.kit import STRANGER_IP, YOOKASSA_IP, YooKassaKit, from_address
from tests.storage.helpers import sql_factory

SETTINGS = make_settings(trusted_proxies=("127.0.0.1",))


async def start(core: Core) -> tuple[Order, str]:
    """A new order and the URL the buyer is sent to."""
    started = await core.start_checkout().execute(
        StartCheckoutCommand(mode="one_time", plan="one_time_basic", email="buyer@example.com")
    )
    async with core.uow()(read_only=True) as uow:
        order = await uow.orders.get(started.order_id)
    assert order is not None
    return order, started.checkout_url


async def checkout(core: Core) -> Order:
    return (await start(core))[0]


def client_of(core: Core, settings: Any = SETTINGS) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings, core), client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://shop.test")


async def post(client: httpx.AsyncClient, body: bytes, ip: str) -> httpx.Response:
    request = from_address(body, ip)
    return await client.post("/webhook/yookassa", content=body, headers=dict(request.headers))


def succeeded(order: Order) -> bytes:
    return notification("payment.succeeded", order.provider_session_id, status="succeeded")


# -- checkout -----------------------------------------------------------------------------------


async def test_checkout_posts_the_payment_field_by_field_with_basic_auth_and_the_orders_key(
    yk: YooKassaKit,
) -> None:
    core = create_memory_container(SETTINGS, clock=yk.clock, gateways=[yk.gateway])
    order, url = await start(core)
    [create] = yk.api.creates()
    auth = base64.b64encode(f"{SHOP_ID}:{SECRET_KEY}".encode()).decode()
    assert create.headers["authorization"] == f"Basic {auth}"
    assert create.headers["idempotence-key"] == f"accessgate-{order.id}"
    body = create.json
    assert body["amount"] == {"value": "19.00", "currency": "USD"}  # exact, a string
    assert isinstance(body["amount"]["value"], str)
    assert body["capture"] is True
    assert body["confirmation"]["type"] == "redirect"
    assert body["confirmation"]["return_url"] == "https://shop.example/pay/success"
    assert body["metadata"]["order_id"] == order.id
    assert "receipt" not in body  # none unless YOOKASSA_RECEIPT_VAT_CODE is set
    payment = yk.api.payments[order.provider_session_id]  # the session id is the payment id
    assert url == payment["confirmation"]["confirmation_url"]
    assert (order.amount.amount, order.amount.currency) == (1900, "USD")


async def test_a_create_whose_answer_was_lost_is_retried_with_the_same_key_and_pays_once(
    yk: YooKassaKit,
) -> None:
    gateway = YooKassaGateway(
        shop_id=SHOP_ID,
        secret_key=SECRET_KEY,
        clock=yk.clock,
        return_url="https://shop.example/pay/success",
        api_base=yk.api.url,
        receipt=ReceiptPolicy(vat_code=1, tax_system_code=2),
        max_network_retries=2,
    )
    try:
        yk.api.lose_next_creates = 1
        core = create_memory_container(SETTINGS, clock=yk.clock, gateways=[gateway])
        order = await checkout(core)
    finally:
        await gateway.aclose()
    first, second = yk.api.creates()
    assert first.headers["idempotence-key"] == second.headers["idempotence-key"]
    assert len(yk.api.payments) == 1
    assert order.provider_session_id in yk.api.payments
    receipt = second.json["receipt"]
    assert receipt["customer"] == {"email": "buyer@example.com"}
    [item] = receipt["items"]
    assert item["amount"] == {"value": "19.00", "currency": "USD"}
    assert (item["vat_code"], item["quantity"], receipt["tax_system_code"]) == (1, "1.00", 2)


# -- refusals -----------------------------------------------------------------------------------


async def test_refusals_fulfil_nothing_and_never_answer_500(yk: YooKassaKit) -> None:
    core = create_memory_container(SETTINGS, clock=yk.clock, gateways=[yk.gateway])
    order = await checkout(core)
    async with client_of(core) as client:
        # Outside the list: refused before the API is asked.
        yk.api.put_payment(
            order.provider_session_id, status="succeeded", value="19.00", currency="USD"
        )
        outside = await post(client, succeeded(order), STRANGER_IP)
        # From YooKassa's address, but the API says pending.
        yk.api.put_payment(
            order.provider_session_id, status="pending", value="19.00", currency="USD"
        )
        pending = await post(client, succeeded(order), YOOKASSA_IP)
        # From YooKassa's address, the API says succeeded but for another amount.
        yk.api.put_payment(
            order.provider_session_id, status="succeeded", value="1.00", currency="USD"
        )
        cheaper = await post(client, succeeded(order), YOOKASSA_IP)
        # A payment the API does not know, and a body that is no notification.
        unknown = await post(client, notification("payment.succeeded", "nope"), YOOKASSA_IP)
        junk = await post(client, b"{not json", YOOKASSA_IP)
    for refused in (outside, pending, unknown, junk):
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert cheaper.status_code == 400
    assert cheaper.json()["error"]["code"] == "INVALID_AMOUNT"
    stored = core.uow().store.tables.orders[order.id]
    assert stored.payment_status is PaymentStatus.UNPAID
    assert core.uow().store.tables.tokens == {}
    assert core.uow().store.tables.payment_events == {}


async def test_the_api_decides_not_the_body(yk: YooKassaKit) -> None:
    """A body claiming another amount and status is only a pointer to the payment."""
    core = create_memory_container(SETTINGS, clock=yk.clock, gateways=[yk.gateway])
    order = await checkout(core)
    yk.api.put_payment(order.provider_session_id, status="succeeded", value="19.00", currency="USD")
    body = notification(
        "payment.succeeded",
        order.provider_session_id,
        amount={"value": "0.01", "currency": "RUB"},
        metadata={"order_id": "ord_someone_else"},
    )
    verified = await yk.gateway.verify_webhook(from_address(body, YOOKASSA_IP))
    [event] = verified.events
    assert event.order_id == order.id
    assert event.amount == order.amount
    assert event.event_id == f"payment.succeeded:{order.provider_session_id}"


async def test_ipv6_of_yookassa_is_trusted_and_the_forwarded_address_decides(
    yk: YooKassaKit,
) -> None:
    core = create_memory_container(SETTINGS, clock=yk.clock, gateways=[yk.gateway])
    order = await checkout(core)
    yk.api.put_payment(order.provider_session_id, status="succeeded", value="19.00", currency="USD")
    untrusted = make_settings()  # no trusted proxy: X-Forwarded-For is ignored, 127.0.0.1 decides
    async with client_of(core, untrusted) as client:
        spoofed = await post(client, succeeded(order), YOOKASSA_IP)
    assert spoofed.status_code == 403
    async with client_of(core) as client:
        ok = await post(client, succeeded(order), "2a02:5180:0:1509::17")
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"received": True, "outcomes": ["fulfilled"]}


# -- events -------------------------------------------------------------------------------------


async def test_canceled_fails_the_order(yk: YooKassaKit) -> None:
    core = create_memory_container(SETTINGS, clock=yk.clock, gateways=[yk.gateway])
    order = await checkout(core)
    body = notification("payment.canceled", order.provider_session_id)
    with pytest.raises(InvalidSignature):  # the API still says pending
        await yk.gateway.verify_webhook(from_address(body, YOOKASSA_IP))
    yk.api.put_payment(order.provider_session_id, status="canceled", value="19.00", currency="USD")
    async with client_of(core) as client:
        response = await post(client, body, YOOKASSA_IP)
    assert response.status_code == 200, response.text
    stored = core.uow().store.tables.orders[order.id]
    assert stored.payment_status is PaymentStatus.FAILED


async def test_a_full_refund_revokes_and_a_partial_one_keeps_access(yk: YooKassaKit) -> None:
    core = create_memory_container(SETTINGS, clock=yk.clock, gateways=[yk.gateway])
    order = await checkout(core)
    payment_id = order.provider_session_id
    yk.api.put_payment(payment_id, status="succeeded", value="19.00", currency="USD")
    async with client_of(core) as client:
        assert (await post(client, succeeded(order), YOOKASSA_IP)).status_code == 200
        partial = yk.api.refund(payment_id, "5.00")
        kept = await post(
            client, notification("refund.succeeded", partial, payment_id=payment_id), YOOKASSA_IP
        )
        assert kept.json()["outcomes"] == []
        assert core.uow().store.tables.orders[order.id].payment_status is PaymentStatus.PAID
        rest = yk.api.refund(payment_id, "14.00")
        revoked = await post(
            client, notification("refund.succeeded", rest, payment_id=payment_id), YOOKASSA_IP
        )
    assert revoked.status_code == 200, revoked.text
    assert core.uow().store.tables.orders[order.id].payment_status is PaymentStatus.REFUNDED
    assert core.uow().store.tables.accesses[order.id].status is AccessStatus.REVOKED


async def test_unused_events_are_acknowledged_but_only_from_yookassa(yk: YooKassaKit) -> None:
    body = notification("payment.waiting_for_capture", "whatever")
    assert (await yk.gateway.verify_webhook(from_address(body, YOOKASSA_IP))).events == []
    with pytest.raises(InvalidSignature):
        await yk.gateway.verify_webhook(from_address(body, STRANGER_IP))


async def test_the_status_poll_reports_a_succeeded_payment_with_the_webhooks_event_id(
    yk: YooKassaKit,
) -> None:
    core = create_memory_container(SETTINGS, clock=yk.clock, gateways=[yk.gateway])
    order = await checkout(core)
    assert await yk.gateway.fetch_checkout(order.provider_session_id) is None  # pending
    yk.api.put_payment(order.provider_session_id, status="succeeded", value="19.00", currency="USD")
    event = await yk.gateway.fetch_checkout(order.provider_session_id)
    assert event is not None
    assert event.kind is PaymentEventKind.PAYMENT_SUCCEEDED
    assert event.event_id == f"payment.succeeded:{order.provider_session_id}"
    status = await core.session_status().execute(order.provider_session_id)
    assert status.payment_status is PaymentStatus.PAID
    async with client_of(core) as client:  # the late notification is a duplicate
        late = await post(client, succeeded(order), YOOKASSA_IP)
    assert late.json()["outcomes"] == ["duplicate"]


# -- settings -----------------------------------------------------------------------------------


def test_settings_defaults_masking_and_checks() -> None:
    plugin = plugins.load("yookassa")
    group = plugins.read_group(
        plugin, {"YOOKASSA_SHOP_ID": "506751", "YOOKASSA_SECRET_KEY": "live_secret_value"}
    )
    assert group.api_base == "https://api.yookassa.ru/v3"
    assert "2a02:5180::/32" in group.trusted_ips
    assert "185.71.76.0/27" in group.trusted_ips
    assert group.receipt() is None
    assert "live_secret_value" not in repr(group)
    with pytest.raises(plugins.PluginError, match="YOOKASSA_SECRET_KEY is required"):
        plugins.read_group(plugin, {"YOOKASSA_SHOP_ID": "1"})
    with pytest.raises(plugins.PluginError, match="YOOKASSA_TRUSTED_IPS"):
        plugins.read_group(
            plugin,
            {"YOOKASSA_SHOP_ID": "1", "YOOKASSA_SECRET_KEY": "k", "YOOKASSA_TRUSTED_IPS": "x"},
        )
    context = ProviderContext(
        clock=SystemClock(), public_base_url="https://shop.example/", webhook_url="unused"
    )
    gateway = plugin.build(group, context)
    assert gateway.name == "yookassa"
    assert gateway._return_url is None  # type: ignore[attr-defined]
    # Without YOOKASSA_RETURN_URL the buyer returns to the order's own signed success page.
    assert gateway._default_return_url == "https://shop.example/pay/success"  # type: ignore[attr-defined]


# -- ten concurrent deliveries, SQLite ------------------------------------------------------------


async def test_ten_concurrent_deliveries_fulfil_once_and_send_one_access_email(
    tmp_path: Path,
) -> None:
    api, runner = await fake_yookassa.start()
    clock = SystemClock()
    gateway = YooKassaGateway(
        shop_id=SHOP_ID,
        secret_key=SECRET_KEY,
        clock=clock,
        return_url="http://gate.test/pay/success",
        api_base=api.url,
    )
    mailer = RecordingMailer()
    settings = make_settings(trusted_proxies=("127.0.0.1",), app_public_base_url="http://gate.test")
    try:
        async with sql_factory("sqlite", tmp_path=tmp_path, schema=None) as uow:
            tokens = SecureTokenFactory()
            uow.subscribers = event_subscribers(settings, tokens, {})
            core = Core(
                settings=providers.Object(settings),
                uow=providers.Object(uow),
                payments=providers.Object(PaymentProviders([gateway])),
                mailer=providers.Object(mailer),
                sinks=providers.Object(build_sinks(settings, clock)),
                clock=providers.Object(clock),
                tokens=providers.Object(tokens),
            )
            order = await checkout(core)
            api.put_payment(
                order.provider_session_id, status="succeeded", value="19.00", currency="USD"
            )
            async with client_of(core, settings) as client:
                answers = await asyncio.gather(
                    *(post(client, succeeded(order), YOOKASSA_IP) for _ in range(10))
                )
            worker = core.deliver_outbox()
            for _ in range(10):
                if (await worker.execute()).claimed == 0:
                    break
            async with uow(read_only=True) as tx:
                stored = await tx.orders.get(order.id)
    finally:
        await gateway.aclose()
        await runner.cleanup()
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    outcomes = sorted(o for a in answers for o in a.json()["outcomes"])
    assert outcomes == ["duplicate"] * 9 + ["fulfilled"]
    assert stored is not None
    assert stored.payment_status is PaymentStatus.PAID
    assert len(mailer.sent) == 1
    assert mailer.sent[0].to == "buyer@example.com"
