"""Value objects: validated on construction, immutable, compared by value."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final, Self

import msgspec

from accessgate.domain.model.currency import MAX_CURRENCY_LENGTH, is_known
from accessgate.domain.model.errors import ValidationError

_EMAIL_RE = re.compile(
    r"^[^@\s\x00-\x1f\x7f-\x9f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_PLAN_CODE_RE = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_TELEGRAM_ID = 2**63 - 1
# The C0 controls (tab and line breaks included), DEL and the C1 controls: never
# part of the single-line values the service takes (ids, names, emails, paths).
# PostgreSQL refuses NUL in text; the others would reach logs, URLs and emails.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A clickid is kept on the order and sent as payment metadata (Stripe takes
# values of at most 500 characters); longer ones are refused at checkout.
MAX_CLICKID = 500
MAX_TELEGRAM_CHAT_ID = 500


def single_line(value: str | None, field: str, max_length: int | None = None) -> str | None:
    """``value`` unchanged, or ValidationError naming ``field``.

    Refused: any control character (:data:`CONTROL_CHARACTERS`) and, with
    ``max_length``, a value longer than that many characters.
    """
    if value is None:
        return None
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError(f"{field} must not contain control characters", field=field)
    if max_length is not None and len(value) > max_length:
        raise ValidationError(f"{field} is too long", field=field)
    return value


def header_text(value: str | None, max_length: int) -> str | None:
    """A value the client did not type (a header): control characters become spaces.

    The result is stripped and cut to ``max_length`` characters; empty is ``None``.
    Such values are recorded as seen, never a reason to refuse a purchase.
    """
    if value is None:
        return None
    cleaned = CONTROL_CHARACTERS.sub(" ", value).strip()[:max_length].strip()
    return cleaned or None


def normalize_email(raw: str) -> str:
    """Return the canonical form of an email address or raise ValidationError.

    Surrounding space is dropped and the whole address is lower-cased, so that
    one buyer is one address whatever they typed.
    """
    value = raw.strip().lower()
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise ValidationError("Invalid email address", field="email")
    return value


class Email(msgspec.Struct, frozen=True):
    """A validated, normalised email address."""

    value: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Validate and normalise ``raw``."""
        return cls(normalize_email(raw))

    def __str__(self) -> str:
        return self.value


class Money(msgspec.Struct, frozen=True, kw_only=True):
    """An amount in integer minor units of a known currency or asset.

    The currency is upper case and in the table of
    :mod:`accessgate.domain.model.currency` (ISO 4217, ``XTR``, crypto assets),
    which also knows how many decimals its minor unit has.
    """

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValidationError("Amount must be a non-negative integer of minor units")
        if len(self.currency) > MAX_CURRENCY_LENGTH or not is_known(self.currency):
            raise ValidationError("Unknown currency", field="currency")

    @classmethod
    def of(cls, amount: int, currency: str) -> Self:
        """Build Money, upper-casing the currency code (providers send ``usd``)."""
        return cls(amount=amount, currency=currency.upper())


class Mode(StrEnum):
    """How an order is paid: once, or as a subscription."""

    ONE_TIME = "one_time"
    SUBSCRIPTION = "subscription"


class PlanCode:
    """Plan codes are strings of the catalogue; the two plans of seed 002 are named here."""

    ONE_TIME_BASIC: Final = "one_time_basic"
    SUB_MONTHLY: Final = "sub_monthly"

    @staticmethod
    def parse(raw: str) -> str:
        """``raw`` if it is a plan code (``[a-z0-9_]``, 1-64 characters), else ValidationError."""
        if not isinstance(raw, str) or not _PLAN_CODE_RE.match(raw):
            raise ValidationError(
                "A plan code is 1-64 lower-case letters, digits or underscores", field="plan"
            )
        return raw


class Locale(StrEnum):
    """The languages of emails and pages."""

    RU = "ru"
    EN = "en"

    @classmethod
    def parse(cls, raw: str | None, default: Locale) -> Locale:
        """Return the locale named by ``raw`` (``None`` or empty gives ``default``)."""
        if raw is None or raw == "":
            return default
        try:
            return cls(raw.strip().lower())
        except ValueError:
            raise ValidationError("Unknown locale; use ru or en", field="locale") from None


def telegram_user_id(raw: int) -> int:
    """Validate a Telegram user id: a positive 64-bit integer."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= MAX_TELEGRAM_ID:
        raise ValidationError(
            "telegram_user_id must be a positive integer", field="telegram_user_id"
        )
    return raw
