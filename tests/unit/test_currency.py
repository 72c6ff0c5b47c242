"""One table of currency decimals; exact amounts as text, for people and for providers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accessgate.adapters.meta.events import major_units
from accessgate.domain.model.currency import (
    CURRENCY_DECIMALS,
    MAX_CURRENCY_LENGTH,
    decimal_string,
    decimals,
    human_amount,
    minor_units,
)
from accessgate.domain.model.errors import ValidationError
from accessgate.entrypoints.http.pages.render import money

SRC = Path(__file__).resolve().parents[2] / "src" / "accessgate"


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        ("USD", 2),
        ("RUB", 2),
        ("JPY", 0),
        ("ISK", 0),
        ("KWD", 3),
        ("CLF", 4),
        ("XTR", 0),
        ("USDT", 6),
        ("TON", 9),
        ("BTC", 8),
        ("ETH", 18),
    ],
)
def test_decimals_of_iso_stars_and_crypto(currency: str, places: int) -> None:
    assert decimals(currency) == places


def test_every_code_fits_the_columns() -> None:
    assert all(len(code) <= MAX_CURRENCY_LENGTH for code in CURRENCY_DECIMALS)
    assert all(code == code.upper() for code in CURRENCY_DECIMALS)


@pytest.mark.parametrize(
    ("amount", "currency", "text", "shown"),
    [
        (1900, "USD", "19.00", "19.00 USD"),
        (5, "EUR", "0.05", "0.05 EUR"),
        (149000, "RUB", "1490.00", "1490.00 RUB"),
        (1500, "XTR", "1500", "1500 XTR"),
        (1900, "JPY", "1900", "1900 JPY"),
        (12345, "KWD", "12.345", "12.345 KWD"),
        (12_500_000, "USDT", "12.500000", "12.50 USDT"),
        (1, "USDT", "0.000001", "0.000001 USDT"),
        (12_000, "BTC", "0.00012000", "0.00012 BTC"),
        (1_500_000_000, "TON", "1.500000000", "1.50 TON"),
        (10**18 + 1, "ETH", "1.000000000000000001", "1.000000000000000001 ETH"),
        (2**63 - 1, "USD", "92233720368547758.07", "92233720368547758.07 USD"),
        (-5, "EUR", "-0.05", "-0.05 EUR"),
    ],
)
def test_amounts_as_text_are_exact(amount: int, currency: str, text: str, shown: str) -> None:
    assert decimal_string(amount, currency) == text
    assert human_amount(amount, currency) == shown
    if amount >= 0:
        assert minor_units(text, currency) == amount


def test_pages_format_money_from_the_domain_table() -> None:
    # The pages' own table said ISK and UGX had no decimals but knew nothing of
    # KWD (3), XTR or crypto assets; the Meta relay's table disagreed with it.
    assert money(12345, "kwd") == "12.345 KWD"
    assert money(1500, "XTR") == "1500 XTR"
    assert money(12_500_000, "USDT") == "12.50 USDT"
    assert money(1900, "USD") == "19.00 USD"


def test_the_meta_relay_uses_the_same_table() -> None:
    assert major_units(12345, "KWD") == 12.345
    assert major_units(1500, "XTR") == 1500
    assert major_units(1999, "USD") == 19.99


@pytest.mark.parametrize(
    ("text", "currency"),
    [("19.999", "USD"), ("1.5", "XTR"), ("-1", "USD"), ("1e3", "USD"), ("", "USD"), ("1", "XXX")],
)
def test_minor_units_refuse_what_is_not_exact(text: str, currency: str) -> None:
    with pytest.raises(ValidationError):
        minor_units(text, currency)


def test_decimals_are_known_in_one_place() -> None:
    # No module but the domain's currency table lists currencies by their decimals.
    table = SRC / "domain" / "model" / "currency.py"
    pattern = re.compile(r"\b(JPY|KWD|BHD|CLF|ZERO_DECIMAL)\b")
    others = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path != table and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert others == []
