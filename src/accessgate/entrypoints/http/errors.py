"""The error envelope and the one table from error code to HTTP status.

Every error on every path leaves as
``{"status": "error", "error": {"code", "message", "details"}, "timestamp"}``.
:func:`error_body` builds the envelope, :func:`error_response` the response;
pages and other entrypoints reuse them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Response

from accessgate.domain.model.errors import ErrorCode

STATUS_BY_CODE: Mapping[ErrorCode, int] = {
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.INVALID_SIGNATURE: 403,
    ErrorCode.PAYMENT_NOT_FOUND: 404,
    ErrorCode.USER_NOT_FOUND: 404,
    ErrorCode.INVALID_AMOUNT: 400,
    ErrorCode.DUPLICATE_PAYMENT: 409,
    ErrorCode.PROVIDER_REJECTED: 400,
    ErrorCode.CAPABILITY_NOT_SUPPORTED: 400,
    ErrorCode.TOKEN_INVALID: 404,
    ErrorCode.TOKEN_USED: 409,
    ErrorCode.TOKEN_EXPIRED: 410,
    ErrorCode.ACCESS_REVOKED: 403,
    ErrorCode.ACCESS_EXPIRED: 403,
    ErrorCode.OTP_INVALID: 400,
    ErrorCode.OTP_EXPIRED: 400,
    ErrorCode.TOO_MANY_ATTEMPTS: 429,
    ErrorCode.INVALID_STATE_TRANSITION: 409,
    ErrorCode.GONE: 410,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.RATE_LIMIT_EXCEEDED: 429,
    ErrorCode.INTERNAL_ERROR: 500,
}


def status_of(code: ErrorCode) -> int:
    """The HTTP status of an error code (500 for a code missing from the table)."""
    return STATUS_BY_CODE.get(code, 500)


class ErrorDetail(msgspec.Struct, kw_only=True):
    """The ``error`` member of the envelope."""

    code: str
    message: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class ErrorEnvelope(msgspec.Struct, kw_only=True):
    """The body of every error response."""

    status: str
    error: ErrorDetail
    timestamp: str


def utc_timestamp() -> str:
    """Now as ISO-8601 UTC with a ``Z`` suffix."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def error_body(
    code: ErrorCode, message: str, details: Mapping[str, Any] | None = None
) -> ErrorEnvelope:
    """The envelope of an error."""
    return ErrorEnvelope(
        status="error",
        error=ErrorDetail(code=str(code), message=message, details=dict(details or {})),
        timestamp=utc_timestamp(),
    )


def error_response(
    code: ErrorCode,
    message: str,
    details: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response[ErrorEnvelope]:
    """A JSON response carrying the envelope, with the status of ``code``."""
    return Response(
        error_body(code, message, details),
        status_code=status_of(code),
        headers=dict(headers or {}),
        media_type="application/json",
    )
