"""Rendering the pages: Litestar's Jinja engine over the packaged templates.

Every value reaches the HTML through Jinja with autoescaping on. Pages are
never cached and send no referrer (some carry an activation link).

Forms and CSRF: the pages hold no ambient authority (no cookie, no session;
whatever a form does, anyone can do by posting it directly), so a forged
cross-site post gains nothing. Still, every form post is checked to come from
this site: a ``Sec-Fetch-Site: cross-site`` post is refused, and an ``Origin``
(or, without it, ``Referer``) header must name this service's origin, either
``APP_PUBLIC_BASE_URL`` or the address the request was sent to. Clients that
send neither (curl, scripts) are not browsers and are let through. No GET
changes state.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.plugins.jinja import JinjaTemplateEngine

from accessgate.config import Settings
from accessgate.container import Core
from accessgate.domain.model.values import Locale
from accessgate.entrypoints.http.pages.i18n import TEXTS, page_locale

ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF"})
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
}

_engine: JinjaTemplateEngine | None = None
AnyRequest = Request[Any, Any, Any]


def engine() -> JinjaTemplateEngine:
    """The template engine, made on first use."""
    global _engine
    if _engine is None:
        environment = Environment(
            loader=PackageLoader("accessgate.entrypoints.http.pages", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _engine = JinjaTemplateEngine.from_environment(environment)
    return _engine


def settings_of(request: AnyRequest) -> Settings:
    """The settings the app was made with."""
    settings: Settings = request.app.state.settings
    return settings


def container_of(request: AnyRequest) -> Core:
    """The container the app was made with."""
    container: Core = request.app.state.container
    return container


def locale_of(request: AnyRequest, order_locale: Locale | None = None) -> Locale:
    """The language of the page for this request."""
    return page_locale(request, Locale(settings_of(request).default_locale), order_locale)


def money(amount: int, currency: str) -> str:
    """``1900, "USD"`` as ``19.00 USD`` (no decimals for zero-decimal currencies)."""
    if currency.upper() in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount // 100}.{amount % 100:02d} {currency.upper()}"


def page(
    name: str,
    locale: Locale,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    request: AnyRequest | None = None,
    **context: Any,
) -> Response[str]:
    """Render template ``name`` in ``locale`` into an HTML response.

    With ``request`` (a GET), the page links to itself in the other languages.
    """
    switch = {}
    if request is not None and request.method == "GET":
        for other in Locale:
            query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
            switch[other.value] = f"{request.url.path}?{urlencode([*query, ('lang', other.value)])}"
    html = (
        engine()
        .get_template(name)
        .render(t=TEXTS[locale], lang=locale.value, switch=switch, **context)
    )
    return Response(
        html,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={**PAGE_HEADERS, **(headers or {})},
    )


def error_page(request: AnyRequest, key: str, status_code: int) -> Response[str]:
    """A short HTML page with the message ``key`` in the request's language."""
    return page(
        "message.html",
        locale_of(request),
        status_code=status_code,
        request=request,
        message_key=key,
    )


def _origin(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower()


def same_origin(request: AnyRequest) -> bool:
    """Whether a form post comes from this site (see the module notes)."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return False
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is None:
        return True
    origin = _origin(claimed)
    allowed = {_origin(settings_of(request).app_public_base_url), _origin(str(request.base_url))}
    return origin is not None and origin in allowed
