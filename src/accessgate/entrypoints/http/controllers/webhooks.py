"""Payment provider webhooks: ``/webhook/{provider}`` and Stripe's ``/api/stripe/webhook``.

The raw body, the headers and the client address (resolved through
``TRUSTED_PROXIES``) go to the named provider's ``verify_webhook``; the
verified events to ``HandlePaymentEvents``; the reply is the one the provider
expects (accessgate's JSON receipt by default, a plain ``YES``, an empty 200).
A provider that is not installed or not listed in ``PAYMENT_PROVIDERS`` is 404.
Duplicates and unknown event types answer 200 (providers retry on anything
else); an unknown order answers 404 so the provider retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, SkipValidation

from accessgate.domain.model.errors import DomainError, ErrorCode
from accessgate.domain.usecases.handle_payment_events import HandlePaymentEvents
from accessgate.entrypoints.http.client import ClientAddress
from accessgate.entrypoints.http.metrics import STATE_METRICS
from accessgate.entrypoints.http.openapi import errors
from accessgate.entrypoints.http.responses import json_response
from accessgate.entrypoints.http.schemas import WebhookResponse
from accessgate.ports.payment_gateway import WebhookRequest
from accessgate.ports.payment_providers import PaymentProviders

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
    """A webhook for a provider that is not live."""

    code = ErrorCode.NOT_FOUND
    default_message = "No such payment provider"


@dataclass(frozen=True, slots=True)
class WebhookContext:
    """What a webhook handler needs, injected as one dependency.

    One dependency, not three: Litestar resolves several dependencies of a
    handler concurrently in an anyio task group, a cost paid on every delivery.
    """

    payments: PaymentProviders
    handle: HandlePaymentEvents
    client_address: ClientAddress


async def receive(
    request: Request[Any, Any, Any], provider: str, context: WebhookContext
) -> Response[Any]:
    """Verify one delivery for ``provider``, apply its events, answer as it expects."""
    gateway = context.payments.find(provider)
    if gateway is None:
        raise NoSuchProvider()
    delivery = WebhookRequest(
        body=await request.body(),
        headers={k.lower(): v for k, v in request.headers.items()},
        client_ip=context.client_address(request),
    )
    verified = await gateway.verify_webhook(delivery)
    outcomes = await context.handle.execute(verified.events, provider=gateway.name)
    metrics = request.app.state.get(STATE_METRICS)
    if metrics is not None:
        metrics.record_payments(gateway.name, outcomes)
    reply = verified.reply
    if reply.body is None:
        receipt = WebhookResponse(received=True, outcomes=[str(o) for o in outcomes])
        return json_response(receipt, reply.status_code)
    return Response(reply.body, status_code=reply.status_code, media_type=reply.media_type)


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
        webhook_context: NamedDependency[SkipValidation[WebhookContext]],
    ) -> Response[WebhookResponse]:
        """Stripe's webhook (seed 002), verified with ``Stripe-Signature``; 404 unless listed."""
        return await receive(request, "stripe", webhook_context)

    @post(
        "/webhook/{provider:str}",
        operation_id="providerWebhook",
        status_code=200,
        responses=WEBHOOK_ERRORS,
    )
    async def provider_webhook(
        self,
        request: Request[Any, Any, Any],
        webhook_context: NamedDependency[SkipValidation[WebhookContext]],
        provider: Annotated[str, PathParameter(max_length=64)],
    ) -> Response[WebhookResponse]:
        """The webhook of a provider of ``PAYMENT_PROVIDERS`` (``sandbox``, ``stripe``, ...).

        The answer is the one the provider expects: this JSON receipt unless
        its plug-in says otherwise (a plain ``YES``, an empty 200).
        """
        return await receive(request, provider, webhook_context)
