"""The PaymentGateway port, its optional capabilities and the values it exchanges.

A provider must open checkouts and verify its webhooks. Everything else is an
optional capability, declared in :attr:`PaymentGateway.capabilities` and
implemented as the method of the matching protocol (:class:`StatusPoll`,
:class:`CustomerPortal`, :class:`Refunds`). Callers reach a capability only
through :func:`status_poll`, :func:`customer_portal` or :func:`refunds`, which
raise ``CapabilityNotSupported`` (a clear error, never a crash) when the
provider does not declare it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol, runtime_checkable

import msgspec

from accessgate.domain.model.catalogue import Plan
from accessgate.domain.model.errors import CapabilityNotSupported
from accessgate.domain.model.payment_event import PaymentEvent
from accessgate.domain.model.values import Locale, Money


class CheckoutRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the provider needs to open a checkout for a new order.

    ``price`` is the price chosen for this checkout (one of ``plan.prices``):
    what the provider charges. ``return_url`` is the signed success page of
    this order, for providers whose return URL cannot carry their own session
    id (``None`` when the service builds none).
    """

    order_id: str
    plan: Plan
    price: Money
    email: str
    locale: Locale
    clickid: str | None = None
    telegram_chat_id: str | None = None
    return_url: str | None = None


class CheckoutSession(msgspec.Struct, frozen=True, kw_only=True):
    """An opened checkout: where to send the buyer and what it will charge.

    ``amount`` is in minor units of ``currency``; it is what the provider will
    charge (a Stripe price may differ from the catalogue's list price).
    """

    session_id: str
    checkout_url: str
    amount: int
    currency: str
    customer_id: str | None = None


class WebhookRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One webhook delivery as it arrived.

    ``body`` is the raw body, byte for byte (signatures are computed over it);
    ``headers`` has lower-case names; ``client_ip`` is the client address,
    resolved through ``TRUSTED_PROXIES`` (forwarded headers count only from a
    trusted peer), for providers that authenticate by source address.
    """

    body: bytes
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    client_ip: str | None = None

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), or ``None``."""
        return self.headers.get(name.lower())


class WebhookReply(msgspec.Struct, frozen=True, kw_only=True):
    """How to answer a verified delivery once its events are applied.

    ``body=None`` answers accessgate's JSON receipt
    ``{"received": true, "outcomes": [...]}``; any other body is sent as it is
    with ``media_type`` (``b"YES"`` as ``text/plain``, ``b""`` for an empty 200).
    """

    status_code: int = 200
    body: bytes | None = None
    media_type: str = "application/json"


class VerifiedWebhook(msgspec.Struct, frozen=True, kw_only=True):
    """A verified delivery: its normalised events and the reply the provider expects."""

    events: list[PaymentEvent]
    reply: WebhookReply = WebhookReply()


class Capability(StrEnum):
    """Optional things a provider can do, besides checkouts and webhooks."""

    STATUS_POLL = "status_poll"
    CUSTOMER_PORTAL = "customer_portal"
    REFUND = "refund"


class PaymentGateway(Protocol):
    """A payment provider.

    Errors: an unreachable provider raises ``ServiceUnavailable``; a request the
    provider refuses as invalid raises ``ProviderRejected``; a webhook that does
    not verify raises ``InvalidSignature``; a verified body that is not a valid
    event raises ``ValidationError`` (or ``InvalidSignature``). Nothing here
    touches storage: the caller records orders and events in its own unit of work.
    """

    @property
    def name(self) -> str:
        """The provider's name: its ``/webhook/{provider}`` path and the orders' ``provider``."""
        ...

    @property
    def capabilities(self) -> frozenset[Capability]:
        """The optional capabilities this provider implements."""
        ...

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Open a checkout session for an order that is not stored yet."""
        ...

    async def verify_webhook(self, request: WebhookRequest) -> VerifiedWebhook:
        """Verify a delivery and parse it into normalised events (all of this provider).

        Verification may call the provider's API (re-fetch the object before
        trusting it). An event type the domain does not use gives no event.
        """
        ...


@runtime_checkable
class StatusPoll(Protocol):
    """Capability ``status_poll``: ask how a checkout stands (dual fulfilment)."""

    async def fetch_checkout(self, session_id: str) -> PaymentEvent | None:
        """A completion event when the provider reports the session paid, else ``None``."""
        ...


@runtime_checkable
class CustomerPortal(Protocol):
    """Capability ``customer_portal``: where a customer manages subscriptions and cards."""

    async def customer_portal_url(self, customer_id: str, return_url: str) -> str:
        """A portal URL for ``customer_id`` that returns to ``return_url``."""
        ...


@runtime_checkable
class Refunds(Protocol):
    """Capability ``refund``: give money back (the refund event follows by webhook)."""

    async def refund(self, payment_id: str, amount: Money) -> None:
        """Refund ``amount`` of the payment ``payment_id``."""
        ...


class WebhookDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """A signed delivery ready to post to a webhook endpoint."""

    body: bytes
    headers: dict[str, str]


@runtime_checkable
class LocalCheckout(Protocol):
    """A provider whose checkout page this service serves itself (the sandbox).

    The page asks it for a signed delivery of the buyer's choice and posts it
    to :attr:`webhook_url`, so the event takes the same path as a real one.
    """

    @property
    def outcomes(self) -> frozenset[str]:
        """The choices the checkout page offers (``pay``, ``decline``)."""
        ...

    @property
    def webhook_url(self) -> str:
        """Where the deliveries go."""
        ...

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
        """A signed delivery of ``outcome`` for the checkout ``session_id``."""
        ...

    def owns_session(self, session_id: str, order_id: str) -> bool:
        """Whether ``session_id`` is this provider's checkout of ``order_id``."""
        ...


def _unsupported(gateway: PaymentGateway, capability: Capability) -> CapabilityNotSupported:
    return CapabilityNotSupported(provider=gateway.name, capability=str(capability))


def status_poll(gateway: PaymentGateway) -> StatusPoll:
    """The gateway as a status poll; raises CapabilityNotSupported when it has none."""
    if Capability.STATUS_POLL in gateway.capabilities and isinstance(gateway, StatusPoll):
        return gateway
    raise _unsupported(gateway, Capability.STATUS_POLL)


def customer_portal(gateway: PaymentGateway) -> CustomerPortal:
    """The gateway as a customer portal; raises CapabilityNotSupported when it has none."""
    if Capability.CUSTOMER_PORTAL in gateway.capabilities and isinstance(gateway, CustomerPortal):
        return gateway
    raise _unsupported(gateway, Capability.CUSTOMER_PORTAL)


def refunds(gateway: PaymentGateway) -> Refunds:
    """The gateway as a refunder; raises CapabilityNotSupported when it has none."""
    if Capability.REFUND in gateway.capabilities and isinstance(gateway, Refunds):
        return gateway
    raise _unsupported(gateway, Capability.REFUND)
