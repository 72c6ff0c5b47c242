"""Request ids: accept a sane incoming ``X-Request-ID`` or make one, echo it on every response.

The id lives in the ASGI scope (so error handlers and the ``before_send`` hook
find it even for requests that match no route) and in :data:`current_request_id`
for log records while a handler runs.

The same middleware notes in the scope when the client hangs up before the
request was read (an ``http.disconnect`` message from the server), so the
exception handlers can tell a client that went away from a crash
(:func:`client_disconnected`).
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from accessgate.entrypoints.logs import REQUEST_ID

HEADER = "X-Request-ID"
_RAW_HEADER = HEADER.lower().encode("latin-1")
SCOPE_KEY = "accessgate.request_id"
DISCONNECTED_KEY = "accessgate.client_disconnected"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

current_request_id: ContextVar[str | None] = REQUEST_ID  # shared with every log record


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
        if name.lower() == _RAW_HEADER:
            incoming = sanitise(value.decode("latin-1"))
            break
    request_id = incoming or new_request_id()
    scope[SCOPE_KEY] = request_id  # type: ignore[literal-required]
    return request_id


_IDS_PER_DRAW = 64
_ready: list[str] = []  # drawn, not handed out yet (``list.pop`` is atomic: threads may share it)
os.register_at_fork(after_in_child=_ready.clear)  # a forked process draws its own


def _draw(count: int) -> list[str]:
    """``count`` random version-4 UUIDs as 32 hex digits, from one ``os.urandom`` call."""
    pool = os.urandom(16 * count)
    ids = []
    for start in range(0, len(pool), 16):
        raw = bytearray(pool[start : start + 16])
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        ids.append(raw.hex())
    return ids


def new_request_id() -> str:
    """A random version-4 UUID as 32 hex digits, as ``uuid.uuid4().hex`` (without the UUID object).

    Drawn :data:`_IDS_PER_DRAW` at a time: one system call per draw, not one per request.
    """
    try:
        return _ready.pop()
    except IndexError:
        _ready.extend(_draw(_IDS_PER_DRAW))
        return _ready.pop()


def client_disconnected(scope: Scope) -> bool:
    """Whether the client hung up while its request was being read."""
    return scope.get(DISCONNECTED_KEY) is True


async def echo_request_id(message: Message, scope: Scope) -> None:
    """``before_send`` hook: put the request id on every response."""
    if message["type"] == "http.response.start":
        # What MutableScopeHeaders' ``headers[HEADER] = ...`` does, without building it.
        headers = message.get("headers")
        if not isinstance(headers, list):
            headers = message["headers"] = list(headers or ())
        value = (_RAW_HEADER, request_id_of(scope).encode("latin-1"))
        found = [i for i, (name, _) in enumerate(headers) if name.lower() == _RAW_HEADER]
        for i in reversed(found[1:]):
            del headers[i]
        if found:
            headers[found[0]] = value
        else:
            headers.append(value)


class RequestIdMiddleware(ASGIMiddleware):
    """Fix the request id before the handler runs, expose it to logging, note a hang-up."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Set :data:`current_request_id` for the duration of the request."""
        token = current_request_id.set(request_id_of(scope))

        async def watched_receive() -> ReceiveMessage:
            message = await receive()
            if message["type"] == "http.disconnect":
                scope[DISCONNECTED_KEY] = True  # type: ignore[literal-required]
            return message

        try:
            await next_app(
                scope, watched_receive if scope["type"] == ScopeType.HTTP else receive, send
            )
        finally:
            current_request_id.reset(token)
