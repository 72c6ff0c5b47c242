"""FreeKassa notifications made the way FreeKassa makes them, and the contract kit.

The form body carries ``MERCHANT_ID``, ``AMOUNT``, ``intid``,
``MERCHANT_ORDER_ID``, ``P_EMAIL``, ``CUR_ID``, the echoed ``us_currency`` and
``SIGN`` = md5(``MERCHANT_ID:AMOUNT:secret_2:MERCHANT_ORDER_ID``), computed
here independently of the adapter.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlencode

from accessgate import plugins
from accessgate.adapters.memory.clock import SettableClock
from accessgate.domain.model.currency import decimal_string
from accessgate.ports.payment_gateway import WebhookReply, WebhookRequest
from accessgate.ports.payment_providers import ProviderContext
from tests.providers.kits import CLIENT_IP, Ref

MERCHANT_ID = "48213"
SECRET_1 = "fk-first-secret-word"
SECRET_2 = "fk-second-secret-word"
FK_IP = "168.119.157.136"
ENV = {
    "FREEKASSA_MERCHANT_ID": MERCHANT_ID,
    "FREEKASSA_SECRET_1": SECRET_1,
    "FREEKASSA_SECRET_2": SECRET_2,
    "FREEKASSA_TRUSTED_IPS": f"{FK_IP},168.119.60.227,{CLIENT_IP}",
}


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def notification(
    *,
    order_id: str,
    amount: str,
    intid: str,
    currency: str | None = "USD",
    merchant_id: str = MERCHANT_ID,
    secret: str = SECRET_2,
    signed_amount: str | None = None,
    client_ip: str = CLIENT_IP,
    upper: bool = False,
) -> WebhookRequest:
    """A notification as FreeKassa posts it (``signed_amount``: sign another AMOUNT text)."""
    sign = md5(f"{merchant_id}:{signed_amount or amount}:{secret}:{order_id}")
    fields = {
        "MERCHANT_ID": merchant_id,
        "AMOUNT": amount,
        "intid": intid,
        "MERCHANT_ORDER_ID": order_id,
        "P_EMAIL": "buyer@example.com",
        "CUR_ID": "36",
    }
    if currency is not None:
        fields["us_currency"] = currency
    fields["SIGN"] = sign.upper() if upper else sign
    return WebhookRequest(
        body=urlencode(fields).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
        client_ip=client_ip,
    )


class FreeKassaKit:
    """FreeKassa, built through its entry point; notifications from an allowed address."""

    reply = WebhookReply(body=b"YES", media_type="text/plain")
    tolerance: timedelta | None = None  # FreeKassa's notifications carry no time

    def __init__(self, clock: SettableClock) -> None:
        self.clock = clock
        plugin = plugins.load("freekassa")
        group = plugins.read_group(plugin, ENV)
        context = ProviderContext(
            clock=clock, public_base_url="https://shop.example", webhook_url="unused"
        )
        self.gateway = plugin.build(group, context)

    def _note(self, ref: Ref, event_id: str, secret: str) -> WebhookRequest:
        amount = decimal_string(ref.paid.amount, ref.paid.currency)
        return notification(
            order_id=ref.order_id,
            amount=amount,
            intid=event_id,
            currency=ref.paid.currency,
            secret=secret,
        )

    def completion(self, ref: Ref, event_id: str, age: timedelta = timedelta(0)) -> WebhookRequest:
        return self._note(ref, event_id, SECRET_2)

    def forged(self, ref: Ref, event_id: str) -> WebhookRequest:
        return self._note(ref, event_id, "not-the-second-secret-word")

    def unsigned(self, genuine: WebhookRequest) -> WebhookRequest:
        """``genuine`` without its ``SIGN`` field (FreeKassa signs inside the body)."""
        body = b"&".join(p for p in genuine.body.split(b"&") if not p.startswith(b"SIGN="))
        return WebhookRequest(body=body, headers=genuine.headers, client_ip=genuine.client_ip)

    def tampered(self, genuine: WebhookRequest) -> list[bytes]:
        """``genuine`` with each signed field changed, the first byte flipped, a byte appended.

        FreeKassa signs only ``MERCHANT_ID``, ``AMOUNT`` and ``MERCHANT_ORDER_ID``;
        the unsigned fields accessgate reads are tested on their own
        (tests/providers/freekassa).
        """
        body = genuine.body
        changed = [bytes([body[0] ^ 0x01]) + body[1:], body + b" "]
        for name in (b"MERCHANT_ID=", b"AMOUNT=", b"MERCHANT_ORDER_ID=", b"SIGN="):
            start = body.index(b"&" + name) + 1 if not body.startswith(name) else 0
            at = start + len(name)
            changed.append(body[:at] + bytes([body[at] ^ 0x01]) + body[at + 1 :])
        return changed
