"""The sandbox provider's pages: the checkout with Pay and Decline, and its portal.

Pay (or Decline) answers the buyer first, with a redirect to ``/pay/success``;
then, as a background task, the sandbox posts its signed event to
``<APP_PUBLIC_BASE_URL>/webhook/sandbox`` like a real provider would, so the
event enters through the same webhook endpoint and signature check as any
provider's. Failed deliveries are retried a few times, then logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from litestar import Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import PathParameter
from litestar.response import Redirect

from accessgate.domain.model.errors import PaymentNotFound
from accessgate.domain.model.status import PaymentStatus
from accessgate.domain.usecases.describe_checkout import CheckoutSummary
from accessgate.entrypoints.http.pages.render import (
    FORBIDDEN,
    NOT_FOUND,
    AnyRequest,
    container_of,
    error_page,
    locale_of,
    money,
    page,
    plan_title,
    same_origin,
)
from accessgate.ports.payment_gateway import LocalCheckout, WebhookDelivery

log = logging.getLogger("accessgate.sandbox")
DELIVERY_ATTEMPTS = 4
DELIVERY_TIMEOUT = 10.0
SessionId = Annotated[str, PathParameter(max_length=255)]
Outcome = Annotated[str, PathParameter(max_length=16)]


def _gateway(request: AnyRequest) -> LocalCheckout | None:
    """The live ``sandbox`` provider, when there is one and it serves its own checkout."""
    gateway = container_of(request).payments().find("sandbox")
    return gateway if isinstance(gateway, LocalCheckout) else None


async def _summary(request: AnyRequest, session_id: str) -> CheckoutSummary | None:
    """The sandbox order of ``session_id`` (an order of another provider is none)."""
    gateway = _gateway(request)
    try:
        summary = await container_of(request).describe_checkout().execute(session_id)
    except PaymentNotFound:
        return None
    if gateway is None or not gateway.owns_session(summary.session_id, summary.order_id):
        return None
    return summary


def _success_url(session_id: str, lang: str) -> str:
    return f"/pay/success?session_id={quote(session_id, safe='')}&lang={lang}"


@get("/sandbox/checkout/{session_id:str}", include_in_schema=False)
async def checkout_page(request: AnyRequest, session_id: SessionId) -> Response[str]:
    """The order with Pay and Decline buttons."""
    summary = await _summary(request, session_id) if _gateway(request) else None
    if summary is None:
        return error_page(request, NOT_FOUND, 404)
    locale = locale_of(request, summary.locale)
    return page(
        "sandbox_checkout.html",
        locale,
        request=request,
        summary=summary,
        plan_label=plan_title(request, summary.plan, locale),
        amount=money(summary.amount, summary.currency),
        open=summary.payment_status is PaymentStatus.UNPAID,
        action=f"/sandbox/checkout/{quote(session_id, safe='')}",
        success_url=_success_url(session_id, locale.value),
    )


@post("/sandbox/checkout/{session_id:str}/{outcome:str}", include_in_schema=False, status_code=303)
async def checkout_choice(
    request: AnyRequest, session_id: SessionId, outcome: Outcome
) -> Response[Any]:
    """Pay or Decline: redirect the buyer, then deliver the signed event to the webhook."""
    gateway = _gateway(request)
    summary = await _summary(request, session_id) if gateway else None
    if gateway is None or summary is None or outcome not in gateway.outcomes:
        return error_page(request, NOT_FOUND, 404)
    if not same_origin(request):
        return error_page(request, FORBIDDEN, 403)
    locale = locale_of(request, summary.locale)
    target = _success_url(session_id, locale.value)
    if summary.payment_status is not PaymentStatus.UNPAID:
        return Redirect(target, status_code=303)
    delivery = gateway.signed_event(
        outcome=outcome,
        session_id=summary.session_id,
        order_id=summary.order_id,
        amount=summary.amount,
        currency=summary.currency,
    )
    task = BackgroundTask(deliver_webhook, gateway.webhook_url, delivery)
    return Redirect(target, status_code=303, background=task)


async def deliver_webhook(url: str, delivery: WebhookDelivery) -> bool:
    """Post a signed event to the webhook endpoint; retry on 5xx and network errors."""
    async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT) as client:
        for attempt in range(DELIVERY_ATTEMPTS):
            try:
                response = await client.post(url, content=delivery.body, headers=delivery.headers)
            except httpx.HTTPError as error:
                log.warning("sandbox webhook to %s failed: %s", url, type(error).__name__)
            else:
                if response.status_code < 300:
                    log.info("sandbox webhook delivered (%d)", response.status_code)
                    return True
                log.warning("sandbox webhook answered %d", response.status_code)
                if response.status_code < 500:
                    return False
            await asyncio.sleep(0.5 * 2**attempt)
    log.error("sandbox webhook not delivered after %d attempts", DELIVERY_ATTEMPTS)
    return False


@get("/sandbox/portal", include_in_schema=False)
async def portal_page(request: AnyRequest) -> Response[str]:
    """The sandbox's stand-in for a provider's customer portal."""
    return page("portal.html", locale_of(request), request=request)
