"""Rendering the pages: Litestar's Jinja engine over the packaged templates.

Every value reaches the HTML through Jinja with autoescaping on. Pages are
never cached. Their referrer policy is ``same-origin``: the browser names the
page (and its origin) only to this service and never to another site, so the
activation link a page carries never leaks through ``Referer``, while the
browser's own form posts still carry their ``Origin``.

Forms and CSRF: the pages hold no ambient authority (no cookie, no session;
whatever a form does, anyone can do by posting it directly), so a forged
cross-site post gains nothing. Still, every form post is checked to come from
this site (:func:`same_origin`):

* ``Sec-Fetch-Site: cross-site`` or ``same-site`` (another origin) is refused;
* an ``Origin`` header must name this service's origin, either
  ``APP_PUBLIC_BASE_URL`` or the address the request was sent to (scheme,
  host and port compared exactly, default ports normalised);
* ``Origin: null`` (sent when a page asks for no referrer) is accepted only
  when the browser itself vouches with ``Sec-Fetch-Site: same-origin`` (or
  ``none``, a navigation the user typed);
* without ``Origin``, ``Sec-Fetch-Site: same-origin``/``none`` is proof
  enough, else a ``Referer`` must name this service's origin;
* clients that send none of these headers (curl, scripts) are not browsers and
  are let through.

Browsers never let a page set ``Sec-Fetch-*`` or ``Origin`` itself. No GET
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
from accessgate.domain.model.currency import human_amount
from accessgate.domain.model.values import Locale
from accessgate.entrypoints.http.pages.i18n import page_locale
from accessgate.support import jinja_i18n
from accessgate.support.i18n import mark, translate

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
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
        jinja_i18n.install(environment, "lang")
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
    return page_locale(request, Locale(settings_of(request).service.default_locale), order_locale)


def money(amount: int, currency: str) -> str:
    """``1900, "USD"`` as ``19.00 USD``, ``1500, "XTR"`` as ``1500 XTR`` (the domain's table)."""
    return human_amount(amount, currency.upper())


def plan_title(request: AnyRequest, code: str, locale: Locale) -> str:
    """The catalogue's title of plan ``code`` in ``locale`` (the code for a plan no longer sold)."""
    return container_of(request).catalog().title(code, locale)


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
    html = engine().get_template(name).render(lang=locale.value, switch=switch, **context)
    return Response(
        html,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={**PAGE_HEADERS, **(headers or {})},
    )


#: The messages of :func:`error_page` (English msgids of the catalogues).
FORBIDDEN = mark("This form was sent from another site and was refused.")
NOT_FOUND = mark("Nothing was found for this link.")


def error_page(request: AnyRequest, message: str, status_code: int) -> Response[str]:
    """A short HTML page with ``message`` (an English msgid) in the request's language."""
    locale = locale_of(request)
    return page(
        "message.html",
        locale,
        status_code=status_code,
        request=request,
        message=translate(locale.value, message),
    )


DEFAULT_PORTS = {"http": 80, "https": 443}
BROWSER_VOUCHES = frozenset({"same-origin", "none"})
OTHER_ORIGIN = frozenset({"cross-site", "same-site"})
Origin = tuple[str, str, int]


def parse_origin(url: str) -> Origin | None:
    """``(scheme, host, port)`` of an origin or URL; ``None`` when it is not one."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number: "http://a:8000.evil.test"
        return None
    if scheme not in DEFAULT_PORTS or not host or port is None or parts.username is not None:
        return None
    return scheme, host, port


def allowed_origins(request: AnyRequest) -> set[Origin]:
    """This service's origins: ``APP_PUBLIC_BASE_URL`` and the address the request was sent to."""
    candidates = (settings_of(request).service.app_public_base_url, str(request.base_url))
    return {origin for url in candidates if (origin := parse_origin(url)) is not None}


def same_origin(request: AnyRequest) -> bool:
    """Whether a form post comes from this site (see the module notes)."""
    fetch_site = request.headers.get("sec-fetch-site", "").strip().lower()
    if fetch_site in OTHER_ORIGIN:
        return False
    vouched = fetch_site in BROWSER_VOUCHES
    origin = request.headers.get("origin")
    if origin is not None:
        if origin.strip().lower() == "null":
            return vouched
        return parse_origin(origin) in allowed_origins(request)
    if vouched:
        return True
    referer = request.headers.get("referer")
    if referer is None:
        return True
    return parse_origin(referer) in allowed_origins(request)
