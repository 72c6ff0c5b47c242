"""The sandbox PaymentGateway: no account anywhere, nothing kept in process memory.

A checkout session id is derived from the order id and keyed with the webhook
secret (``cs_sandbox_<order id>_<HMAC>``): the same order always gets the same
session, and knowing an order id (which is not secret) does not give the
session id (which shows the unused activation link). The checkout URL points at
the service's own page ``<public base URL>/sandbox/checkout/<session id>``.
When the buyer presses Pay or Decline there, the page asks
:meth:`SandboxPaymentGateway.signed_event` for a signed delivery and posts it
to ``/webhook/sandbox`` like a real provider, so the event is verified on the
same path as any other provider's. Being stateless, the gateway works the same
across restarts and with several server processes.

A delivery is checked in two steps: the signature first (403
``INVALID_SIGNATURE`` for a stranger), then the body (400 ``VALIDATION_ERROR``
for a signed body that is not a valid event; see :mod:`.wire`).
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Mapping

from accessgate.adapters.sandbox.wire import (
    ENCODER,
    SIGNATURE_HEADER,
    WireEvent,
    parse_event,
    to_domain,
)
from accessgate.domain.model.errors import InvalidSignature
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
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

PROVIDER = "sandbox"
SESSION_PREFIX = f"cs_{PROVIDER}_"
OUTCOME_KINDS = {
    "pay": PaymentEventKind.CHECKOUT_COMPLETED,
    "decline": PaymentEventKind.PAYMENT_FAILED,
}


class SandboxRefused(RuntimeError):
    """The sandbox provider was asked to run in production."""


class SandboxPaymentGateway:
    """A PaymentGateway for development and demos; refused in production.

    Capabilities: the customer portal (the service's own ``/sandbox/portal``
    page); no status poll (it reports only by webhook), no refunds.

    Args:
        secret: the webhook signing secret (``SANDBOX_WEBHOOK_SECRET``).
        clock: the time source of signatures and their tolerance.
        public_base_url: the service's public base URL (checkout and portal pages).
        tolerance_seconds: how far a signature's timestamp may be from now.
        production: whether the service runs in production; ``True`` is refused.

    Raises:
        SandboxRefused: when ``production`` is true.

    """

    capabilities = frozenset({Capability.CUSTOMER_PORTAL})
    outcomes = frozenset(OUTCOME_KINDS)

    def __init__(
        self,
        *,
        secret: bytes,
        clock: Clock,
        public_base_url: str,
        tolerance_seconds: int = 300,
        production: bool = False,
    ) -> None:
        if production:
            raise SandboxRefused("the sandbox payment provider is refused in production")
        if not secret:
            raise ValueError("the sandbox webhook secret must not be empty")
        self._secret = secret
        self._clock = clock
        self._base = public_base_url.rstrip("/")
        self._signer = TimestampedSigner([secret], tolerance_seconds)

    @property
    def name(self) -> str:
        """The provider name: ``sandbox``."""
        return PROVIDER

    @property
    def webhook_url(self) -> str:
        """Where the sandbox delivers its events: the service's ``/webhook/sandbox``."""
        return f"{self._base}/webhook/{PROVIDER}"

    def session_id_of(self, order_id: str) -> str:
        """The session id of ``order_id``: the order id and a keyed digest of it."""
        digest = hmac.new(self._secret, f"session:{order_id}".encode(), "sha256").digest()
        tag = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        return f"{SESSION_PREFIX}{order_id}_{tag}"

    def owns_session(self, session_id: str, order_id: str) -> bool:
        """Whether ``session_id`` is the sandbox session of ``order_id``."""
        return hmac.compare_digest(self.session_id_of(order_id), session_id)

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A session derived from the order id, at the plan's list price."""
        session_id = self.session_id_of(request.order_id)
        return CheckoutSession(
            session_id=session_id,
            checkout_url=f"{self._base}/sandbox/checkout/{session_id}",
            amount=request.price.amount,
            currency=request.price.currency,
            customer_id=f"cus_{PROVIDER}_{request.order_id}",
        )

    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        """The ``Accessgate-Signature`` value for ``body`` (now by default)."""
        ts = int(self._clock.now().timestamp()) if timestamp is None else timestamp
        return self._signer.header(body, ts)

    def signed_event(
        self,
        *,
        outcome: str,
        session_id: str,
        order_id: str,
        amount: int,
        currency: str,
        event_id: str | None = None,
    ) -> WebhookDelivery:
        """A signed delivery of the buyer's choice on the checkout page.

        Args:
            outcome: ``pay`` (a ``checkout_completed`` event) or ``decline``
                (a ``payment_failed`` event).
            session_id: the checkout session.
            order_id: the order the session belongs to.
            amount: the charged amount in minor units (the order's).
            currency: the currency code of ``amount``.
            event_id: a unique id for the event (a random one by default).

        """
        kind = OUTCOME_KINDS.get(outcome)
        if kind is None:
            raise ValueError("outcome must be 'pay' or 'decline'")
        event = WireEvent(
            id=event_id or f"evt_{PROVIDER}_{secrets.token_hex(12)}",
            type=kind,
            created=int(self._clock.now().timestamp()),
            order_id=order_id,
            session_id=session_id,
            customer_id=f"cus_{PROVIDER}_{order_id}",
            amount=amount,
            currency=currency,
            paid=kind is PaymentEventKind.CHECKOUT_COMPLETED,
        )
        return self.delivery(event)

    def delivery(self, event: WireEvent, timestamp: int | None = None) -> WebhookDelivery:
        """A signed delivery of any sandbox event (tests use it for the contract suite)."""
        body = ENCODER.encode(event)
        return WebhookDelivery(
            body=body,
            headers={
                SIGNATURE_HEADER: self.sign(body, timestamp),
                "content-type": "application/json",
            },
        )

    async def verify_webhook(self, request: WebhookRequest) -> VerifiedWebhook:
        """Verify and parse a delivery; the reply is the JSON receipt."""
        return VerifiedWebhook(events=self.verify_delivery(request.body, request.headers))

    def verify_delivery(self, body: bytes, headers: Mapping[str, str]) -> list[PaymentEvent]:
        """Verify the signature on the raw body, then parse the event.

        Raises:
            InvalidSignature: the signature header is missing, malformed, stale or wrong.
            MalformedWebhook: the signature is right but the body is not a valid event.

        """
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
        try:
            self._signer.verify(header, body, self._clock.now().timestamp())
        except SignatureError as error:
            raise InvalidSignature(error.reason) from None
        return [to_domain(PROVIDER, parse_event(body))]

    async def customer_portal_url(self, customer_id: str, return_url: str) -> str:
        """The sandbox's own portal page."""
        return f"{self._base}/sandbox/portal"
