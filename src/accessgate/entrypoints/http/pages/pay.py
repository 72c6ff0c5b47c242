"""``/pay`` (email and plan -> checkout) and ``/pay/success`` (the providers' return URL).

``/pay/success`` shows "payment pending" and refreshes itself (every
``PENDING_REFRESH_SECONDS``, then every ``SLOW_REFRESH_SECONDS``); the count of
refreshes rides in the query (``n``), and after ``MAX_REFRESHES`` the page stops
and offers "check again" and the way back to the pay form. It is rate limited
like the API, and the provider is asked about an unpaid session at most once per
``PAYMENT_STATUS_LOOKUP_INTERVAL`` however often it is hit.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.response import Redirect

from accessgate.domain.model.errors import DomainError, ErrorCode, PaymentNotFound
from accessgate.domain.model.status import PaymentStatus
from accessgate.domain.model.telegram_link import SIG_PARAM, TG_PARAM, verify_telegram_id
from accessgate.domain.model.values import Locale
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from accessgate.entrypoints.http.client import ClientAddress, parse_trusted_proxies
from accessgate.entrypoints.http.guards import rate_limit
from accessgate.entrypoints.http.pages.i18n import period_text
from accessgate.entrypoints.http.pages.render import (
    FORBIDDEN,
    NOT_FOUND,
    AnyRequest,
    container_of,
    error_page,
    locale_of,
    money,
    page,
    plan_title,
    same_origin,
    settings_of,
)
from accessgate.support.i18n import mark, translate

# ``tg``/``tg_sig``: the Telegram id the bot signed (domain.model.telegram_link).
HIDDEN_FIELDS = ("clickid", "telegram_chat_id", "locale", "fbclid", TG_PARAM, SIG_PARAM)
MAX_FIELD = 512
PENDING_REFRESH_SECONDS = 3
SLOW_REFRESH_SECONDS = 10
FAST_REFRESHES = 20
MAX_REFRESHES = 40
INVALID_PLAN = mark("Please choose one of the plans.")
#: What the form says about an error (English msgids of the catalogues).
ERROR_MESSAGES = {
    ("email", ErrorCode.VALIDATION_ERROR): mark("Please enter a valid email address."),
    ("plan", ErrorCode.VALIDATION_ERROR): INVALID_PLAN,
    ("mode", ErrorCode.VALIDATION_ERROR): INVALID_PLAN,
}
UNAVAILABLE = mark("Payments are unavailable right now. Please try again in a minute.")


def _plans(request: AnyRequest, locale: Locale) -> list[dict[str, str]]:
    """Each plan of the catalogue with its title and default price (what the form sells)."""
    plans = []
    for plan in container_of(request).catalog().plans:
        price = money(plan.price.amount, plan.price.currency)
        period = period_text(plan.period, plan.mode, locale)
        plans.append(
            {
                "code": plan.code,
                "label": plan.title(locale),
                "price": f"{price} {period}" if period else price,
            }
        )
    return plans


def _form_page(
    request: AnyRequest, locale: Locale, values: dict[str, str], error: str | None, status: int
) -> Response[str]:
    return page(
        "pay.html",
        locale,
        request=request,
        status_code=status,
        plans=_plans(request, locale),
        values=values,
        hidden={k: values[k] for k in HIDDEN_FIELDS if values.get(k)},
        error=error,
    )


def _error_text(locale: Locale, error: DomainError) -> str:
    field = str(error.details.get("field", ""))
    message = ERROR_MESSAGES.get((field, error.code))
    if message is None and error.code is ErrorCode.SERVICE_UNAVAILABLE:
        message = UNAVAILABLE
    return translate(locale.value, message) if message else error.message


@get("/", include_in_schema=False)
async def home(request: AnyRequest) -> Redirect:
    """``/`` sends people to the pay form (302), keeping the query (``clickid``, ``lang``...)."""
    query = request.url.query
    return Redirect(f"/pay?{query}" if query else "/pay", status_code=302)


@get("/pay", include_in_schema=False)
async def pay_form(request: AnyRequest) -> Response[str]:
    """The pay form; ``clickid``, ``telegram_chat_id``, ``locale``, ``plan`` come from the query."""
    query = request.query_params
    values = {k: query.get(k, "")[:MAX_FIELD] for k in (*HIDDEN_FIELDS, "plan", "email")}
    values["plan"] = values["plan"] or container_of(request).catalog().plans[0].code
    locale = locale_of(request, _known_locale(values["locale"]))
    return _form_page(request, locale, values, None, 200)


@post("/pay", include_in_schema=False, guards=[rate_limit], status_code=303)
async def pay_submit(request: AnyRequest) -> Response[Any]:
    """Start the checkout and send the buyer to the provider (303), or show the form again."""
    form = await request.form()
    values = {k: str(form.get(k) or "")[:MAX_FIELD] for k in (*HIDDEN_FIELDS, "plan", "email")}
    locale = locale_of(request, _known_locale(values["locale"]))
    if not same_origin(request):
        return error_page(request, FORBIDDEN, 403)
    container = container_of(request)
    settings = settings_of(request)
    # A signed id from the bot's pay button: the paid access goes to that account.
    verified_user = verify_telegram_id(
        settings.service.secret_key.encode(), values[TG_PARAM], values[SIG_PARAM]
    )
    try:
        plan = container.catalog().get(values["plan"])
        started = await container.start_checkout().execute(
            StartCheckoutCommand(
                mode=plan.mode.value,
                plan=plan.code,
                email=values["email"],
                clickid=values["clickid"] or None,
                locale=values["locale"] or locale.value,
                telegram_chat_id=values["telegram_chat_id"] or None,
                telegram_user_id=verified_user,
                fbclid=values["fbclid"] or None,
                client_ip=ClientAddress(parse_trusted_proxies(settings.service.trusted_proxies))(
                    cast(Any, request)
                ),
                user_agent=request.headers.get("user-agent", "")[:MAX_FIELD] or None,
            )
        )
    except DomainError as error:
        status = 503 if error.code is ErrorCode.SERVICE_UNAVAILABLE else 400
        return _form_page(request, locale, values, _error_text(locale, error), status)
    return Redirect(started.checkout_url, status_code=303)


def _refresh_count(request: AnyRequest) -> int:
    raw = request.query_params.get("n", "")[:6]
    return min(int(raw), MAX_REFRESHES) if raw.isdigit() else 0


def _self_url(request: AnyRequest, n: int | None) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "n"]
    if n:
        query.append(("n", str(n)))
    return f"{request.url.path}?{urlencode(query)}"


@get("/pay/success", include_in_schema=False, guards=[rate_limit])
async def pay_success(request: AnyRequest) -> Response[str]:
    """Shows "payment pending" (refreshing, a bounded number of times) until paid, then the link."""
    query = request.query_params
    session_id = query.get("session_id", "")[:MAX_FIELD]
    container = container_of(request)
    try:
        order_id = query.get("order", "")[:MAX_FIELD]
        if order_id:  # a provider's fixed return URL: the signed link of the order
            if not container.return_links().verify(order_id, query.get("sig", "")[:MAX_FIELD]):
                raise PaymentNotFound()
            summary = await container.describe_checkout().of_order(order_id)
            session_id = summary.session_id
        else:
            summary = await container.describe_checkout().execute(session_id)
        status = await container.session_status().execute(session_id)
    except PaymentNotFound:
        return error_page(request, NOT_FOUND, 404)
    locale = locale_of(request, summary.locale)
    link = status.activation_link
    state = status.payment_status.value
    if status.payment_status is PaymentStatus.PAID and link is None:
        state = PaymentStatus.UNPAID.value  # paid, the token is on its way: keep refreshing
    refreshes = _refresh_count(request)
    if state == PaymentStatus.UNPAID.value and refreshes >= MAX_REFRESHES:
        state = "stalled"
    return page(
        "success.html",
        locale,
        request=request,
        state=state,
        summary=summary,
        plan_label=plan_title(request, summary.plan, locale),
        amount=money(summary.amount, summary.currency),
        link=link,
        telegram=bool(link and link.startswith("https://t.me/")),
        refresh=PENDING_REFRESH_SECONDS if refreshes < FAST_REFRESHES else SLOW_REFRESH_SECONDS,
        refresh_url=_self_url(request, refreshes + 1),
        check_url=_self_url(request, None),
        retry_url=f"/pay?{urlencode({'plan': summary.plan, 'lang': locale.value})}",
    )


def _known_locale(raw: str) -> Locale | None:
    try:
        return Locale(raw.strip().lower()) if raw else None
    except ValueError:
        return None
