"""Payment provider webhooks: ``/api/stripe/webhook`` and ``/webhook/{provider}``.

The raw body and headers go to the configured gateway's ``verify_webhook``;
the verified events to ``HandlePaymentEvents``. A provider that is not the
configured one is 404. Duplicates and unknown event types answer 200 (providers
retry on anything else); an unknown order answers 404 so the provider retries.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, SkipValidation

from accessgate.domain.model.errors import DomainError, ErrorCode
from accessgate.domain.usecases.handle_payment_events import HandlePaymentEvents
from accessgate.entrypoints.http.openapi import errors
from accessgate.entrypoints.http.schemas import WebhookResponse
from accessgate.ports.payment_gateway import PaymentGateway

E = ErrorCode
WEBHOOK_ERRORS = errors(
    E.VALIDATION_ERROR,
    E.NOT_FOUND,
    E.INVALID_SIGNATURE,
    E.PAYMENT_NOT_FOUND,
    E.INVALID_AMOUNT,
    E.INVALID_STATE_TRANSITION,
    E.SERVICE_UNAVAILABLE,
    E.INTERNAL_ERROR,
)


class NoSuchProvider(DomainError):
    """A webhook for a provider that is not configured."""

    code = ErrorCode.NOT_FOUND
    default_message = "No such payment provider"


async def receive(
    request: Request[Any, Any, Any],
    provider: str,
    gateway: PaymentGateway,
    handle: HandlePaymentEvents,
) -> WebhookResponse:
    """Verify one delivery for ``provider`` and apply its events."""
    if provider != gateway.name:
        raise NoSuchProvider()
    body = await request.body()
    events = gateway.verify_webhook(body, dict(request.headers))
    outcomes = await handle.execute(events)
    return WebhookResponse(received=True, outcomes=[str(o) for o in outcomes])


class WebhookController(Controller):
    """Signed deliveries from payment providers (not rate limited)."""

    path = "/"
    tags = ["webhooks"]  # noqa: RUF012 - Litestar reads class attributes

    @post(
        "/api/stripe/webhook",
        operation_id="stripeWebhook",
        status_code=200,
        responses=WEBHOOK_ERRORS,
    )
    async def stripe_webhook(
        self,
        request: Request[Any, Any, Any],
        payment_gateway: NamedDependency[SkipValidation[PaymentGateway]],
        handle_payment_events: NamedDependency[HandlePaymentEvents],
    ) -> WebhookResponse:
        """Stripe's webhook, verified with ``Stripe-Signature`` and ``STRIPE_WEBHOOK_SECRET``."""
        return await receive(request, "stripe", payment_gateway, handle_payment_events)

    @post(
        "/webhook/{provider:str}",
        operation_id="providerWebhook",
        status_code=200,
        responses=WEBHOOK_ERRORS,
    )
    async def provider_webhook(
        self,
        request: Request[Any, Any, Any],
        payment_gateway: NamedDependency[SkipValidation[PaymentGateway]],
        handle_payment_events: NamedDependency[HandlePaymentEvents],
        provider: Annotated[str, PathParameter(max_length=64)],
    ) -> WebhookResponse:
        """The webhook of the configured provider named in the path (``sandbox``, ``stripe``, ...)."""
        return await receive(request, provider, payment_gateway, handle_payment_events)
