"""Legacy endpoints kept only to answer 410 Gone."""

from __future__ import annotations

from litestar import Controller, get

from accessgate.domain.model.errors import ErrorCode, Gone
from accessgate.entrypoints.http.openapi import PUBLIC, errors


class LegacyController(Controller):
    """Removed endpoints of earlier releases."""

    path = "/api/payment/redirect"
    tags = ["legacy"]  # noqa: RUF012 - Litestar reads class attributes

    @get(
        "/",
        operation_id="legacyPaymentRedirect",
        deprecated=True,
        responses=errors(*PUBLIC, ErrorCode.GONE),
    )
    async def payment_redirect(self) -> None:
        """Removed: always 410 GONE. Use ``POST /api/payment/checkout-session``."""
        raise Gone("This endpoint was removed; use POST /api/payment/checkout-session")
