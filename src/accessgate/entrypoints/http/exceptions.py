"""Exception handlers: every failure leaves as the error envelope.

Domain errors carry their code; Litestar's own HTTP exceptions (validation,
malformed JSON, unknown route, wrong method, oversized body) are given the
code of their kind; anything else is a crash: ``INTERNAL_ERROR`` with the
request id, logged with its traceback, never shown one. A client that hangs up
before its request body arrived (Litestar raises ``InternalServerException:
client disconnected prematurely``) is not a crash: it is logged at INFO without
a traceback and answered 400 (an answer nobody is left to read).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from accessgate.domain.model.errors import DomainError, ErrorCode
from accessgate.entrypoints.http.errors import ErrorEnvelope, error_response
from accessgate.entrypoints.http.request_id import client_disconnected, request_id_of

logger = logging.getLogger("accessgate.http")

_CODE_BY_STATUS = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    429: ErrorCode.RATE_LIMIT_EXCEEDED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}
_MESSAGES = {
    ErrorCode.NOT_FOUND: "No such resource",
    ErrorCode.METHOD_NOT_ALLOWED: "Method not allowed on this resource",
    ErrorCode.UNAUTHORIZED: "Missing or invalid credentials",
    ErrorCode.RATE_LIMIT_EXCEEDED: "Too many requests",
    ErrorCode.SERVICE_UNAVAILABLE: "Service temporarily unavailable",
}
_BACKTICKED = re.compile(r"`\$?\.?([A-Za-z_][A-Za-z0-9_]{0,63})")
_QUOTED = re.compile(r"'[^']*'")
_PASS_HEADERS = ("allow", "retry-after")

Req = Request[Any, Any, Any]


def field_error(message: str, key: str = "", source: str = "body") -> dict[str, str]:
    """Safe details of one validation failure: the field and the reason, never the value."""
    path, _, located = message.partition(" - at ")
    key = key[:64]
    if key in ("", "data"):
        where = located or ("" if message.startswith("Expected") else message)
        # "at `key` in `$.tracking_params`": the field is the container, not "key"
        _, _, container = where.partition(" in ")
        match = _BACKTICKED.search(container or where)
        key = match.group(1) if match else ""
    if "matching regex" in path:  # every pattern of the schemas is SINGLE_LINE
        path = "Expected a single line without control characters"
    reason = _QUOTED.sub("value", path)[:200]
    if reason == "value":
        reason = "Request body is missing"
    out = {"reason": reason, "source": source[:16]}
    if key:
        out["field"] = key
    return out


def _field_error(item: Any) -> dict[str, str]:
    if not isinstance(item, dict):
        return {"reason": "invalid value"}
    return field_error(
        str(item.get("message", "")), str(item.get("key", "")), str(item.get("source", "body"))
    )


def validation_details(exc: HTTPException) -> dict[str, Any]:
    """Safe details of a framework validation error: field names and reasons, never values."""
    items = exc.extra if isinstance(exc.extra, list) else []
    errors = [_field_error(item) for item in items[:10]]
    if not errors:
        if "JSON is malformed" in str(exc.detail):
            return {"reason": "Malformed JSON body"}
        match = re.search(r"parameter '([A-Za-z0-9_-]{1,64})'", str(exc.detail))
        return {"field": match.group(1), "reason": "Missing required parameter"} if match else {}
    details: dict[str, Any] = dict(errors[0])
    if len(errors) > 1:
        details["errors"] = errors
    return details


def handle_http_exception(request: Req, exc: HTTPException) -> Response[ErrorEnvelope]:
    """Litestar's own exceptions -> envelope."""
    code = _CODE_BY_STATUS.get(exc.status_code)
    if code is None:
        code = ErrorCode.VALIDATION_ERROR if exc.status_code < 500 else ErrorCode.INTERNAL_ERROR
    if code is ErrorCode.INTERNAL_ERROR:
        return handle_crash(request, exc)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in _PASS_HEADERS}
    if code is ErrorCode.VALIDATION_ERROR:
        details = validation_details(exc) if isinstance(exc, ValidationException) else {}
        if not details and exc.status_code == 400 and "JSON is malformed" in str(exc.detail):
            details = {"reason": "Malformed JSON body"}
        if exc.status_code == 413:
            details = {"reason": "Request body too large"}
        return error_response(code, "Invalid request", details, headers=headers)
    return error_response(code, _MESSAGES[code], headers=headers)


def handle_domain_error(request: Req, exc: DomainError) -> Response[ErrorEnvelope]:
    """A domain error -> envelope with its code and message."""
    headers = {}
    if exc.code is ErrorCode.RATE_LIMIT_EXCEEDED and "retry_after" in exc.details:
        headers["Retry-After"] = str(exc.details["retry_after"])
    if exc.code is ErrorCode.INTERNAL_ERROR:
        return handle_crash(request, exc)
    if exc.code is ErrorCode.SERVICE_UNAVAILABLE:
        logger.warning("service unavailable: %s", exc.message)
    return error_response(exc.code, exc.message, exc.details, headers=headers)


def handle_client_gone(request: Req) -> Response[ErrorEnvelope]:
    """The client hung up mid-request: its doing, logged quietly, answered 400."""
    logger.info(
        "client disconnected before sending the whole request: %s %s",
        request.method,
        request.scope.get("path", "?"),
    )
    return error_response(
        ErrorCode.VALIDATION_ERROR, "Invalid request", {"reason": "Request body incomplete"}
    )


def handle_crash(request: Req, exc: Exception) -> Response[ErrorEnvelope]:
    """Any other exception -> 500 INTERNAL_ERROR with the request id, traceback only in the log."""
    if client_disconnected(request.scope):
        return handle_client_gone(request)
    request_id = request_id_of(request.scope)
    logger.error(
        "unhandled error in %s %s (request %s)",
        request.method,
        request.scope.get("path", "?"),
        request_id,
        exc_info=exc,
    )
    return error_response(ErrorCode.INTERNAL_ERROR, "Internal error", {"request_id": request_id})


def exception_handlers() -> ExceptionHandlersMap:
    """The app-level exception handlers."""
    return {
        HTTPException: handle_http_exception,
        DomainError: handle_domain_error,
        Exception: handle_crash,
    }
