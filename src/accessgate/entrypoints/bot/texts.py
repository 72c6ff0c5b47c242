"""The bot's sentences, built from the gettext catalogues (English text as the msgid)."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date

from accessgate.ports.access_client import AccessInfo
from accessgate.support.i18n import translate


def date_text(locale: str, moment: datetime) -> str:
    """A date as the locale writes it (``1 марта 2026 г.`` / ``March 1, 2026``)."""
    return format_date(moment.date(), format="long", locale=locale)


def plan_name(locale: str, info: AccessInfo) -> str:
    """The plan's title (in the order's language), else its code."""
    return info.plan_title or info.plan or translate(locale, "your plan")


def active_text(locale: str, info: AccessInfo) -> str:
    """Where an active user stands: the plan and, for a subscription, until when."""
    if info.valid_until is not None:
        return translate(
            locale,
            "Your access to {plan} is active until {date}.",
            plan=plan_name(locale, info),
            date=date_text(locale, info.valid_until),
        )
    return translate(locale, "Your access to {plan} is active.", plan=plan_name(locale, info))


def activated_text(locale: str, info: AccessInfo) -> str:
    """The answer to a deep link that activated access just now."""
    if info.valid_until is not None:
        return translate(
            locale,
            "Access activated: {plan}, until {date}. Welcome!",
            plan=plan_name(locale, info),
            date=date_text(locale, info.valid_until),
        )
    return translate(locale, "Access activated: {plan}. Welcome!", plan=plan_name(locale, info))


def already_active_text(locale: str, info: AccessInfo) -> str:
    """The answer to a deep link this account has used already."""
    return (
        translate(locale, "This link is already activated on this account.")
        + " "
        + active_text(locale, info)
    )


def used_by_another_text(locale: str) -> str:
    """The answer to a deep link another account used."""
    return translate(
        locale,
        "This link has already been used by another Telegram account. "
        "If it was you, send /restore to move the access to this account.",
    )


def expired_text(locale: str) -> str:
    """The answer to an expired or unknown deep link."""
    return translate(
        locale,
        "This link has expired or is not valid. "
        "Send /restore to get access again with the email you paid with.",
    )


def not_active_text(locale: str) -> str:
    """The answer to a deep link whose access has ended or was revoked."""
    return translate(locale, "The access of this link has ended or was revoked.")


def pay_wall_text(locale: str) -> str:
    """The pay wall's message to a user without active access."""
    return translate(
        locale,
        "You have no active access yet. Pay for access with the button below; "
        "if you have already paid, open the link from your email or send /restore.",
    )


def help_text(locale: str) -> str:
    """The list of commands."""
    return "\n".join(
        [
            translate(locale, "Commands:"),
            "/start — " + translate(locale, "activate access or show your status"),
            "/restore — " + translate(locale, "restore access with your email"),
            "/help — " + translate(locale, "this help"),
            "/cancel — " + translate(locale, "cancel the current step"),
        ]
    )
