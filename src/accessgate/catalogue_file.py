"""The plan catalogue of the settings: the ``PLANS_FILE`` TOML file, or seed 002's two plans.

The file format is described in ``docs/catalogue.md``. Every mistake stops the
start with one :class:`~accessgate.config.ConfigError` line naming the plan and
the field, for example
``PLANS_FILE: plan "sub_quarterly": price "RUB": must be a positive integer of minor units``.
The domain checks what a plan is (:mod:`accessgate.domain.model.catalogue`);
this module reads the file and says where it is wrong.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from accessgate.config import ConfigError, Settings
from accessgate.domain.model.catalogue import (
    MAX_PERIOD_DAYS,
    MAX_PERIOD_MONTHS,
    MAX_TITLE,
    Period,
    Plan,
    PlanCatalog,
    default_catalog,
)
from accessgate.domain.model.currency import is_known
from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.values import CONTROL_CHARACTERS, Locale, Mode, Money, PlanCode

VARIABLE = "PLANS_FILE"
PLAN_FIELDS = frozenset(
    {"code", "mode", "period_days", "period_months", "trial_days", "prices", "titles"}
    | {"provider_refs"}
)
MAX_REF = 255


class _Broken(Exception):
    """One mistake in the file: ``where: what``."""


def plan_catalog(settings: Settings) -> PlanCatalog:
    """The catalogue of ``PLANS_FILE``, else seed 002's plans from the ``PLAN_*`` settings.

    Raises:
        ConfigError: one line naming the variable (and the plan and field).

    """
    catalogue = settings.catalogue
    if catalogue.plans_file:
        return load_catalogue_file(catalogue.plans_file)
    try:
        return default_catalog(
            currency=catalogue.plan_currency.upper(),
            one_time_amount=catalogue.plan_one_time_basic_amount,
            monthly_amount=catalogue.plan_sub_monthly_amount,
            monthly_days=catalogue.plan_sub_monthly_days,
            stripe_one_time=catalogue.stripe_price_one_time_basic,
            stripe_monthly=catalogue.stripe_price_sub_monthly,
        )
    except ValidationError as error:
        variable = {
            "currency": "PLAN_CURRENCY",
            "prices": "PLAN_ONE_TIME_BASIC_AMOUNT / PLAN_SUB_MONTHLY_AMOUNT",
            "period": "PLAN_SUB_MONTHLY_DAYS",
        }.get(str(error.details.get("field")), "PLAN_*")
        raise ConfigError(f"{variable}: {error.message}") from None


def load_catalogue_file(path: str) -> PlanCatalog:
    """Read and check the TOML catalogue at ``path``; raises ConfigError naming plan and field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError(f"{VARIABLE}: cannot read {path}: {reason}") from None
    return parse_catalogue(text)


