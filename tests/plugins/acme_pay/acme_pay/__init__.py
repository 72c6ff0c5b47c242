"""ACME Pay: an invented provider, written only against accessgate's public port.

Its protocol differs from Stripe's on purpose, to show what the port carries:
- the webhook body is JSON ``{"event_id", "invoice_id", "order_id", "status",
  "amount", "currency", "sent_at"}`` (``amount`` in minor units, ``sent_at``
  unix seconds, checked against a tolerance);
- ``X-Acme-Signature`` is the lowercase hex HMAC-SHA256 of the raw body keyed
  with ``ACME_SECRET_KEY`` (no timestamp in the header);
- deliveries come only from ``ACME_ALLOWED_IPS`` (the client address resolved
  through ``TRUSTED_PROXIES``);
- ACME expects the plain body ``YES`` (text/plain) in answer;
- no optional capability (no portal, no status poll, no refund).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from datetime import UTC, datetime

import msgspec

from accessgate.domain.model.errors import InvalidSignature, ValidationError
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Money
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import (
    Capability,
    CheckoutRequest,
    CheckoutSession,
    PaymentGateway,
    VerifiedWebhook,
    WebhookReply,
    WebhookRequest,
)
from accessgate.ports.payment_providers import ProviderContext, ProviderPlugin

NAME = "acme"
SIGNATURE_HEADER = "x-acme-signature"
REPLY = WebhookReply(body=b"YES", media_type="text/plain")


class AcmeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``ACME_SECRET_KEY`` (required), ``ACME_ALLOWED_IPS``, ``ACME_TOLERANCE``."""

    secret_key: str
    allowed_ips: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    tolerance: int = 300


class Notification(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The JSON body of an ACME notification."""

    event_id: str
    invoice_id: str
    order_id: str
    status: str
    amount: int
    currency: str
    sent_at: int


def signature(secret: bytes, body: bytes) -> str:
    """The ``X-Acme-Signature`` of ``body``."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


class AcmeGateway:
    """The PaymentGateway of ACME Pay."""

    capabilities: frozenset[Capability] = frozenset()

    def __init__(
        self, *, secret: bytes, clock: Clock, allowed_ips: tuple[str, ...], tolerance: int
    ) -> None:
        self._secret = secret
        self._clock = clock
        self._allowed = [ipaddress.ip_network(n, strict=False) for n in allowed_ips]
        self._tolerance = tolerance

    @property
    def name(self) -> str:
        """``acme``."""
        return NAME

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """An ACME invoice for the order, at the chosen price."""
        invoice = f"acme_inv_{request.order_id}"
        return CheckoutSession(
            session_id=invoice,
            checkout_url=f"https://pay.acme.invalid/i/{invoice}",
            amount=request.price.amount,
            currency=request.price.currency,
        )

    def notification(
        self,
        *,
        event_id: str,
        invoice_id: str,
        order_id: str,
        amount: int,
        currency: str,
        sent_at: int | None = None,
        secret: bytes | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A signed notification as ACME would send it (for tests)."""
        sent = int(self._clock.now().timestamp()) if sent_at is None else sent_at
        body = json.dumps(
            {
                "event_id": event_id,
                "invoice_id": invoice_id,
                "order_id": order_id,
                "status": "paid",
                "amount": amount,
                "currency": currency,
                "sent_at": sent,
            }
        ).encode()
        key = self._secret if secret is None else secret
        return body, {SIGNATURE_HEADER: signature(key, body), "content-type": "application/json"}

    def _from_allowed_address(self, client_ip: str | None) -> bool:
        try:
            address = ipaddress.ip_address(client_ip or "")
        except ValueError:
            return False
        return any(address in network for network in self._allowed)

    async def verify_webhook(self, request: WebhookRequest) -> VerifiedWebhook:
        """Check the source address, the signature and the freshness; answer ``YES``."""
        if not self._from_allowed_address(request.client_ip):
            raise InvalidSignature("Delivery from an address ACME does not use")
        given = request.header(SIGNATURE_HEADER) or ""
        if not hmac.compare_digest(signature(self._secret, request.body).encode(), given.encode()):
            raise InvalidSignature()
        try:
            note = msgspec.json.decode(request.body, type=Notification)
            amount = Money.of(note.amount, note.currency)
        except (msgspec.DecodeError, ValidationError):
            raise ValidationError("Malformed ACME notification") from None
        if abs(self._clock.now().timestamp() - note.sent_at) > self._tolerance:
            raise InvalidSignature("Notification outside the tolerance")
        if note.status != "paid":
            return VerifiedWebhook(events=[], reply=REPLY)
        event = PaymentEvent(
            provider=NAME,
            event_id=note.event_id,
            kind=PaymentEventKind.CHECKOUT_COMPLETED,
            occurred_at=datetime.fromtimestamp(note.sent_at, UTC),
            order_id=note.order_id,
            session_id=note.invoice_id,
            amount=amount,
        )
        return VerifiedWebhook(events=[event], reply=REPLY)


def build(settings: AcmeSettings, context: ProviderContext) -> PaymentGateway:
    """The ACME gateway; a bad address in ``ACME_ALLOWED_IPS`` stops the start."""
    return AcmeGateway(
        secret=settings.secret_key.encode(),
        clock=context.clock,
        allowed_ips=settings.allowed_ips,
        tolerance=settings.tolerance,
    )


plugin = ProviderPlugin(
    name=NAME,
    settings_type=AcmeSettings,
    env_prefix="ACME_",
    build=build,
    description="ACME Pay (a test plug-in outside accessgate)",
)
