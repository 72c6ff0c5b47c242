"""``/api/payment``: checkout, session status, customer portal."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from accessgate.config import Settings
from accessgate.domain.model.errors import ErrorCode
from accessgate.domain.usecases.open_customer_portal import OpenCustomerPortal
from accessgate.domain.usecases.request_portal_link import RequestPortalLink
from accessgate.domain.usecases.session_status import GetSessionStatus
from accessgate.domain.usecases.start_checkout import StartCheckout, StartCheckoutCommand
from accessgate.entrypoints.http.client import ClientAddress
from accessgate.entrypoints.http.guards import strict_body, strict_rate_limit
from accessgate.entrypoints.http.openapi import PUBLIC, errors
from accessgate.entrypoints.http.responses import json_response
from accessgate.entrypoints.http.schemas import (
    CheckoutSessionRequest,
    CheckoutSessionResponse,
    EmailRequest,
    PortalLinkSent,
    PortalResponse,
    SessionStatusResponse,
)

MAX_HEADER_VALUE = 512
E = ErrorCode


def fbclid_of(request: Request[Any, Any, Any], query: str | None) -> str | None:
    """The fbclid of the query, else the one inside Meta's ``_fbc`` cookie."""
    if query:
        return query
    fbc = request.cookies.get("_fbc", "")
    parts = fbc.split(".", 3)
    if len(parts) == 4 and parts[0] == "fb" and parts[3]:
        return parts[3][:MAX_HEADER_VALUE]
    return None


class PaymentController(Controller):
    """Checkout and what follows it.

    ``strict_body`` guards only the handlers that take a body: every guard
    costs a copy of the route handler per request, a no-op one too.
    """

    path = "/api/payment"
    tags = ["payment"]  # noqa: RUF012 - Litestar reads class attributes

    @post(
        "/checkout-session",
        operation_id="createCheckoutSession",
        status_code=200,
        guards=[strict_body],
        responses=errors(*PUBLIC, E.PROVIDER_REJECTED, E.SERVICE_UNAVAILABLE),
    )
    async def checkout_session(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CheckoutSessionRequest],
        start_checkout: NamedDependency[StartCheckout],
        client_address: NamedDependency[ClientAddress],
        fbclid: Annotated[str | None, QueryParameter(max_length=512, required=False)] = None,
    ) -> CheckoutSessionResponse:
        """Open a checkout for a new order; send the buyer to ``checkout_url``.

        ``provider`` picks one of ``PAYMENT_PROVIDERS`` (default: the first);
        any other is 400 VALIDATION_ERROR with ``details.field`` ``provider``.

        The client address, User-Agent and ``fbclid`` (query, else the ``_fbc``
        cookie) are kept on the order for the Conversions API.
        """
        started = await start_checkout.execute(
            StartCheckoutCommand(
                mode=data.mode,
                plan=data.plan,
                email=data.email,
                clickid=data.clickid,
                locale=data.locale,
                telegram_chat_id=data.telegram_chat_id,
                currency=data.currency,
                provider=data.provider,
                fbclid=fbclid_of(request, fbclid),
                client_ip=client_address(request),
                user_agent=request.headers.get("user-agent", "")[:MAX_HEADER_VALUE] or None,
            )
        )
        return CheckoutSessionResponse(
            checkout_url=started.checkout_url,
            session_id=started.session_id,
            order_id=started.order_id,
        )

    @get(
        "/session-status",
        operation_id="getSessionStatus",
        responses=errors(*PUBLIC, E.PAYMENT_NOT_FOUND),
    )
    async def get_session_status(
        self,
        session_status: NamedDependency[GetSessionStatus],
        session_id: Annotated[str, QueryParameter(min_length=1, max_length=255)],
    ) -> Response[SessionStatusResponse]:
        """Where a checkout stands; ``activation_link`` appears once a token is issued."""
        status = await session_status.execute(session_id)
        return json_response(
            SessionStatusResponse(
                payment_status=status.payment_status,
                fulfillment_status=status.fulfillment_status,
                access_status=status.access_status,
                activation_link=status.activation_link,
            )
        )

    @post(
        "/customer-portal",
        operation_id="openCustomerPortal",
        status_code=200,
        guards=[strict_body, strict_rate_limit],
        responses=errors(
            *PUBLIC,
            E.USER_NOT_FOUND,
            E.PROVIDER_REJECTED,
            E.CAPABILITY_NOT_SUPPORTED,
            E.SERVICE_UNAVAILABLE,
        ),
    )
    async def customer_portal(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[EmailRequest],
        open_customer_portal: NamedDependency[OpenCustomerPortal],
        request_portal_link: NamedDependency[RequestPortalLink],
    ) -> PortalLinkSent | PortalResponse:
        """Send the subscriber the link to the provider's portal (cancel, card, invoices).

        By default (``CUSTOMER_PORTAL_MODE=email``) the link is emailed to the
        address if it has a subscription, and the answer is
        ``{"status": "portal_link_sent"}`` for every address. With
        ``CUSTOMER_PORTAL_MODE=direct`` the answer is ``{"portal_url": ...}`` to
        whoever knows the email (USER_NOT_FOUND for an address without one).
        """
        settings: Settings = request.app.state["settings"]
        if settings.payments.customer_portal_mode == "direct":
            return PortalResponse(portal_url=await open_customer_portal.execute(data.email))
        await request_portal_link.execute(data.email)
        return PortalLinkSent(status="portal_link_sent")
