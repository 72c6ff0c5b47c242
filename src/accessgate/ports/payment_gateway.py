"""The PaymentGateway port and the values it exchanges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import msgspec

from accessgate.domain.model.payment_event import PaymentEvent
from accessgate.domain.model.values import Locale, Plan


class CheckoutRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the provider needs to open a checkout for a new order."""

    order_id: str
    plan: Plan
    email: str
    locale: Locale
    clickid: str | None = None
    telegram_chat_id: str | None = None


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


class PaymentGateway(Protocol):
    """A payment provider.

    Errors: an unreachable provider raises ``ServiceUnavailable``; a request the
    provider refuses as invalid raises ``ProviderRejected``; a webhook that does
    not verify raises ``InvalidSignature``. Nothing here touches storage: the
    caller records orders and events in its own unit of work.
    """

    @property
    def name(self) -> str:
        """The provider's name as used in ``/webhook/{provider}`` and stored on orders."""
        ...

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Open a checkout session for an order that is not stored yet."""
        ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[PaymentEvent]:
        """Verify a webhook on its raw body and parse it into normalised events.

        An event type the domain does not use gives an empty list.
        """
        ...

    async def fetch_checkout(self, session_id: str) -> PaymentEvent | None:
        """Ask the provider how a checkout stands (dual fulfilment).

        Returns a completion event when the provider reports the session paid,
        else ``None``.
        """
        ...

    async def customer_portal_url(self, customer_id: str, return_url: str) -> str:
        """A URL where the customer manages their subscription and payment methods."""
        ...
