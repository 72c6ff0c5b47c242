"""The ``X-Internal-Token`` guard of the internal bot API (``/api/bot/*``)."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from accessgate.domain.model.errors import Unauthorized

HEADER = "X-Internal-Token"


class InternalTokenGuard:
    """Let through only requests carrying the shared internal token.

    The token is compared as bytes in constant time. With no token configured
    the internal API is off: every request is refused with 401.

    Args:
        token: ``INTERNAL_API_TOKEN``, or ``None`` when unset.

    """

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None

    @property
    def enabled(self) -> bool:
        """Whether the internal API is on."""
        return self._token is not None

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        """Raise UNAUTHORIZED unless the header holds the token."""
        if self._token is None:
            raise Unauthorized("The internal API is disabled")
        given = connection.headers.get(HEADER)
        if given is None:
            raise Unauthorized()
        if not hmac.compare_digest(given.encode("latin-1"), self._token):
            raise Unauthorized()
