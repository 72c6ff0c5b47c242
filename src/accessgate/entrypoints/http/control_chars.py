"""Refuse control characters in the path and the query string of every request.

Every value the service takes is a single line: ids, names, emails, paths. A
control character in one (``%00`` above all, which PostgreSQL refuses in text)
is refused here, before any handler or page runs, as VALIDATION_ERROR (400)
naming the parameter. JSON bodies are checked by their schemas
(:data:`~accessgate.entrypoints.http.schemas.SINGLE_LINE`), the pay form by
the StartCheckout use case.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.values import CONTROL_CHARACTERS

REASON = "Control characters are not allowed"
_NAME = re.compile(r"^[A-Za-z0-9_.\[\]-]{1,64}$")
# Printable ASCII but ``%``: such a query decodes to printable characters only.
_PLAIN_QUERY = re.compile(rb"[\x20-\x24\x26-\x7e]*")


def offending_parameter(query_string: bytes) -> str | None:
    """The name of the first query parameter holding a control character, else ``None``.

    A parameter whose name itself is unprintable or long is reported as ``query``.
    """
    if not query_string or _PLAIN_QUERY.fullmatch(query_string):
        return None
    pairs = parse_qsl(
        query_string.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace"
    )
    for name, value in pairs:
        if CONTROL_CHARACTERS.search(name) or CONTROL_CHARACTERS.search(value):
            return name if _NAME.match(name) else "query"
    return None


class ControlCharactersMiddleware(ASGIMiddleware):
    """Answer 400 VALIDATION_ERROR to a request with a control character in its path or query."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Check the decoded path and every query parameter, then pass the request on."""
        if scope["type"] == ScopeType.HTTP:
            if CONTROL_CHARACTERS.search(scope.get("path", "")):
                raise ValidationError("Invalid request", field="path", reason=REASON, source="path")
            name = offending_parameter(scope.get("query_string", b""))
            if name is not None:
                raise ValidationError("Invalid request", field=name, reason=REASON, source="query")
        await next_app(scope, receive, send)
