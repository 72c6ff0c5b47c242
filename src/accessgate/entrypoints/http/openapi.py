"""OpenAPI: the config (``/schema``, ``/schema/openapi.json``) and documented error responses.

The documentation page is Swagger UI at ``/schema`` (and ``/schema/swagger``),
working without internet: its script, stylesheet and icon are served from
``/schema/assets/`` out of the pinned ``swagger-ui-py`` package (a packaged
copy of the ``swagger-ui-dist`` files), and the page itself has no inline
script, so its Content-Security-Policy allows scripts from this service only.
Other viewers (Scalar, ReDoc, Elements, RapiDoc) would load from a CDN and are
not served. Every unknown path under ``/schema`` answers 404 in the error
envelope, like every other path.
"""

from __future__ import annotations

import html
import importlib.util
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.datastructures import ResponseHeader
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import PathParameter
from litestar.response import File

import accessgate
from accessgate.domain.model.errors import ErrorCode
from accessgate.entrypoints.http.errors import ErrorEnvelope, status_of

INTERNAL_SECURITY = "internalToken"
SCHEMA_PATH = "/schema"
ASSETS = "/assets"
SWAGGER_PACKAGE = "swagger_ui"
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
INIT_SCRIPT = "swagger-init.js"
INIT_JS = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""
DOCS_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
ASSET_CACHE = "public, max-age=86400"


def swagger_ui_dir() -> Path | None:
    """The folder of the Swagger UI files in the installed ``swagger-ui-py`` package."""
    spec = importlib.util.find_spec(SWAGGER_PACKAGE)  # found, not imported
    locations = list(spec.submodule_search_locations or []) if spec else []
    folder = Path(locations[0]) / "static" if locations else None
    return folder if folder is not None and folder.is_dir() else None


@get(f"{ASSETS}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def swagger_asset(name: Annotated[str, PathParameter(max_length=64)]) -> Response[Any]:
    """One file of Swagger UI (or its start script); anything else is NOT_FOUND."""
    headers = {"Cache-Control": ASSET_CACHE, "X-Content-Type-Options": "nosniff"}
    if name == INIT_SCRIPT:
        return Response(INIT_JS, media_type=SWAGGER_FILES["swagger-ui-bundle.js"], headers=headers)
    folder = swagger_ui_dir()
    if name not in SWAGGER_FILES or folder is None:
        raise NotFoundException()
    return File(
        folder / name,
        filename=name,
        media_type=SWAGGER_FILES[name],
        content_disposition_type="inline",
        headers=headers,
    )


class OfflineSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI over the packaged files under ``/schema/assets/``; no CDN, no inline script."""

    def __init__(self, path: str | list[str] = "/swagger") -> None:
        prefix = f"{SCHEMA_PATH}{ASSETS}"
        super().__init__(
            path=path,
            favicon=f'<link rel="icon" type="image/png" href="{prefix}/favicon-32x32.png">',
            style="",
        )
        self.prefix = prefix

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The page: the stylesheet, the bundle and the start script, all from this service."""
        title = html.escape(str(openapi_schema.get("info", {}).get("title", "API")))
        url = html.escape(self.get_openapi_json_route(request))
        page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{self.favicon}
<link rel="stylesheet" href="{self.prefix}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-url="{url}"></div>
<script src="{self.prefix}/swagger-ui-bundle.js"></script>
<script src="{self.prefix}/{INIT_SCRIPT}"></script>
</body>
</html>
"""
        return page.encode()

    def receive_router(self, router: Router) -> None:
        """Serve the Swagger UI files beside the page."""
        router.register(swagger_asset)


async def envelope_not_found(response: Response[Any]) -> Response[Any]:
    """Litestar answers unknown ``/schema/...`` paths with an HTML page: use the envelope."""
    if response.status_code == 404:
        raise NotFoundException()
    return response


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
    """The OpenAPI document and its page (Swagger UI at ``/schema``, served offline)."""
    return OpenAPIConfig(
        title="accessgate API",
        version=accessgate.__version__,
        description=(
            "Sell paid access through Telegram. Every error is the envelope "
            '{"status": "error", "error": {"code", "message", "details"}, "timestamp"}.'
        ),
        path=SCHEMA_PATH,
        render_plugins=[OfflineSwaggerPlugin(path=["/", "/swagger"])],
        openapi_router=Router(
            SCHEMA_PATH,
            route_handlers=[],
            include_in_schema=False,
            response_headers=[ResponseHeader(name=k, value=v) for k, v in DOCS_HEADERS.items()],
            after_request=envelope_not_found,
        ),
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
