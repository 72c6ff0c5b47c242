"""A payment gateway in memory whose webhooks are signed and verified like a real one.

Events travel as JSON signed with HMAC-SHA256 over ``"<timestamp>.<body>"`` in
the ``Accessgate-Signature: t=<unix seconds>,v1=<hex>`` header (the shared
scheme of :mod:`accessgate.support.signing`), checked in constant time with a
timestamp tolerance. Tests sign deliveries with :meth:`MemoryPaymentGateway.webhook`
and watch ``requests``, ``paid_sessions`` and ``refunds``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import msgspec

from accessgate.domain.model.errors import DomainError, InvalidSignature
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Money
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import (
    Capability,
    CheckoutRequest,
    CheckoutSession,
    VerifiedWebhook,
    WebhookDelivery,
    WebhookRequest,
)
from accessgate.support.signing import SignatureError, TimestampedSigner

SIGNATURE_HEADER = "accessgate-signature"
__all__ = ["SIGNATURE_HEADER", "MemoryPaymentGateway", "WebhookDelivery", "WireEvent"]
ALL_CAPABILITIES = frozenset(Capability)


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
        capabilities: the optional capabilities it declares (default: all).

    """

    def __init__(
        self,
        *,
        secret: bytes,
        clock: Clock,
        name: str = "memory",
        checkout_base_url: str = "https://checkout.invalid/session",
        tolerance_seconds: int = 300,
        capabilities: Iterable[Capability] = ALL_CAPABILITIES,
    ) -> None:
        self._signer = TimestampedSigner([secret], tolerance_seconds)
        self._clock = clock
        self._name = name
        self._base = checkout_base_url.rstrip("/")
        self._capabilities = frozenset(capabilities)
        self._ids = itertools.count(1)
        self.requests: dict[str, CheckoutRequest] = {}
        self.paid_sessions: set[str] = set()
        self.refunds: list[tuple[str, Money]] = []
        self.fail_next_checkout: DomainError | None = None

    @property
    def name(self) -> str:
        """The provider name."""
        return self._name

    @property
    def capabilities(self) -> frozenset[Capability]:
        """The declared optional capabilities."""
        return self._capabilities

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
            amount=request.price.amount,
            currency=request.price.currency,
            customer_id=f"cus_{self._name}_{request.email}",
        )

    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        """The signature header value for ``body``."""
        ts = int(self._clock.now().timestamp()) if timestamp is None else timestamp
        return self._signer.header(body, ts)

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
            amount=request.price.amount,
            currency=request.price.currency,
            paid=paid,
        )

    async def verify_webhook(self, request: WebhookRequest) -> VerifiedWebhook:
        """Verify the delivery; the reply is the JSON receipt."""
        return VerifiedWebhook(events=self.verify_delivery(request.body, request.headers))

    def verify_delivery(self, body: bytes, headers: Mapping[str, str]) -> list[PaymentEvent]:
        """Check the signature on the raw body, then decode the event (synchronously)."""
        try:
            self._signer.verify(
                _header(headers, SIGNATURE_HEADER), body, self._clock.now().timestamp()
            )
        except SignatureError as error:
            raise InvalidSignature(error.reason) from None
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

    async def refund(self, payment_id: str, amount: Money) -> None:
        """Record the refund in ``refunds``."""
        self.refunds.append((payment_id, amount))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value
