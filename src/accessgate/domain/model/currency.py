"""Currencies: the one table of their decimals, and exact amounts as text.

Every amount in accessgate is an integer of minor units; how many decimals a
currency's minor unit has is known here and nowhere else. The table holds the
active ISO 4217 currencies, ``XTR`` (Telegram Stars, whole stars) and the crypto
assets the providers sell in (``USDT`` 6, ``TON`` 9, ``BTC`` 8...). Conversions
to and from text are exact: integers and strings only, never a float.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from accessgate.domain.model.errors import ValidationError

#: The longest currency or asset code a column holds.
MAX_CURRENCY_LENGTH = 8
CURRENCY_FORMAT = re.compile(r"^[A-Z][A-Z0-9]{2,7}$")

# ISO 4217 (active codes with a minor unit); every code not named below has 2 decimals.
_ISO_TWO_DECIMALS = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD "
    "BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD "
    "EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR "
    "IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP "
    "MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN "
    "QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL "
    "THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR "
    "ZMW ZWG ZWL"
)
_ISO_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_ISO_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_ISO_FOUR_DECIMALS = "CLF UYW"
# Telegram Stars and crypto assets: the decimals of the asset's smallest unit
# as the providers (Telegram, CryptoPay, TON and the chains) count it.
_NON_ISO: dict[str, int] = {
    "XTR": 0,
    "BTC": 8,
    "LTC": 8,
    "DOGE": 8,
    "ETH": 18,
    "BNB": 18,
    "TON": 9,
    "NOT": 9,
    "SOL": 9,
    "USDT": 6,
    "USDC": 6,
    "TRX": 6,
}

#: How many decimals the minor unit of each known currency or asset has.
CURRENCY_DECIMALS: Mapping[str, int] = MappingProxyType(
    {
        **dict.fromkeys(_ISO_TWO_DECIMALS.split(), 2),
        **dict.fromkeys(_ISO_ZERO_DECIMALS.split(), 0),
        **dict.fromkeys(_ISO_THREE_DECIMALS.split(), 3),
        **dict.fromkeys(_ISO_FOUR_DECIMALS.split(), 4),
        **_NON_ISO,
    }
)
_DECIMAL_TEXT = re.compile(r"^(\d+)(?:\.(\d+))?$")


def is_known(currency: str) -> bool:
    """Whether ``currency`` (exactly as written, upper case) is in the table."""
    return currency in CURRENCY_DECIMALS


def decimals(currency: str) -> int:
    """How many decimals the minor unit of ``currency`` has (USD 2, JPY 0, XTR 0, TON 9).

    Raises:
        ValidationError: an unknown currency (field ``currency``).

    """
    try:
        return CURRENCY_DECIMALS[currency]
    except KeyError:
        raise ValidationError("Unknown currency", field="currency") from None


def decimal_string(amount: int, currency: str) -> str:
    """``amount`` minor units as the exact decimal text providers take.

    ``1900 USD`` -> ``"19.00"``, ``1500 XTR`` -> ``"1500"``,
    ``1500000 USDT`` -> ``"1.500000"``, ``-5 EUR`` -> ``"-0.05"``.
    """
    places = decimals(currency)
    sign, value = ("-", -amount) if amount < 0 else ("", amount)
    if places == 0:
        return f"{sign}{value}"
    scale: int = 10**places
    whole, fraction = divmod(value, scale)
    return f"{sign}{whole}.{fraction:0{places}d}"


def human_amount(amount: int, currency: str) -> str:
    """``amount`` as people read it: ``19.00 USD``, ``1500 XTR``, ``12.50 USDT``.

    Exact like :func:`decimal_string`; zeros after the second decimal are dropped
    (``12.500000 USDT`` reads ``12.50 USDT``, ``0.00012000 BTC`` reads ``0.00012 BTC``).
    """
    text = decimal_string(amount, currency)
    if decimals(currency) > 2:
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0").ljust(2, "0")
        text = f"{whole}.{fraction}"
    return f"{text} {currency}"


def minor_units(text: str, currency: str) -> int:
    """The exact number of minor units of a decimal text (``"19.9"`` USD -> ``1990``).

    Raises:
        ValidationError: not a plain non-negative decimal, more decimals than the
            currency has, or an unknown currency.

    """
    places = decimals(currency)
    match = _DECIMAL_TEXT.match(text.strip())
    if match is None:
        raise ValidationError("Amount must be a non-negative decimal number", field="amount")
    whole, fraction = str(match.group(1)), str(match.group(2) or "")
    if len(fraction) > places:
        raise ValidationError(f"{currency} has {places} decimals", field="amount")
    scale: int = 10**places
    return int(whole) * scale + int(fraction.ljust(places, "0") or "0")
