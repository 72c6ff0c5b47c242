"""The plan catalogue: periods, prices per currency, titles, the TOML file and its errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.adapters.smtp.renderer import TemplateRenderer
from accessgate.catalogue_file import load_catalogue_file, parse_catalogue, plan_catalog
from accessgate.config import ConfigError, Settings
from accessgate.container import create_memory_container
from accessgate.domain.model.catalogue import Period, Plan, PlanCatalog
from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.payment_event import EventOutcome, PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Locale, Mode, Money
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from accessgate.entrypoints.http.pages.i18n import period_text

ROOT = Path(__file__).resolve().parents[2]
QUARTERLY = """
[[plans]]
code = "sub_quarterly"
mode = "subscription"
period_days = 90
prices = { RUB = 149000, XTR = 1500 }
titles = { en = "Quarterly subscription", ru = "Подписка на квартал" }
"""


def _docs_example() -> str:
    text = (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8")
    match = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
    assert match is not None
    return match.group(1)


# -- periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (datetime(2027, 1, 31, 10, 30, tzinfo=UTC), 1, datetime(2027, 2, 28, 10, 30, tzinfo=UTC)),
        (datetime(2028, 1, 31, 10, 30, tzinfo=UTC), 1, datetime(2028, 2, 29, 10, 30, tzinfo=UTC)),
        (datetime(2027, 3, 31, tzinfo=UTC), 1, datetime(2027, 4, 30, tzinfo=UTC)),
        (datetime(2027, 11, 30, tzinfo=UTC), 3, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2027, 12, 15, tzinfo=UTC), 1, datetime(2028, 1, 15, tzinfo=UTC)),
        (datetime(2027, 5, 15, tzinfo=UTC), 24, datetime(2029, 5, 15, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months(start: datetime, months: int, end: datetime) -> None:
    assert Period.months(months).after(start) == end


def test_months_count_on_the_utc_date() -> None:
    # 00:30 on Feb 1 in UTC+3 is Jan 31 21:30 UTC: one month later is Feb 28 21:30 UTC.
    start = datetime(2027, 2, 1, 0, 30, tzinfo=timezone(timedelta(hours=3)))
    assert Period.months(1).after(start) == datetime(2027, 2, 28, 21, 30, tzinfo=UTC)


def test_days_are_days() -> None:
    start = datetime(2027, 1, 31, 10, tzinfo=UTC)
    assert Period.days(90).after(start) == start + timedelta(days=90)


@pytest.mark.parametrize("count", [0, -1, 36_601])
def test_a_period_is_positive_and_bounded(count: int) -> None:
    with pytest.raises(ValidationError):
        Period.days(count)


# -- plans ---------------------------------------------------------------------------------


def quarterly() -> Plan:
    return parse_catalogue(QUARTERLY).get("sub_quarterly")


def test_a_plan_has_a_price_per_currency_the_first_by_default() -> None:
    plan = quarterly()
    assert plan.price == Money.of(149000, "RUB")
    assert plan.price_in(None) == Money.of(149000, "RUB")
    assert plan.price_in("xtr") == Money.of(1500, "XTR")
    with pytest.raises(ValidationError) as caught:
        plan.price_in("USD")
    assert caught.value.details == {"field": "currency"}


def test_plan_invariants() -> None:
    usd = (Money.of(100, "USD"),)
    cases = [
        {"code": "Gold", "mode": Mode.ONE_TIME, "prices": usd},
        {"code": "x" * 65, "mode": Mode.ONE_TIME, "prices": usd},
        {"code": "gold", "mode": Mode.ONE_TIME, "prices": ()},
        {"code": "gold", "mode": Mode.ONE_TIME, "prices": (Money.of(0, "USD"),)},
        {"code": "gold", "mode": Mode.ONE_TIME, "prices": usd * 2},
        {"code": "gold", "mode": Mode.SUBSCRIPTION, "prices": usd},
        {"code": "gold", "mode": Mode.ONE_TIME, "prices": usd, "trial_days": 3},
    ]
    for case in cases:
        with pytest.raises(ValidationError):
            Plan(**case)  # type: ignore[arg-type]
    plan = Plan(code="gold_2", mode=Mode.ONE_TIME, prices=usd)
    with pytest.raises(ValidationError):
        PlanCatalog((plan, plan))


def test_access_runs_the_trial_and_one_period() -> None:
    start = datetime(2027, 1, 31, tzinfo=UTC)
    plan = Plan(
        code="trial",
        mode=Mode.SUBSCRIPTION,
        prices=(Money.of(100, "USD"),),
        period=Period.months(1),
        trial_days=1,
    )
    assert plan.access_until(start) == datetime(2027, 3, 1, tzinfo=UTC)
    forever = Plan(code="forever", mode=Mode.ONE_TIME, prices=(Money.of(100, "USD"),))
    assert forever.access_until(start) is None


def test_titles_fall_back_to_english_then_the_code() -> None:
    catalog = parse_catalogue(QUARTERLY)
    assert catalog.title("sub_quarterly", Locale.RU) == "Подписка на квартал"
    assert catalog.title("sub_quarterly", Locale.EN) == "Quarterly subscription"
    assert catalog.title("retired_plan", Locale.RU) == "retired_plan"
    assert catalog.titles()["ru"] == {"sub_quarterly": "Подписка на квартал"}


# -- the default catalogue -----------------------------------------------------------------


def test_without_a_file_seed_002_plans_come_from_the_settings() -> None:
    settings = Settings.for_tests(
        plan_currency="eur",
        plan_one_time_basic_amount=2500,
        plan_sub_monthly_amount=700,
        plan_sub_monthly_days=31,
        stripe_price_one_time_basic="price_basic",
        stripe_price_sub_monthly="price_monthly",
    )
    basic, monthly = plan_catalog(settings).plans
    assert (basic.code, basic.mode, basic.prices, basic.period) == (
        "one_time_basic",
        Mode.ONE_TIME,
        (Money.of(2500, "EUR"),),
        None,
    )
    assert (monthly.code, monthly.mode, monthly.prices, monthly.period) == (
        "sub_monthly",
        Mode.SUBSCRIPTION,
        (Money.of(700, "EUR"),),
        Period.days(31),
    )
    assert basic.provider_refs == {"stripe": "price_basic"}
    assert monthly.provider_refs == {"stripe": "price_monthly"}
    # The titles the pages showed before the catalogue, now in one place for pages and emails.
    assert basic.title(Locale.EN) == "Lifetime access"
    assert basic.title(Locale.RU) == "Бессрочный доступ"
    assert monthly.title(Locale.EN) == "Monthly subscription"
    assert monthly.title(Locale.RU) == "Ежемесячная подписка"
    assert plan_catalog(Settings.for_tests()).get("one_time_basic").provider_refs == {}


@pytest.mark.parametrize(
    ("setting", "variable"),
    [
        ({"plan_currency": "dollars"}, "PLAN_CURRENCY"),
        ({"plan_one_time_basic_amount": 0}, "PLAN_ONE_TIME_BASIC_AMOUNT"),
        ({"plan_sub_monthly_days": 0}, "PLAN_SUB_MONTHLY_DAYS"),
    ],
)
def test_default_plan_settings_that_make_no_plan_stop_the_start(
    setting: dict[str, object], variable: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_catalog(Settings.for_tests(**setting))
    assert str(caught.value).startswith(variable)


def test_emails_and_pages_take_titles_from_the_catalogue(tmp_path: Path) -> None:
    catalog = parse_catalogue(QUARTERLY)
    renderer = TemplateRenderer(plan_titles=catalog.titles())
    email = renderer.render(
        "access",
        "ru",
        {"plan": "sub_quarterly", "order_id": "o", "activation_link": "https://t.me/b?start=x"},
    )
    assert email.subject == "Ваш доступ готов: Подписка на квартал"
    # Without a catalogue, the renderer names seed 002's plans with the same titles as the pages.
    default = TemplateRenderer().render(
        "access",
        "en",
        {"plan": "one_time_basic", "order_id": "o", "activation_link": "https://t.me/b?start=x"},
    )
    assert default.subject == "Your access is ready: Lifetime access"


@pytest.mark.parametrize(
    ("period", "mode", "locale", "text"),
    [
        (Period.days(30), Mode.SUBSCRIPTION, Locale.EN, "per month"),
        (Period.months(1), Mode.SUBSCRIPTION, Locale.RU, "в месяц"),
        (Period.days(90), Mode.SUBSCRIPTION, Locale.EN, "per 90 days"),
        (Period.days(90), Mode.SUBSCRIPTION, Locale.RU, "за 90 дней"),
        (Period.months(3), Mode.SUBSCRIPTION, Locale.RU, "за 3 месяца"),
        (Period.days(21), Mode.ONE_TIME, Locale.RU, "на 21 день"),
        (Period.days(7), Mode.ONE_TIME, Locale.EN, "for 7 days"),
        (None, Mode.ONE_TIME, Locale.EN, ""),
    ],
)
def test_the_pay_page_says_what_a_price_buys(
    period: Period | None, mode: Mode, locale: Locale, text: str
) -> None:
    assert period_text(period, mode, locale) == text


# -- the file ------------------------------------------------------------------------------


def test_the_documented_example_is_a_valid_catalogue() -> None:
    catalog = parse_catalogue(_docs_example())
    assert [p.code for p in catalog.plans] == ["one_time_basic", "sub_monthly", "sub_quarterly"]
    monthly, quarterly_plan = catalog.get("sub_monthly"), catalog.get("sub_quarterly")
    assert monthly.period == Period.months(1)
    assert monthly.currencies == ("USD", "EUR")
    assert quarterly_plan.period == Period.days(90)
    assert quarterly_plan.trial_days == 7
    assert quarterly_plan.prices == (Money.of(149000, "RUB"), Money.of(1500, "XTR"))
    assert catalog.get("one_time_basic").provider_refs["stripe"].startswith("price_")


def _plan(**fields: str) -> str:
    base = {
        "code": '"sub_quarterly"',
        "mode": '"subscription"',
        "period_days": "90",
        "prices": "{ RUB = 149000, XTR = 1500 }",
        "titles": '{ en = "Quarterly", ru = "Квартал" }',
    }
    base.update(fields)
    body = "\n".join(f"{key} = {value}" for key, value in base.items() if value != "")
    return f"[[plans]]\n{body}\n"


BROKEN = [
    ("bad TOML", "[[plans]\ncode = 1", "PLANS_FILE: not valid TOML: "),
    ("no plans", "", "PLANS_FILE: plans: the file must define at least one [[plans]] table"),
    (
        "unknown mode",
        _plan(mode='"weekly"'),
        'PLANS_FILE: plan "sub_quarterly": mode: must be one_time or subscription',
    ),
    (
        "negative price",
        _plan(prices="{ RUB = -5, XTR = 1500 }"),
        'PLANS_FILE: plan "sub_quarterly": price "RUB": must be a positive integer of minor units',
    ),
    (
        "a decimal price",
        _plan(prices="{ RUB = 1490.00 }"),
        'PLANS_FILE: plan "sub_quarterly": price "RUB": must be a positive integer of minor units',
    ),
    (
        "unknown currency",
        _plan(prices="{ RUR = 149000 }"),
        'PLANS_FILE: plan "sub_quarterly": price "RUR": unknown currency (see docs/catalogue.md)',
    ),
    (
        "duplicate code",
        _plan() + _plan(period_days="30"),
        'PLANS_FILE: plan "sub_quarterly": code: duplicate (also plan #1)',
    ),
    (
        "missing title",
        _plan(titles='{ en = "Quarterly" }'),
        'PLANS_FILE: plan "sub_quarterly": title "ru": missing',
    ),
    (
        "no titles",
        _plan(titles=""),
        'PLANS_FILE: plan "sub_quarterly": titles: required',
    ),
    (
        "a subscription without period",
        _plan(period_days=""),
        'PLANS_FILE: plan "sub_quarterly": period_days: a subscription needs',
    ),
    (
        "both periods",
        _plan(period_months="3"),
        'PLANS_FILE: plan "sub_quarterly": period_days: give period_days or period_months',
    ),
    ("no code", _plan(code=""), "PLANS_FILE: plan #1: code: missing"),
    ("bad code", _plan(code='"Sub-Quarterly"'), "PLANS_FILE: plan #1: code: must be"),
    (
        "unknown field",
        _plan(price_rub="149000"),
        'PLANS_FILE: plan "sub_quarterly": price_rub: unknown field',
    ),
    ("no prices", _plan(prices="{}"), 'PLANS_FILE: plan "sub_quarterly": prices: at least one'),
    (
        "trial on a one-time plan",
        _plan(mode='"one_time"', trial_days="3"),
        'PLANS_FILE: plan "sub_quarterly": trial_days: only a subscription has a trial',
    ),
    (
        "a title in another language",
        _plan(titles='{ en = "Q", ru = "К", de = "Q" }'),
        'PLANS_FILE: plan "sub_quarterly": title "de": unknown language',
    ),
    (
        "an empty stripe reference",
        _plan(provider_refs='{ stripe = "" }'),
        'PLANS_FILE: plan "sub_quarterly": provider_refs "stripe": must be a non-empty string',
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_broken_catalogue_is_one_line_naming_plan_and_field(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_catalogue(text)
    message = str(caught.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^PLANS_FILE: cannot read .*nope\.toml"):
        load_catalogue_file(str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError) as caught:
        create_memory_container(Settings.for_tests(plans_file=str(tmp_path / "nope.toml")))
    assert str(caught.value).startswith("PLANS_FILE: cannot read")


# -- sold and fulfilled with its own period ------------------------------------------------


MONTHS = """
[[plans]]
code = "club_monthly"
mode = "subscription"
period_months = 1
prices = { USD = 900, XTR = 450 }
titles = { en = "Club", ru = "Клуб" }
"""


async def test_a_plan_by_months_adds_calendar_months(tmp_path: Path) -> None:
    path = tmp_path / "plans.toml"
    path.write_text(MONTHS + QUARTERLY, encoding="utf-8")
    clock = SettableClock(datetime(2028, 1, 31, 10, 0, tzinfo=UTC))
    gateway = MemoryPaymentGateway(secret=b"webhook-secret", clock=clock)
    core = create_memory_container(
        Settings.for_tests(accessgate_env="test", plans_file=str(path)),
        clock=clock,
        gateway=gateway,
    )
    started = await core.start_checkout().execute(
        StartCheckoutCommand(
            mode="subscription", plan="club_monthly", email="a@example.com", currency="xtr"
        )
    )
    store = core.uow().store  # type: ignore[attr-defined]
    order = store.tables.orders[started.order_id]
    assert order.amount == Money.of(450, "XTR")
    paid = PaymentEvent(
        provider=gateway.name,
        event_id="evt_1",
        kind=PaymentEventKind.CHECKOUT_COMPLETED,
        occurred_at=clock.now(),
        session_id=started.session_id,
        amount=Money.of(450, "XTR"),
    )
    assert await core.handle_payment_events().execute([paid]) == [EventOutcome.FULFILLED]
    assert store.tables.accesses[started.order_id].valid_until == datetime(
        2028, 2, 29, 10, 0, tzinfo=UTC
    )
    # A renewal whose provider names no period end adds one more calendar month.
    clock.set(datetime(2028, 2, 29, 9, 0, tzinfo=UTC))
    renewed = PaymentEvent(
        provider=gateway.name,
        event_id="evt_2",
        kind=PaymentEventKind.SUBSCRIPTION_RENEWED,
        occurred_at=clock.now(),
        order_id=started.order_id,
    )
    assert await core.handle_payment_events().execute([renewed]) == [EventOutcome.APPLIED]
    assert store.tables.accesses[started.order_id].valid_until == datetime(
        2028, 3, 29, 10, 0, tzinfo=UTC
    )


async def test_a_checkout_in_a_currency_the_plan_lacks_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "plans.toml"
    path.write_text(QUARTERLY, encoding="utf-8")
    core = create_memory_container(Settings.for_tests(accessgate_env="test", plans_file=str(path)))
    with pytest.raises(ValidationError) as caught:
        await core.start_checkout().execute(
            StartCheckoutCommand(
                mode="subscription", plan="sub_quarterly", email="a@example.com", currency="USD"
            )
        )
    assert caught.value.details == {"field": "currency"}
    assert core.uow().store.tables.orders == {}  # type: ignore[attr-defined]
