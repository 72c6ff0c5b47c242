"""The sandbox PaymentGateway: no account anywhere, nothing kept in process memory.

A checkout session id is derived from the order id and keyed with the webhook
secret (``cs_sandbox_<order id>_<HMAC>``): the same order always gets the same
session, and knowing an order id (which is not secret) does not give the
session id (which shows the unused activation link). The checkout URL points at the service's own page
``<public base URL>/sandbox/checkout/<session id>``. When the buyer presses Pay
or Decline there, the page asks :meth:`SandboxPaymentGateway.signed_event` for
a signed delivery and posts it to ``/webhook/sandbox`` like a real provider,
so the event is verified on the same path as any other provider's.

The signature scheme (``Accessgate-Signature: t=<unix seconds>,v1=<hex>``,
HMAC-SHA256 over ``"<t>.<body>"``) is the one of
:class:`~accessgate.adapters.memory.payment_gateway.MemoryPaymentGateway`,
which this adapter composes rather than re-implements. Being stateless, the
gateway works the same across restarts and with several server processes.

A delivery is checked in two steps: the signature first (403
``INVALID_SIGNATURE`` for a stranger), then the body: a correctly signed body
that is not a valid event (truncated or empty JSON, wrong types, a timestamp
outside the years 1970-9999) is refused with :class:`MalformedWebhook` (400
``VALIDATION_ERROR``), never a crash.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from collections.abc import Mapping

import msgspec

from accessgate.adapters.memory.payment_gateway import (
    SIGNATURE_HEADER,
    MemoryPaymentGateway,
    WebhookDelivery,
    WireEvent,
)
from accessgate.domain.model.errors import InvalidSignature, ValidationError
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import CheckoutRequest, CheckoutSession

PROVIDER = "sandbox"
SESSION_PREFIX = f"cs_{PROVIDER}_"
OUTCOME_KINDS = {
    "pay": PaymentEventKind.CHECKOUT_COMPLETED,
    "decline": PaymentEventKind.PAYMENT_FAILED,
}
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds
_FIELD = re.compile(r"at `\$\.(\w{1,64})`")


class MalformedWebhook(ValidationError):
    """A correctly signed delivery whose body is not a valid event."""

    default_message = "Malformed webhook body"


def parse_event(body: bytes) -> WireEvent:
    """The event of a (verified) body, or :class:`MalformedWebhook` naming the field.

    Raises:
        MalformedWebhook: the body is not JSON, not an event, or a timestamp is
            outside 1970-9999 (the message and details never quote a value).

    """
    try:
        wire = msgspec.json.decode(body, type=WireEvent)
    except msgspec.DecodeError:
        raise MalformedWebhook(reason="Malformed JSON body") from None
    except msgspec.ValidationError as error:
        match = _FIELD.search(str(error))
        details = {"field": match.group(1)} if match else {}
        raise MalformedWebhook(reason="Not a valid event", **details) from None
    for field, value in (("created", wire.created), ("period_end", wire.period_end)):
        if value is not None and not 0 <= value <= MAX_TIMESTAMP:
            raise MalformedWebhook(reason="Timestamp out of range", field=field)
    return wire


class SandboxRefused(RuntimeError):
    """The sandbox provider was asked to run in production."""


class SandboxPaymentGateway:
    """A PaymentGateway for development and demos; refused in production.

    Args:
        secret: the webhook signing secret (``SANDBOX_WEBHOOK_SECRET``).
        clock: the time source of signatures and their tolerance.
        public_base_url: the service's public base URL (checkout and portal pages).
        tolerance_seconds: how far a signature's timestamp may be from now.
        production: whether the service runs in production; ``True`` is refused.

    Raises:
        SandboxRefused: when ``production`` is true.

    """

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
        self._tolerance = tolerance_seconds
        self._base = public_base_url.rstrip("/")
        self._signer = MemoryPaymentGateway(
            secret=secret,
            clock=clock,
            name=PROVIDER,
            checkout_base_url=f"{self._base}/sandbox/checkout",
            tolerance_seconds=tolerance_seconds,
        )

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

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A session derived from the order id, at the plan's list price."""
        session_id = self.session_id_of(request.order_id)
        return CheckoutSession(
            session_id=session_id,
            checkout_url=f"{self._base}/sandbox/checkout/{session_id}",
            amount=request.plan.price.amount,
            currency=request.plan.price.currency,
            customer_id=f"cus_{PROVIDER}_{request.order_id}",
        )

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
        return self._signer.webhook(event)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[PaymentEvent]:
        """Verify the signature on the raw body, then parse the event.

        Raises:
            InvalidSignature: the signature header is missing, malformed, stale or wrong.
            MalformedWebhook: the signature is right but the body is not a valid event.

        """
        self._verify_signature(body, headers)
        parse_event(body)
        return self._signer.verify_webhook(body, headers)

    def _verify_signature(self, body: bytes, headers: Mapping[str, str]) -> None:
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
        if header is None:
            raise InvalidSignature("Missing signature header")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            timestamp = int(parts["t"])
            given = parts["v1"].encode()
        except (KeyError, ValueError):
            raise InvalidSignature("Malformed signature header") from None
        if abs(self._clock.now().timestamp() - timestamp) > self._tolerance:
            raise InvalidSignature("Signature timestamp outside the tolerance")
        expected = self._signer.sign(body, timestamp).rpartition("v1=")[2].encode()
        if not hmac.compare_digest(expected, given):
            raise InvalidSignature()

    async def fetch_checkout(self, session_id: str) -> PaymentEvent | None:
        """Nothing to ask: the sandbox reports only by webhook."""
        return None

    async def customer_portal_url(self, customer_id: str, return_url: str) -> str:
        """The sandbox's own portal page."""
        return f"{self._base}/sandbox/portal"
