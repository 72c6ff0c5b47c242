"""The YooKassa kit of the provider contract suite.

YooKassa signs nothing: a genuine delivery is a notification from one of
YooKassa's addresses about a payment that the API (the local stand-in) reports
as succeeded with the order's amount; a forged one is the same notification
from an address outside the list. The HTTP test of the suite runs behind a
trusted proxy on 127.0.0.1, so the address rides in ``X-Forwarded-For``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.yookassa import YooKassaGateway
from accessgate.domain.model.currency import decimal_string
from accessgate.ports.payment_gateway import WebhookReply, WebhookRequest
from tests.providers.kits import Ref
from tests.providers.yookassa import fake_yookassa
from tests.providers.yookassa.fake_yookassa import FakeYooKassa, notification

YOOKASSA_IP = "185.71.76.10"
STRANGER_IP = "203.0.113.7"


def from_address(body: bytes, ip: str) -> WebhookRequest:
    """A delivery of ``body`` from ``ip`` (also named in ``X-Forwarded-For`` for the app)."""
    headers = {"content-type": "application/json", "x-forwarded-for": ip}
    return WebhookRequest(body=body, headers=headers, client_ip=ip)


class YooKassaKit:
    """YooKassa over the local stand-in of its API."""

    reply = WebhookReply()
    tolerance: timedelta | None = None  # notifications carry no time to check
    signed = False  # trust is the source address and the re-fetch, not the body
    app_settings: dict[str, Any] = {"trusted_proxies": ("127.0.0.1",)}  # noqa: RUF012

    def __init__(self, clock: SettableClock, gateway: Any, api: FakeYooKassa) -> None:
        self.clock = clock
        self.gateway = gateway
        self.api = api

    def expected_event_id(self, ref: Ref, event_id: str) -> str:
        """YooKassa's notifications carry no id: the event and the payment make one."""
        return f"payment.succeeded:{ref.session_id}"

    def _body(self, ref: Ref) -> bytes:
        return notification("payment.succeeded", ref.session_id, status="succeeded", paid=True)

    def completion(self, ref: Ref, event_id: str, age: timedelta = timedelta(0)) -> WebhookRequest:
        self.api.put_payment(
            ref.session_id,
            status="succeeded",
            value=decimal_string(ref.paid.amount, ref.paid.currency),
            currency=ref.paid.currency,
            order_id=ref.order_id,
        )
        return from_address(self._body(ref), YOOKASSA_IP)

    def forged(self, ref: Ref, event_id: str) -> WebhookRequest:
        return from_address(self._body(ref), STRANGER_IP)


@asynccontextmanager
async def yookassa_kit(clock: SettableClock) -> AsyncIterator[YooKassaKit]:
    """The kit over a started stand-in; the gateway trusts YooKassa's published list only."""
    api, runner = await fake_yookassa.start()
    gateway = YooKassaGateway(
        shop_id=fake_yookassa.SHOP_ID,
        secret_key=fake_yookassa.SECRET_KEY,
        clock=clock,
        return_url="https://shop.example/pay/success",
        api_base=api.url,
        max_network_retries=0,
    )
    try:
        yield YooKassaKit(clock, gateway, api)
    finally:
        await gateway.aclose()
        await runner.cleanup()
