"""CryptoPay webhooks through the HTTP app: what fulfils, and every refusal (none a 500).

Deliveries are made by the stand-in exactly as CryptoPay makes them; the
refusals change one thing each: the HMAC key (the token itself, the digest's
hex), the bytes (the same JSON re-serialised), the time, the money.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from accessgate.adapters.cryptopay.gateway import CryptoPayGateway
from accessgate.adapters.memory.clock import SettableClock
from accessgate.container import Core, create_memory_container
from accessgate.domain.model.order import Order
from accessgate.domain.model.status import PaymentStatus
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from accessgate.entrypoints.http.app import create_app
from tests.http.helpers import make_settings
from tests.providers.cryptopay.fake_cryptopay import TOKEN, FakeCryptoPay, sign

URL = "/webhook/cryptopay"


@dataclass
class Shop:
    core: Core
    client: httpx.AsyncClient
    fake: FakeCryptoPay
    clock: SettableClock

    async def buy(self) -> tuple[Order, dict[str, Any]]:
        """A checkout through the service; the stand-in's invoice of it, paid."""
        started = await self.core.start_checkout().execute(
            StartCheckoutCommand(mode="one_time", plan="one_time_basic", email="b@example.com")
        )
        order = self.order(started.order_id)
        invoice_id = int(order.provider_session_id.split("_")[1])
        return order, dict(self.fake.mark_paid(invoice_id))

    def order(self, order_id: str) -> Order:
        found: Order = self.core.uow().store.tables.orders[order_id]
        return found

    async def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post(URL, content=body, headers=headers)

    def untouched(self, order: Order) -> bool:
        tables = self.core.uow().store.tables
        return (
            self.order(order.id).payment_status is PaymentStatus.UNPAID
            and tables.tokens == {}
            and tables.payment_events == {}
        )


@pytest.fixture
async def shop(
    clock: SettableClock, fake: FakeCryptoPay, gateway: CryptoPayGateway
) -> AsyncIterator[Shop]:
    settings = make_settings()
    core = create_memory_container(settings, clock=clock, gateways=[gateway])
    transport = httpx.ASGITransport(app=create_app(settings, core), client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        yield Shop(core, client, fake, clock)


def headers_for(signature: str) -> dict[str, str]:
    return {"Crypto-Pay-Api-Signature": signature, "Content-Type": "application/json"}


async def test_a_genuine_invoice_paid_update_fulfils_the_order(shop: Shop) -> None:
    order, invoice = await shop.buy()
    body, headers = shop.fake.update(invoice)
    response = await shop.post(body, {k.title(): v for k, v in headers.items()})  # any case
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "outcomes": ["fulfilled"]}
    assert shop.order(order.id).payment_status is PaymentStatus.PAID
    assert len(shop.core.uow().store.tables.tokens) == 1


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(TOKEN.encode(), id="keyed-by-the-token-itself"),
        pytest.param(hashlib.sha256(TOKEN.encode()).hexdigest().encode(), id="keyed-by-hex-digest"),
    ],
)
async def test_a_signature_with_the_wrong_key_is_refused(shop: Shop, key: bytes) -> None:
    order, invoice = await shop.buy()
    body, _ = shop.fake.update(invoice)
    wrong = hmac.new(key, body, hashlib.sha256).hexdigest()
    response = await shop.post(body, headers_for(wrong))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert shop.untouched(order)


@pytest.mark.parametrize(
    "reserialise",
    [
        pytest.param(lambda d: json.dumps(d), id="spaces"),
        pytest.param(
            lambda d: json.dumps(d, sort_keys=True, separators=(",", ":")), id="key-order"
        ),
        pytest.param(lambda d: json.dumps(d, indent=2), id="indented"),
    ],
)
async def test_a_signature_over_a_re_serialised_body_is_refused(
    shop: Shop, reserialise: Any
) -> None:
    order, invoice = await shop.buy()
    body, headers = shop.fake.update(invoice)
    other = reserialise(json.loads(body)).encode()
    assert other != body
    assert json.loads(other) == json.loads(body)  # the same JSON, other bytes
    sent_as_is = await shop.post(other, headers)  # the sender's signature, the re-serialised body
    signed_other = await shop.post(body, headers_for(sign(other)))  # signed after re-serialising
    for response in (sent_as_is, signed_other):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert shop.untouched(order)


@pytest.mark.parametrize("offset", [timedelta(seconds=-301), timedelta(seconds=301)])
async def test_a_stale_or_future_request_date_is_refused(shop: Shop, offset: timedelta) -> None:
    order, invoice = await shop.buy()
    body, headers = shop.fake.update(invoice, sent=shop.clock.now() + offset)
    response = await shop.post(body, headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert shop.untouched(order)
    fresh, fresh_headers = shop.fake.update(invoice, sent=shop.clock.now() - timedelta(seconds=299))
    assert (await shop.post(fresh, fresh_headers)).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"amount": "19.01"}, id="more"),
        pytest.param({"amount": "0.01"}, id="less"),
        pytest.param({"fiat": "EUR"}, id="another-fiat"),
        pytest.param({"currency_type": "crypto", "asset": "USDT"}, id="an-asset-not-the-fiat"),
        pytest.param({"fiat": "XYZ"}, id="an-unknown-currency"),
    ],
)
async def test_a_wrong_amount_or_currency_is_invalid_amount(
    shop: Shop, change: dict[str, str]
) -> None:
    order, invoice = await shop.buy()
    assert (invoice["fiat"], invoice["amount"]) == (order.amount.currency, "19.00")
    body, headers = shop.fake.update({**invoice, **change})  # genuinely signed
    response = await shop.post(body, headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "INVALID_AMOUNT"
    assert shop.untouched(order)


async def test_a_signed_body_that_is_not_an_update_is_a_validation_error(shop: Shop) -> None:
    for body in (b"not json", b'{"update_id":1}', b'{"update_id":1,"update_type":"invoice_paid",'
                 b'"request_date":"yesterday"}'):  # fmt: skip
        response = await shop.post(body, headers_for(sign(body)))
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_another_update_type_is_acknowledged_and_changes_nothing(shop: Shop) -> None:
    order, invoice = await shop.buy()
    body, _ = shop.fake.update(invoice)
    other = body.replace(b'"invoice_paid"', b'"invoice_expired"')
    response = await shop.post(other, headers_for(sign(other)))
    assert response.status_code == 200
    assert response.json() == {"received": True, "outcomes": []}
    assert shop.untouched(order)


async def test_a_redelivery_with_another_update_id_is_a_duplicate(shop: Shop) -> None:
    _, invoice = await shop.buy()
    first = await shop.post(*shop.fake.update(invoice, update_id=1))
    second = await shop.post(*shop.fake.update(invoice, update_id=2))
    assert first.json()["outcomes"] == ["fulfilled"]
    assert second.json()["outcomes"] == ["duplicate"]
    assert len(shop.core.uow().store.tables.tokens) == 1


async def test_after_the_status_poll_fulfilled_the_webhook_is_a_duplicate(shop: Shop) -> None:
    order, invoice = await shop.buy()
    status = await shop.client.get(
        "/api/payment/session-status", params={"session_id": order.provider_session_id}
    )
    assert status.json()["payment_status"] == "paid"
    assert status.json()["activation_link"]
    late = await shop.post(*shop.fake.update(invoice))
    assert late.json() == {"received": True, "outcomes": ["duplicate"]}
    assert len(shop.core.uow().store.tables.tokens) == 1