def parse_catalogue(text: str) -> PlanCatalog:
    """The catalogue of a TOML document; raises ConfigError naming plan and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{VARIABLE}: not valid TOML: {error}") from None
    try:
        return _catalogue(data)
    except _Broken as error:
        raise ConfigError(f"{VARIABLE}: {error}") from None


def _catalogue(data: Mapping[str, Any]) -> PlanCatalog:
    unknown = sorted(set(data) - {"plans"})
    if unknown:
        raise _Broken(f"{unknown[0]}: unknown key (the file holds [[plans]] tables)")
    entries = data.get("plans")
    if not isinstance(entries, list) or not entries:
        raise _Broken("plans: the file must define at least one [[plans]] table")
    plans: list[Plan] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise _Broken(f"plan #{number}: must be a table")
        code = _code(entry, number)
        if code in seen:
            raise _Broken(f'plan "{code}": code: duplicate (also plan #{seen[code]})')
        seen[code] = number
        plans.append(_plan(code, entry))
    return PlanCatalog(tuple(plans))


def _code(entry: Mapping[str, Any], number: int) -> str:
    code = entry.get("code")
    if code is None:
        raise _Broken(f"plan #{number}: code: missing")
    try:
        return PlanCode.parse(code)
    except ValidationError:
        raise _Broken(
            f"plan #{number}: code: must be 1-64 lower-case letters, digits or underscores"
        ) from None


def _plan(code: str, entry: Mapping[str, Any]) -> Plan:
    where = f'plan "{code}"'
    unknown = sorted(set(entry) - PLAN_FIELDS)
    if unknown:
        raise _Broken(f"{where}: {unknown[0]}: unknown field")
    raw_mode = entry.get("mode")
    if raw_mode not in {m.value for m in Mode}:
        raise _Broken(f"{where}: mode: must be one_time or subscription")
    mode = Mode(raw_mode)
    trial = _whole(entry, "trial_days", where, 0, MAX_PERIOD_DAYS, default=0) or 0
    if trial and mode is not Mode.SUBSCRIPTION:
        raise _Broken(f"{where}: trial_days: only a subscription has a trial")
    prices = _prices(entry.get("prices"), where)
    period = _period(entry, mode, where)
    refs = _refs(entry.get("provider_refs", {}), where)
    titles = _titles(entry.get("titles"), where)
    try:
        return Plan(
            code=code,
            mode=mode,
            prices=prices,
            period=period,
            trial_days=trial,
            provider_refs=refs,
            titles=titles,
        )
    except ValidationError as error:  # an invariant the checks above do not cover
        raise _Broken(f"{where}: {error.details.get('field', 'plan')}: {error.message}") from None


def _whole(
    entry: Mapping[str, Any], field: str, where: str, low: int, high: int, default: int | None
) -> int | None:
    value = entry.get(field, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Broken(f"{where}: {field}: must be a whole number {low}..{high}")
    return value


def _period(entry: Mapping[str, Any], mode: Mode, where: str) -> Period | None:
    days = _whole(entry, "period_days", where, 1, MAX_PERIOD_DAYS, default=None)
    months = _whole(entry, "period_months", where, 1, MAX_PERIOD_MONTHS, default=None)
    if days is not None and months is not None:
        raise _Broken(f"{where}: period_days: give period_days or period_months, not both")
    if days is None and months is None:
        if mode is Mode.SUBSCRIPTION:
            raise _Broken(
                f"{where}: period_days: a subscription needs period_days or period_months"
            )
        return None
    return Period.days(days) if days is not None else Period.months(months or 0)


def _prices(raw: object, where: str) -> tuple[Money, ...]:
    if not isinstance(raw, dict) or not raw:
        raise _Broken(f"{where}: prices: at least one price is required, e.g. {{ USD = 1900 }}")
    prices: dict[str, Money] = {}
    for key, amount in raw.items():
        currency = str(key).strip().upper()
        field = f'price "{key}"'
        if not is_known(currency):
            raise _Broken(f"{where}: {field}: unknown currency (see docs/catalogue.md)")
        if currency in prices:
            raise _Broken(f"{where}: {field}: duplicate currency")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise _Broken(f"{where}: {field}: must be a positive integer of minor units")
        if amount >= 2**63:
            raise _Broken(f"{where}: {field}: too large")
        prices[currency] = Money(amount=amount, currency=currency)
    return tuple(prices.values())


def _refs(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise _Broken(f'{where}: provider_refs: must be a table, e.g. {{ stripe = "price_..." }}')
    refs: dict[str, str] = {}
    for provider, ref in raw.items():
        if not isinstance(ref, str) or not ref.strip() or len(ref) > MAX_REF:
            raise _Broken(f'{where}: provider_refs "{provider}": must be a non-empty string')
        if CONTROL_CHARACTERS.search(ref):
            raise _Broken(f'{where}: provider_refs "{provider}": must be one line')
        refs[str(provider)] = ref.strip()
    return refs


def _titles(raw: object, where: str) -> dict[Locale, str]:
    if not isinstance(raw, dict):
        raise _Broken(f'{where}: titles: required, e.g. {{ en = "...", ru = "..." }}')
    titles: dict[Locale, str] = {}
    for key, title in raw.items():
        try:
            locale = Locale(str(key))
        except ValueError:
            raise _Broken(f'{where}: title "{key}": unknown language (use ru and en)') from None
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
            raise _Broken(f'{where}: title "{key}": must be text of 1..{MAX_TITLE} characters')
        if CONTROL_CHARACTERS.search(title):
            raise _Broken(f'{where}: title "{key}": must be one line')
        titles[locale] = title.strip()
    for locale in Locale:
        if locale not in titles:
            raise _Broken(f'{where}: title "{locale.value}": missing')
    return titles
