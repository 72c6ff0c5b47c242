"""``/activate``: the activation link's target when no Telegram bot is configured.

The real flow is the bot's deep link ``https://t.me/<bot>?start=<token>``: the
bot reads the token from ``/start`` and activates access for the Telegram user
who pressed it. Without ``TELEGRAM_BOT_USERNAME`` the link points here instead;
the page asks for a Telegram user id and posts it with the token (GET never
activates anything).

The page speaks the language of the order the token belongs to (``?lang=``
still wins; an unknown token falls back to ``Accept-Language``).
"""

from __future__ import annotations

from litestar import Response, get, post

from accessgate.domain.model.errors import DomainError, ErrorCode, ValidationError
from accessgate.domain.model.values import Locale
from accessgate.domain.usecases.activate_access import ActivateAccessCommand
from accessgate.entrypoints.http.guards import rate_limit
from accessgate.entrypoints.http.pages.render import (
    FORBIDDEN,
    AnyRequest,
    container_of,
    error_page,
    locale_of,
    page,
    plan_title,
    same_origin,
)
from accessgate.support.i18n import mark, translate

MAX_TOKEN = 128
#: What the form says about an error (English msgids of the catalogues).
ERROR_MESSAGES = {
    ErrorCode.TOKEN_INVALID: mark(
        "This activation link is not valid (it may have been replaced by a newer one)."
    ),
    ErrorCode.TOKEN_USED: mark(
        "This activation link was already used by another Telegram account."
    ),
    ErrorCode.TOKEN_EXPIRED: mark("This activation link has expired. Restore access by email."),
    ErrorCode.VALIDATION_ERROR: mark("The Telegram user id is a positive number."),
}


async def _order_locale(request: AnyRequest, token: str) -> Locale | None:
    if not token:
        return None
    return await container_of(request).describe_activation().execute(token)


@get("/activate", include_in_schema=False)
async def activate_form(request: AnyRequest) -> Response[str]:
    """A form asking for the Telegram user id to activate with the link's token."""
    token = request.query_params.get("token", "")[:MAX_TOKEN]
    locale = locale_of(request, await _order_locale(request, token))
    if not token:
        return page(
            "activate.html",
            locale,
            status_code=400,
            token="",
            error=translate(locale.value, "The link has no activation token."),
        )
    return page("activate.html", locale, request=request, token=token, error=None, user_id="")


@post("/activate", include_in_schema=False, guards=[rate_limit], status_code=200)
async def activate_submit(request: AnyRequest) -> Response[str]:
    """Activate access for the Telegram user id entered."""
    if not same_origin(request):
        return error_page(request, FORBIDDEN, 403)
    form = await request.form()
    token = str(form.get("token") or "")[:MAX_TOKEN]
    raw_user = str(form.get("telegram_user_id") or "").strip()[:32]
    locale = locale_of(request, await _order_locale(request, token))
    try:
        if not raw_user.isdigit():
            raise ValidationError("telegram_user_id must be a positive integer")
        result = (
            await container_of(request)
            .activate_access()
            .execute(ActivateAccessCommand(activation_token=token, telegram_user_id=int(raw_user)))
        )
    except DomainError as error:
        known = ERROR_MESSAGES.get(error.code)
        message = translate(locale.value, known) if known else error.message
        return page(
            "activate.html", locale, status_code=400, token=token, error=message, user_id=raw_user
        )
    return page(
        "activated.html",
        locale,
        result=result,
        plan_label=plan_title(request, result.plan, locale),
    )
