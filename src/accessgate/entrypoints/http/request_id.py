"""Request ids: accept a sane incoming ``X-Request-ID`` or make one, echo it on every response.

The id lives in the ASGI scope (so error handlers and the ``before_send`` hook
find it even for requests that match no route) and in :data:`current_request_id`
for log records while a handler runs.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
SCOPE_KEY = "accessgate.request_id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

current_request_id: ContextVar[str | None] = ContextVar("accessgate_request_id", default=None)


def sanitise(raw: str | None) -> str | None:
    """``raw`` if it is a short token of safe characters, else ``None``."""
    if raw is None:
        return None
    value = raw.strip()
    return value if _SANE.match(value) else None


def request_id_of(scope: Scope) -> str:
    """The request id of ``scope``, taken from the header or made once."""
    existing = scope.get(SCOPE_KEY)
    if isinstance(existing, str):
        return existing
    incoming = None
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-request-id":
            incoming = sanitise(value.decode("latin-1"))
            break
    request_id = incoming or uuid.uuid4().hex
    scope[SCOPE_KEY] = request_id  # type: ignore[literal-required]
    return request_id


async def echo_request_id(message: Message, scope: Scope) -> None:
    """``before_send`` hook: put the request id on every response."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        headers[HEADER] = request_id_of(scope)


class RequestIdMiddleware(ASGIMiddleware):
    """Fix the request id before the handler runs and expose it to logging."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Set :data:`current_request_id` for the duration of the request."""
        token = current_request_id.set(request_id_of(scope))
        try:
            await next_app(scope, receive, send)
        finally:
            current_request_id.reset(token)
