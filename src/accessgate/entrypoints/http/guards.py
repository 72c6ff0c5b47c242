"""Route guards that read their configured instance from the app state.

``rate_limit`` limits public routes per client address (when enabled);
``strict_rate_limit`` adds the stricter limit of the routes that send email or
check restore codes, ``bot_restore_rate_limit`` that of the bot's restore
routes (per email);
``internal_token`` admits only the bot with ``X-Internal-Token``; ``strict_body``
refuses JSON bodies of the wrong types; ``internal_request`` is the two in one.
Pages may use ``rate_limit`` too.

Litestar copies the route handler for every guard it runs on a request, so a
route gets only the guards that can do something there: ``rate_limit`` sits on
the router of the public controllers only when limits are on, and the bot API
runs its two checks as one guard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from accessgate.domain.model.errors import ValidationError
from accessgate.entrypoints.http.exceptions import field_error
from accessgate.entrypoints.http.schemas import Body

STATE_RATE_LIMITER = "rate_limiter"
STATE_STRICT_RATE_LIMITER = "strict_rate_limiter"
STATE_BOT_RESTORE_RATE_LIMITER = "bot_restore_rate_limiter"
STATE_INTERNAL_TOKEN = "internal_token_guard"  # noqa: S105 - a state key, not a secret


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def limiter_guard(state_key: str, description: str) -> Guard:
    """A guard counting the request against the limiter in app state ``state_key`` (if any)."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        limiter = connection.app.state.get(state_key)
        if limiter is not None:
            await limiter(connection, handler)

    guard.__doc__ = description
    return guard


rate_limit = limiter_guard(
    STATE_RATE_LIMITER,
    "Count the request against its client's limit; raises RATE_LIMIT_EXCEEDED past it.",
)
strict_rate_limit = limiter_guard(
    STATE_STRICT_RATE_LIMITER,
    "Count the request against the client's stricter limit (restore, portal email).",
)
bot_restore_rate_limit = limiter_guard(
    STATE_BOT_RESTORE_RATE_LIMITER,
    "Count a bot restore request against the stricter limit of its email.",
)


async def internal_token(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Admit only requests with the internal token; raises UNAUTHORIZED otherwise."""
    await connection.app.state[STATE_INTERNAL_TOKEN](connection, handler)


async def internal_request(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """``internal_token`` then ``strict_body``, as one guard."""
    await internal_token(connection, handler)
    await strict_body(connection, handler)


async def strict_body(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Decode a JSON request body strictly (no ``"12"`` for an integer) before Litestar does.

    Litestar converts bodies leniently; for request bodies typed with a
    :class:`~accessgate.entrypoints.http.schemas.Body` this guard refuses wrong
    types, unknown fields and malformed JSON first, as VALIDATION_ERROR.
    """
    field = handler.parsed_fn_signature.parameters.get("data")
    target = field.annotation if field is not None else None
    if not (isinstance(target, type) and issubclass(target, Body)):
        return
    request = (  # Litestar hands its guards the handler's own Request
        connection
        if isinstance(connection, Request)
        else Request[Any, Any, Any](connection.scope, connection.receive)
    )
    raw = await request.body()
    if not raw.strip():
        raise ValidationError("Invalid request", reason="Request body is missing", source="body")
    try:
        msgspec.json.decode(raw, type=target)
    except msgspec.ValidationError as error:
        raise ValidationError("Invalid request", **field_error(str(error))) from None
    except msgspec.DecodeError:
        raise ValidationError("Invalid request", reason="Malformed JSON body") from None
