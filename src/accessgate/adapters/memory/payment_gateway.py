"""A payment gateway in memory whose webhooks are signed and verified like a real one.

Events travel as JSON signed with HMAC-SHA256 over ``"<timestamp>.<body>"`` in
the ``Accessgate-Signature: t=<unix seconds>,v1=<hex>`` header, checked in
constant time with a timestamp tolerance. The sandbox provider serves the same
wire format from its checkout page; tests use :meth:`MemoryPaymentGateway.webhook`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec

from accessgate.domain.model.errors import DomainError, InvalidSignature
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Money
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import CheckoutRequest, CheckoutSession

SIGNATURE_HEADER = "accessgate-signature"


class WireEvent(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The JSON body of a signed event."""

    id: str
    type: PaymentEventKind
    created: int
    order_id: str | None = None
    session_id: str | None = None
    subscription_id: str | None = None
    payment_id: str | None = None
    customer_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    paid: bool = True
    period_end: int | None = None
    cancel_at_period_end: bool | None = None


class WebhookDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """A signed webhook as it would arrive over HTTP."""

    body: bytes
    headers: dict[str, str]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(WireEvent)


class MemoryPaymentGateway:
    """A PaymentGateway with observable state and real signature checks.

    Args:
        secret: the webhook signing secret.
        clock: the time source for timestamps and tolerance.
        name: the provider name stored on orders.
        checkout_base_url: where ``checkout_url`` points (``<base>/<session id>``).
        tolerance_seconds: how far a signature's timestamp may be from now.

    """

    def __init__(
        self,
        *,
        secret: bytes,
        clock: Clock,
        name: str = "memory",
        checkout_base_url: str = "https://checkout.invalid/session",
        tolerance_seconds: int = 300,
    ) -> None:
        if tolerance_seconds <= 0:
            raise ValueError("the signature tolerance must be positive")
        self._secret = secret
        self._clock = clock
        self._name = name
        self._base = checkout_base_url.rstrip("/")
        self._tolerance = tolerance_seconds
        self._ids = itertools.count(1)
        self.requests: dict[str, CheckoutRequest] = {}
        self.paid_sessions: set[str] = set()
        self.fail_next_checkout: DomainError | None = None

    @property
    def name(self) -> str:
        """The provider name."""
        return self._name

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Open a session at the plan's list price (or raise ``fail_next_checkout``)."""
        if self.fail_next_checkout is not None:
            error, self.fail_next_checkout = self.fail_next_checkout, None
            raise error
        session_id = f"cs_{self._name}_{next(self._ids):06d}_{request.order_id}"
        self.requests[session_id] = request
        return CheckoutSession(
            session_id=session_id,
            checkout_url=f"{self._base}/{session_id}",
            amount=request.plan.price.amount,
            currency=request.plan.price.currency,
            customer_id=f"cus_{self._name}_{request.email}",
        )

    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        """The signature header value for ``body``."""
        ts = int(self._clock.now().timestamp()) if timestamp is None else timestamp
        mac = hmac.new(self._secret, f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={ts},v1={mac}"

    def webhook(self, event: WireEvent, timestamp: int | None = None) -> WebhookDelivery:
        """A signed delivery of ``event``."""
        body = _encoder.encode(event)
        return WebhookDelivery(
            body=body,
            headers={
                SIGNATURE_HEADER: self.sign(body, timestamp),
                "content-type": "application/json",
            },
        )

    def completion(
        self, session_id: str, *, paid: bool = True, event_id: str | None = None
    ) -> WireEvent:
        """The event of a checkout completed at the requested price."""
        request = self.requests[session_id]
        return WireEvent(
            id=event_id or f"evt_{self._name}_{next(self._ids):06d}",
            type=PaymentEventKind.CHECKOUT_COMPLETED,
            created=int(self._clock.now().timestamp()),
            order_id=request.order_id,
            session_id=session_id,
            customer_id=f"cus_{self._name}_{request.email}",
            amount=request.plan.price.amount,
            currency=request.plan.price.currency,
            paid=paid,
        )

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[PaymentEvent]:
        """Check the signature on the raw body, then decode the event."""
        header = _header(headers, SIGNATURE_HEADER)
        if header is None:
            raise InvalidSignature("Missing signature header")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            timestamp = int(parts["t"])
            given = parts["v1"]
        except (KeyError, ValueError):
            raise InvalidSignature("Malformed signature header") from None
        if abs(self._clock.now().timestamp() - timestamp) > self._tolerance:
            raise InvalidSignature("Signature timestamp outside the tolerance")
        expected = hmac.new(
            self._secret, f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise InvalidSignature()
        try:
            wire = _decoder.decode(body)
        except msgspec.ValidationError:
            raise InvalidSignature("Signed body is not a valid event") from None
        return [self._to_domain(wire)]

    def _to_domain(self, wire: WireEvent) -> PaymentEvent:
        amount = None
        if wire.amount is not None and wire.currency is not None:
            amount = Money.of(wire.amount, wire.currency)
        return PaymentEvent(
            provider=self._name,
            event_id=wire.id,
            kind=wire.type,
            occurred_at=datetime.fromtimestamp(wire.created, UTC),
            order_id=wire.order_id,
            session_id=wire.session_id,
            subscription_id=wire.subscription_id,
            payment_id=wire.payment_id,
            customer_id=wire.customer_id,
            amount=amount,
            paid=wire.paid,
            period_end=None
            if wire.period_end is None
            else datetime.fromtimestamp(wire.period_end, UTC),
            cancel_at_period_end=wire.cancel_at_period_end,
        )

    async def fetch_checkout(self, session_id: str) -> PaymentEvent | None:
        """A completion event for sessions marked in ``paid_sessions``."""
        if session_id not in self.paid_sessions or session_id not in self.requests:
            return None
        wire = self.completion(session_id, event_id=f"fetch_{session_id}")
        return self._to_domain(wire)

    async def customer_portal_url(self, customer_id: str, return_url: str) -> str:
        """A fake portal address."""
        return f"{self._base}/portal/{customer_id}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value
