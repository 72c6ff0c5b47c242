"""The CryptoPay kit of the provider contract suite, over the local Crypto Pay stand-in.

A genuine delivery is signed exactly as CryptoPay signs (``fake_cryptopay.sign``:
the token's raw SHA-256 digest as the HMAC key); a forged one with another
app's token. CryptoPay's events carry no id of their own that accessgate uses:
the event id is ``invoice_paid:<invoice id>`` (:meth:`expected_event_id`); the
suite's event id travels in the invoice's ``comment`` so that it is in the
signed bytes.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from accessgate.adapters.cryptopay.gateway import CryptoPayGateway
from accessgate.adapters.memory.clock import SettableClock
from accessgate.domain.model.currency import decimal_string
from accessgate.ports.payment_gateway import WebhookReply, WebhookRequest
from tests.providers.cryptopay import fake_cryptopay
from tests.providers.cryptopay.fake_cryptopay import TOKEN, iso, sign
from tests.providers.kits import CLIENT_IP, Ref

GHOST_INVOICE = 999_999
_SESSION = re.compile(r"^cp_(\d+)_")


def invoice_id_of(session_id: str) -> int:
    """The invoice id in a CryptoPay session id (a made-up one for a session that is not)."""
    match = _SESSION.match(session_id)
    return int(match.group(1)) if match else GHOST_INVOICE


class CryptoPayKit:
    """CryptoPay: ``crypto-pay-api-signature`` over the raw body; ``request_date`` dates it."""

    reply = WebhookReply()
    tolerance = timedelta(seconds=300)

    def __init__(self, clock: SettableClock, gateway: CryptoPayGateway) -> None:
        self.clock = clock
        self.gateway = gateway

    def expected_event_id(self, ref: Ref, event_id: str) -> str:
        """The event id of a completion: one per paid invoice, whatever the delivery."""
        return f"invoice_paid:{invoice_id_of(ref.session_id)}"

    def _body(self, ref: Ref, event_id: str, age: timedelta) -> bytes:
        now = self.clock.now()
        crypto = ref.paid.currency in ("USDT", "TON", "BTC", "ETH", "LTC", "BNB", "TRX", "USDC")
        invoice = {
            "invoice_id": invoice_id_of(ref.session_id),
            "hash": "IVcontract",
            "currency_type": "crypto" if crypto else "fiat",
            ("asset" if crypto else "fiat"): ref.paid.currency,
            "amount": decimal_string(ref.paid.amount, ref.paid.currency),
            "status": "paid",
            "created_at": iso(now - timedelta(minutes=5)),
            "paid_at": iso(now - age),
            "payload": ref.order_id,
            "comment": event_id,
        }
        update = {
            "update_id": zlib.crc32(event_id.encode()),
            "update_type": "invoice_paid",
            "request_date": iso(now - age),
            "payload": invoice,
        }
        return json.dumps(update, separators=(",", ":")).encode()

    def _request(self, body: bytes, token: str) -> WebhookRequest:
        headers = {
            "crypto-pay-api-signature": sign(body, token),
            "content-type": "application/json",
        }
        return WebhookRequest(body=body, headers=headers, client_ip=CLIENT_IP)

    def completion(self, ref: Ref, event_id: str, age: timedelta = timedelta(0)) -> WebhookRequest:
        return self._request(self._body(ref, event_id, age), TOKEN)

    def forged(self, ref: Ref, event_id: str) -> WebhookRequest:
        return self._request(self._body(ref, event_id, timedelta(0)), "67890:AAanotherAppsToken")


@asynccontextmanager
async def cryptopay_kit(clock: SettableClock) -> AsyncIterator[CryptoPayKit]:
    """The kit with its gateway talking to a fresh stand-in."""
    fake, runner = await fake_cryptopay.start(clock.now)
    gateway = CryptoPayGateway(api_token=TOKEN, clock=clock, api_base=fake.url, timeout_seconds=5)
    try:
        yield CryptoPayKit(clock, gateway)
    finally:
        await gateway.aclose()
        await runner.cleanup()
