"""How a page picks its language, and the plan periods in words.

The pages' texts live in the gettext catalogues (:mod:`accessgate.support.i18n`,
docs/translations.md): the templates call ``_("English text")``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from accessgate.domain.model.catalogue import Period, PeriodUnit
from accessgate.domain.model.values import Locale, Mode
from accessgate.support.i18n import plural, translate

# 30 days is what seed 002 sells as a month ("per month" on the pay page).
MONTH_OF_DAYS = 30


def period_text(period: Period | None, mode: Mode, locale: Locale) -> str:
    """How long a price buys, after the price: ``per month``, ``per 90 days``, ``for 3 months``.

    Empty for access without end. A month, or 30 days, reads as "per month" for
    a subscription. The words come from the catalogues (with their plural forms).
    """
    if period is None:
        return ""
    code = locale.value
    months = period.unit is PeriodUnit.MONTHS
    n = period.count
    if mode is Mode.SUBSCRIPTION:
        if (n == 1 and months) or period == Period.days(MONTH_OF_DAYS):
            return translate(code, "per month")
        if months:
            return plural(code, "per {n} month", "per {n} months", n)
        return plural(code, "per {n} day", "per {n} days", n)
    if n == 1 and months:
        return translate(code, "for a month")
    if months:
        return plural(code, "for {n} month", "for {n} months", n)
    return plural(code, "for {n} day", "for {n} days", n)


def _parse(raw: str | None) -> Locale | None:
    if not raw:
        return None
    try:
        return Locale(raw.strip().lower()[:2])
    except ValueError:
        return None


def from_accept_language(header: str | None) -> Locale | None:
    """The first of ru/en in an ``Accept-Language`` header, by quality then order."""
    if not header:
        return None
    ranked: list[tuple[float, int, Locale]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        locale = _parse(tag)
        if locale is not None and quality > 0:
            ranked.append((-quality, index, locale))
    return min(ranked)[2] if ranked else None


def page_locale(
    request: Request[Any, Any, Any], default: Locale, order_locale: Locale | None = None
) -> Locale:
    """``?lang=``, then the order's locale, then ``Accept-Language``, then ``default``."""
    return (
        _parse(request.query_params.get("lang"))
        or order_locale
        or from_accept_language(request.headers.get("accept-language"))
        or default
    )
