"""OpenAPI: the config (``/schema``, ``/schema/openapi.json``) and documented error responses."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

import accessgate
from accessgate.domain.model.errors import ErrorCode
from accessgate.entrypoints.http.errors import ErrorEnvelope, status_of

INTERNAL_SECURITY = "internalToken"


def errors(*codes: ErrorCode) -> dict[int, ResponseSpec]:
    """Documented error responses (the envelope) for ``codes``, grouped by status."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(status_of(code), []).append(str(code))
    return {
        status: ResponseSpec(
            data_container=ErrorEnvelope,
            description="Error envelope; error.code is one of: " + ", ".join(names),
        )
        for status, names in sorted(by_status.items())
    }


PUBLIC = (ErrorCode.VALIDATION_ERROR, ErrorCode.RATE_LIMIT_EXCEEDED, ErrorCode.INTERNAL_ERROR)
INTERNAL = (ErrorCode.VALIDATION_ERROR, ErrorCode.UNAUTHORIZED, ErrorCode.INTERNAL_ERROR)


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI document and its interactive pages (Scalar at ``/schema``, Swagger too)."""
    return OpenAPIConfig(
        title="accessgate API",
        version=accessgate.__version__,
        description=(
            "Sell paid access through Telegram. Every error is the envelope "
            '{"status": "error", "error": {"code", "message", "details"}, "timestamp"}.'
        ),
        path="/schema",
        render_plugins=[ScalarRenderPlugin(path="/"), SwaggerRenderPlugin(path="/swagger")],
        components=Components(
            security_schemes={
                INTERNAL_SECURITY: SecurityScheme(
                    type="apiKey",
                    name="X-Internal-Token",
                    security_scheme_in="header",
                    description="INTERNAL_API_TOKEN, for the bot only",
                )
            }
        ),
    )
