"""The plan catalogue: what can be bought, for how long, at which prices, under which titles.

A plan is data (usually read from the ``PLANS_FILE`` TOML file, see
``docs/catalogue.md``); without a file, :func:`default_catalog` builds seed
002's two plans. Every value is checked on construction, so a catalogue that
exists is a valid one.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Self

import msgspec

from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.values import Locale, Mode, Money, PlanCode

MAX_PERIOD_DAYS = 36_600
MAX_PERIOD_MONTHS = 1_200
MAX_TITLE = 200

#: The titles of seed 002's plans (what the pages, the emails and the bot show).
DEFAULT_TITLES: Mapping[str, Mapping[Locale, str]] = {
    PlanCode.ONE_TIME_BASIC: {Locale.EN: "Lifetime access", Locale.RU: "Бессрочный доступ"},
    PlanCode.SUB_MONTHLY: {
        Locale.EN: "Monthly subscription",
        Locale.RU: "Ежемесячная подписка",
    },
}


class PeriodUnit(StrEnum):
    """The unit a plan's period is counted in."""

    DAYS = "days"
    MONTHS = "months"


class Period(msgspec.Struct, frozen=True):
    """A paid period: a number of days, or of calendar months."""

    count: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        longest = MAX_PERIOD_DAYS if self.unit is PeriodUnit.DAYS else MAX_PERIOD_MONTHS
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise ValidationError("A period is a whole number", field="period")
        if not 0 < self.count <= longest:
            raise ValidationError(f"A period is 1..{longest} {self.unit}", field="period")

    @classmethod
    def days(cls, count: int) -> Self:
        """A period of ``count`` days."""
        return cls(count, PeriodUnit.DAYS)

    @classmethod
    def months(cls, count: int) -> Self:
        """A period of ``count`` calendar months."""
        return cls(count, PeriodUnit.MONTHS)

    def after(self, start: datetime) -> datetime:
        """The end of the period that starts at ``start`` (an aware time), in UTC.

        Months are calendar months on the UTC date: the day of the month is kept,
        or becomes the last day of a shorter month (Jan 31 + 1 month = Feb 28 or 29);
        the time of day is kept.
        """
        start = start.astimezone(UTC)
        if self.unit is PeriodUnit.DAYS:
            return start + timedelta(days=self.count)
        months = start.year * 12 + start.month - 1 + self.count
        year, month = divmod(months, 12)
        day = min(start.day, calendar.monthrange(year, month + 1)[1])
        return start.replace(year=year, month=month + 1, day=day)


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """A plan that can be bought.

    ``prices`` holds one price per currency, the first being the default one;
    ``period`` is ``None`` for access without end (a one-time plan may have a
    period: a pass for some days); ``trial_days`` run before the first charge
    of a subscription; ``provider_refs`` names the plan at a provider (the
    Stripe Price id under ``"stripe"``); ``titles`` are shown to people.
    """

    code: str
    mode: Mode
    prices: tuple[Money, ...]
    period: Period | None = None
    trial_days: int = 0
    provider_refs: Mapping[str, str] = msgspec.field(default_factory=dict)
    titles: Mapping[Locale, str] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        PlanCode.parse(self.code)
        if not self.prices:
            raise ValidationError("A plan needs at least one price", field="prices")
        currencies = [price.currency for price in self.prices]
        if len(set(currencies)) != len(currencies):
            raise ValidationError("One price per currency", field="prices")
        if any(price.amount <= 0 for price in self.prices):
            raise ValidationError("A price is a positive amount", field="prices")
        if self.mode is Mode.SUBSCRIPTION and self.period is None:
            raise ValidationError("A subscription needs a period", field="period")
        if isinstance(self.trial_days, bool) or not 0 <= self.trial_days <= MAX_PERIOD_DAYS:
            raise ValidationError("trial_days is a whole number of days", field="trial_days")
        if self.trial_days and self.mode is not Mode.SUBSCRIPTION:
            raise ValidationError("Only a subscription has a trial", field="trial_days")

    @property
    def price(self) -> Money:
        """The default price (the first one)."""
        return self.prices[0]

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies the plan is sold in, the default one first."""
        return tuple(price.currency for price in self.prices)

    def price_in(self, currency: str | None) -> Money:
        """The price in ``currency`` (any case); ``None`` gives the default price.

        Raises:
            ValidationError: the plan has no price in that currency (field ``currency``).

        """
        if currency is None or currency == "":
            return self.price
        wanted = currency.strip().upper()
        for price in self.prices:
            if price.currency == wanted:
                return price
        raise ValidationError(
            f"Plan {self.code} is sold in {', '.join(self.currencies)}", field="currency"
        )

    def title(self, locale: Locale) -> str:
        """The title in ``locale``, else in English, else any, else the code."""
        return (
            self.titles.get(locale)
            or self.titles.get(Locale.EN)
            or next(iter(self.titles.values()), self.code)
        )

    def access_until(self, start: datetime) -> datetime | None:
        """When access bought at ``start`` ends: the trial and one period (``None``: never)."""
        if self.period is None:
            return None
        return self.period.after(start + timedelta(days=self.trial_days))


class PlanCatalog(msgspec.Struct, frozen=True):
    """The plans on sale, looked up by code (codes are unique, the order is kept)."""

    plans: tuple[Plan, ...]

    def __post_init__(self) -> None:
        if not self.plans:
            raise ValidationError("The catalogue has no plan", field="plans")
        codes = [plan.code for plan in self.plans]
        if len(set(codes)) != len(codes):
            raise ValidationError("Plan codes must be unique", field="code")

    def find(self, code: str) -> Plan | None:
        """The plan named ``code``, or ``None``."""
        for plan in self.plans:
            if plan.code == code:
                return plan
        return None

    def get(self, code: str) -> Plan:
        """Return the plan named ``code`` or raise ValidationError (field ``plan``)."""
        plan = self.find(code)
        if plan is None:
            raise ValidationError("Unknown plan", field="plan")
        return plan

    def for_checkout(self, mode: str, code: str) -> Plan:
        """Return the plan for a checkout request, checking that mode and plan agree."""
        try:
            wanted = Mode(mode)
        except ValueError:
            raise ValidationError("Unknown mode", field="mode") from None
        plan = self.get(code)
        if plan.mode is not wanted:
            raise ValidationError(f"Plan {plan.code} is sold in mode {plan.mode}", field="mode")
        return plan

    def title(self, code: str, locale: Locale) -> str:
        """The title of plan ``code`` in ``locale``; the code itself for a plan no longer sold."""
        plan = self.find(code)
        return code if plan is None else plan.title(locale)

    def titles(self) -> dict[str, dict[str, str]]:
        """Every title as ``{locale: {plan code: title}}`` (for templates)."""
        return {
            locale.value: {plan.code: plan.title(locale) for plan in self.plans}
            for locale in Locale
        }


def default_catalog(
    *,
    currency: str,
    one_time_amount: int,
    monthly_amount: int,
    monthly_days: int,
    stripe_one_time: str | None = None,
    stripe_monthly: str | None = None,
) -> PlanCatalog:
    """Seed 002's two plans: ``one_time_basic`` (no end) and ``sub_monthly`` (``monthly_days``)."""

    def refs(stripe: str | None) -> dict[str, str]:
        return {"stripe": stripe} if stripe else {}

    return PlanCatalog(
        (
            Plan(
                code=PlanCode.ONE_TIME_BASIC,
                mode=Mode.ONE_TIME,
                prices=(Money.of(one_time_amount, currency),),
                provider_refs=refs(stripe_one_time),
                titles=dict(DEFAULT_TITLES[PlanCode.ONE_TIME_BASIC]),
            ),
            Plan(
                code=PlanCode.SUB_MONTHLY,
                mode=Mode.SUBSCRIPTION,
                prices=(Money.of(monthly_amount, currency),),
                period=Period.days(monthly_days),
                provider_refs=refs(stripe_monthly),
                titles=dict(DEFAULT_TITLES[PlanCode.SUB_MONTHLY]),
            ),
        )
    )
