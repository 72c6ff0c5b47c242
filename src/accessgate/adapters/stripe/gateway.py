"""StripeGateway: Checkout, verified webhooks, dual fulfilment and the customer portal."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import stripe

from accessgate.adapters.stripe import wire
from accessgate.adapters.stripe.errors import wrap
from accessgate.adapters.stripe.events import PAID_STATUSES, parse_event, session_event
from accessgate.adapters.stripe.signature import StripeSignatureVerifier
from accessgate.domain.model.errors import ProviderRejected, ServiceUnavailable
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Mode, PlanCode
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import (
    Capability,
    CheckoutRequest,
    CheckoutSession,
    VerifiedWebhook,
    WebhookRequest,
)

_MODES = {Mode.ONE_TIME: "payment", Mode.SUBSCRIPTION: "subscription"}


class StripeGateway:
    """The PaymentGateway of Stripe, over the official SDK's async httpx client.

    Capabilities: status poll (Checkout Session retrieve) and customer portal
    (billing portal sessions). Refunds are made in the Stripe dashboard; their
    ``charge.refunded`` events arrive by webhook.

    Args:
        secret_key: the API secret key (``sk_live_...``/``sk_test_...``); never logged.
        webhook_secrets: the endpoint signing secrets; several during a rotation.
        price_one_time_basic: the Price id of plan ``one_time_basic`` (one-time price).
        price_sub_monthly: the Price id of plan ``sub_monthly`` (recurring price).
        prices: the Price id of any plan, by plan code (the catalogue's ``stripe`` references).
        public_base_url: the service's public URL, for the success and cancel URLs.
        api_base: another Stripe API base URL (a local Stripe-compatible server).
        tolerance_seconds: how far a webhook timestamp may be from now; > 0.
        clock: the time source of the tolerance check (default: the system clock).
        timeout_seconds: the timeout of one HTTP request to Stripe.
        max_network_retries: retries of a failed request (connection error, 409, 5xx);
            create calls carry an idempotency key, so a retry never creates twice.
        name: the provider name stored on orders.

    """

    capabilities = frozenset({Capability.STATUS_POLL, Capability.CUSTOMER_PORTAL})

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secrets: Sequence[str],
        public_base_url: str,
        price_one_time_basic: str = "",
        price_sub_monthly: str = "",
        prices: Mapping[str, str] | None = None,
        api_base: str | None = None,
        tolerance_seconds: int = 300,
        clock: Clock | None = None,
        timeout_seconds: float = 20.0,
        max_network_retries: int = 2,
        name: str = "stripe",
    ) -> None:
        if not secret_key:
            raise ValueError("a Stripe secret key is required")
        self._name = name
        self._clock = clock or _WallClock()
        self._verifier = StripeSignatureVerifier(webhook_secrets, self._clock, tolerance_seconds)
        self._prices = {
            code: price
            for code, price in {
                PlanCode.ONE_TIME_BASIC: price_one_time_basic,
                PlanCode.SUB_MONTHLY: price_sub_monthly,
                **(prices or {}),
            }.items()
            if price
        }
        base = public_base_url.rstrip("/")
        self._success_url = f"{base}/pay/success?session_id={{CHECKOUT_SESSION_ID}}"
        self._cancel_url = f"{base}/pay?cancelled=1"
        self._http = stripe.HTTPXClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            secret_key,
            http_client=self._http,
            max_network_retries=max_network_retries,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
        )

    @property
    def name(self) -> str:
        """The provider name, ``stripe``."""
        return self._name

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Open a Checkout Session for the order; the amount is Stripe's price."""
        mode = _MODES[request.plan.mode]
        # The catalogue's Stripe Price id of the plan, else one given to the constructor.
        price_id = request.plan.provider_refs.get("stripe") or self._prices.get(request.plan.code)
        if not price_id:
            raise ProviderRejected("No Stripe price for this plan", provider="stripe")
        metadata = {"order_id": request.order_id, "locale": str(request.locale)}
        if request.clickid:
            metadata["clickid"] = request.clickid
        if request.telegram_chat_id:
            metadata["telegram_chat_id"] = request.telegram_chat_id
        params: dict[str, Any] = {
            "mode": mode,
            "line_items": [{"price": price_id, "quantity": 1}],
            "customer_email": request.email,
            "client_reference_id": request.order_id,
            "metadata": metadata,
            "locale": str(request.locale),
            "success_url": self._success_url,
            "cancel_url": self._cancel_url,
        }
        if mode == "payment":
            params["customer_creation"] = "always"
            params["payment_intent_data"] = {"metadata": metadata}
        else:
            params["subscription_data"] = {"metadata": metadata}
        key = f"accessgate-checkout-{request.order_id}"
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": key},
            )
            amount, currency = session.amount_total, session.currency
            if amount is None or not currency:
                price = await self._client.v1.prices.retrieve_async(price_id)
                amount, currency = price.unit_amount, price.currency
        except stripe.StripeError as error:
            raise wrap(error) from None
        if not session.url or amount is None or not currency:
            raise ServiceUnavailable("Stripe returned an incomplete Checkout Session")
        return CheckoutSession(
            session_id=session.id,
            checkout_url=session.url,
            amount=amount,
            currency=currency.upper(),
            customer_id=_id(session.customer),
        )

    async def verify_webhook(self, request: WebhookRequest) -> VerifiedWebhook:
        """Verify and map a delivery; Stripe gets the JSON receipt."""
        return VerifiedWebhook(events=self.verify_delivery(request.body, request.headers))

    def verify_delivery(self, body: bytes, headers: Mapping[str, str]) -> list[PaymentEvent]:
        """Verify ``Stripe-Signature`` on the raw body and map the event (``[]`` if unused)."""
        self._verifier.verify(body, headers)
        return parse_event(self._name, body)

    async def fetch_checkout(self, session_id: str) -> PaymentEvent | None:
        """Retrieve the Checkout Session; a paid one gives a completion event.

        The event id is ``checkout_fetch:<session id>`` and its time the session's
        creation, so it never makes a real webhook event look stale. Stripe
        errors raise ServiceUnavailable or ProviderRejected.
        """
        try:
            session = await self._client.v1.checkout.sessions.retrieve_async(session_id)
        except stripe.StripeError as error:
            raise wrap(error) from None
        try:
            data = msgspec.convert(_ids(session.to_dict()), wire.CheckoutSession)
        except msgspec.ValidationError:
            raise ServiceUnavailable("Stripe returned an unexpected Checkout Session") from None
        if data.payment_status not in PAID_STATUSES:
            return None
        created = data.created or int(self._clock.now().timestamp())
        return session_event(
            self._name,
            f"checkout_fetch:{data.id}",
            PaymentEventKind.CHECKOUT_COMPLETED,
            datetime.fromtimestamp(created, UTC),
            data,
        )

    async def customer_portal_url(self, customer_id: str, return_url: str) -> str:
        """Open a billing portal session for the customer and return its URL."""
        key = f"accessgate-portal-{uuid.uuid4().hex}"
        try:
            portal = await self._client.v1.billing_portal.sessions.create_async(
                {"customer": customer_id, "return_url": return_url},
                {"idempotency_key": key},
            )
        except stripe.StripeError as error:
            raise wrap(error) from None
        return portal.url


class _WallClock:
    """The current UTC time (adapters do not import each other's clocks)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def _id(value: object) -> str | None:
    """The id of a field that is an id or, when expanded, an object."""
    if value is None or isinstance(value, str):
        return value
    found = getattr(value, "id", None)
    return found if isinstance(found, str) else None


def _ids(session: dict[str, Any]) -> dict[str, Any]:
    """Collapse expanded objects of the fields read into their ids."""
    out = dict(session)
    for field in ("customer", "subscription", "payment_intent"):
        value = out.get(field)
        if isinstance(value, dict):
            out[field] = value.get("id")
    return out
