"""Route guards that read their configured instance from the app state.

``rate_limit`` limits public routes per client address (when enabled);
``internal_token`` admits only the bot with ``X-Internal-Token``. Pages may use
``rate_limit`` too.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

STATE_RATE_LIMITER = "rate_limiter"
STATE_INTERNAL_TOKEN = "internal_token_guard"  # noqa: S105 - a state key, not a secret


async def rate_limit(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Count the request against its client's limit; raises RATE_LIMIT_EXCEEDED past it."""
    limiter = connection.app.state.get(STATE_RATE_LIMITER)
    if limiter is not None:
        await limiter(connection, handler)


async def internal_token(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Admit only requests with the internal token; raises UNAUTHORIZED otherwise."""
    await connection.app.state[STATE_INTERNAL_TOKEN](connection, handler)
