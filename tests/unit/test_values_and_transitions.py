from datetime import UTC, datetime

import pytest

from accessgate.catalogue_file import plan_catalog
from accessgate.config import Settings
from accessgate.domain.model.catalogue import Period
from accessgate.domain.model.errors import IllegalTransition, ValidationError
from accessgate.domain.model.status import (
    ACCESS_TRANSITIONS,
    FULFILLMENT_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    AccessStatus,
    FulfillmentStatus,
    PaymentStatus,
    check_transition,
)
from accessgate.domain.model.values import Email, Locale, Money, telegram_user_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Buyer@Example.COM ", "buyer@example.com"),
        ("a.b+c@sub.example.org", "a.b+c@sub.example.org"),
    ],
)
def test_email_is_normalised(raw: str, expected: str) -> None:
    assert Email.parse(raw).value == expected


@pytest.mark.parametrize(
    "raw", ["", "no-at-sign", "a@b", "a b@example.com", "a@-x.com", "x" * 250 + "@e.com"]
)
def test_bad_email_is_a_validation_error(raw: str) -> None:
    with pytest.raises(ValidationError):
        Email.parse(raw)


def test_money_is_integer_minor_units_with_iso_currency() -> None:
    assert Money.of(1900, "usd") == Money(amount=1900, currency="USD")
    for bad in (lambda: Money(amount=-1, currency="USD"), lambda: Money(amount=1, currency="usd")):
        with pytest.raises(ValidationError):
            bad()
    with pytest.raises(ValidationError):
        Money(amount=19.0, currency="USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["XTR", "USDT", "TON", "BTC", "DOGE", "RUB", "JPY", "KWD"])
def test_money_holds_stars_crypto_and_any_iso_currency(currency: str) -> None:
    assert Money.of(1500, currency.lower()).currency == currency


@pytest.mark.parametrize("currency", ["XXX", "DOLLARS", "US", "", "USDTETHER", "U$D"])
def test_money_refuses_a_currency_it_does_not_know(currency: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Money(amount=1, currency=currency)
    assert caught.value.details == {"field": "currency"}


def test_locale_defaults_and_rejects_unknown() -> None:
    assert Locale.parse(None, Locale.EN) is Locale.EN
    assert Locale.parse("RU", Locale.EN) is Locale.RU
    with pytest.raises(ValidationError):
        Locale.parse("de", Locale.EN)


@pytest.mark.parametrize("bad", [0, -5, 2**63, True])
def test_telegram_user_id_must_be_positive_64_bit(bad: int) -> None:
    with pytest.raises(ValidationError):
        telegram_user_id(bad)


def test_plan_and_mode_must_agree() -> None:
    catalog = plan_catalog(Settings.for_tests())
    assert catalog.for_checkout("subscription", "sub_monthly").period == Period.days(30)
    for mode, plan in [
        ("one_time", "sub_monthly"),
        ("weekly", "sub_monthly"),
        ("one_time", "gold"),
    ]:
        with pytest.raises(ValidationError):
            catalog.for_checkout(mode, plan)


ALL_TABLES = [
    (PAYMENT_TRANSITIONS, list(PaymentStatus)),
    (FULFILLMENT_TRANSITIONS, list(FulfillmentStatus)),
    (ACCESS_TRANSITIONS, list(AccessStatus)),
]


@pytest.mark.parametrize(("table", "states"), ALL_TABLES)
def test_every_pair_outside_the_table_is_illegal(table: dict, states: list) -> None:  # type: ignore[type-arg]
    for current in states:
        for target in states:
            if target in table[current]:
                assert check_transition(table, current, target) is target
            else:
                with pytest.raises(IllegalTransition):
                    check_transition(table, current, target)


def test_terminal_states() -> None:
    assert PAYMENT_TRANSITIONS[PaymentStatus.REFUNDED] == frozenset()
    assert FULFILLMENT_TRANSITIONS[FulfillmentStatus.FULFILLED] == frozenset()
    assert ACCESS_TRANSITIONS[AccessStatus.REVOKED] == frozenset()


def test_order_refuses_an_illegal_change() -> None:
    from accessgate.domain.model.order import Order
    from accessgate.domain.model.values import Mode, PlanCode

    now = datetime(2026, 1, 1, tzinfo=UTC)
    order = Order(
        id="o",
        mode=Mode.ONE_TIME,
        plan=PlanCode.ONE_TIME_BASIC,
        email="a@example.com",
        locale=Locale.EN,
        provider="p",
        provider_session_id="s",
        amount=Money.of(1, "USD"),
        created_at=now,
        updated_at=now,
        payment_status=PaymentStatus.REFUNDED,
    )
    with pytest.raises(IllegalTransition):
        order.with_payment_status(PaymentStatus.PAID, now)
