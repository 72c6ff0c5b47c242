"""Turning outbox payloads into Conversions API events, and checking them first.

One invalid event makes Meta reject a whole batch, so every event is checked
here before it is sent; an event that fails the check is never sent.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from accessgate.domain.model.currency import decimal_string, is_known

MAX_AGE = timedelta(days=7)
MAX_AHEAD = timedelta(minutes=10)
ACTION_SOURCES = frozenset(
    {
        "email",
        "website",
        "app",
        "phone_call",
        "chat",
        "physical_store",
        "system_generated",
        "business_messaging",
        "other",
    }
)


class InvalidEvent(Exception):
    """An event Meta would refuse; ``reason`` says why (no secret in it)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def major_units(value_minor: int, currency: str) -> int | float:
    """An amount in minor units as a JSON number of major units (1999 USD -> 19.99).

    The decimals come from the domain's one currency table; the number is the
    one nearest to the exact decimal text (Meta takes ``value`` as a float).
    """
    text = decimal_string(value_minor, currency.upper())
    return float(text) if "." in text else int(text)


def hash_email(email: str) -> str:
    """SHA-256 in hex of the normalised (trimmed, lower-cased) email, as Meta wants ``em``."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def build_event(
    payload: dict[str, str], *, now: datetime, site_url: str | None = None
) -> dict[str, Any]:
    """The Conversions API event of an outbox payload, or raise InvalidEvent.

    ``client_ip_address``, ``client_user_agent`` and ``fbc`` are sent as they
    are (Meta forbids hashing them); the email is sent only as its SHA-256.
    """
    name = payload.get("event_name", "").strip()
    if not name:
        raise InvalidEvent("event_name is missing")
    event_id = payload.get("event_id", "").strip()
    if not event_id:
        raise InvalidEvent("event_id is missing (needed for deduplication)")
    try:
        event_time = int(payload.get("event_time", ""))
    except ValueError:
        raise InvalidEvent("event_time is not a Unix time in seconds") from None
    when = datetime.fromtimestamp(event_time, now.tzinfo)
    if now - when > MAX_AGE:
        raise InvalidEvent("event_time is older than 7 days; Meta refuses it")
    if when - now > MAX_AHEAD:
        raise InvalidEvent("event_time is in the future")
    action_source = payload.get("action_source", "website")
    if action_source not in ACTION_SOURCES:
        raise InvalidEvent(f"action_source {action_source!r} is not one Meta knows")
    user_data = _user_data(payload, event_time)
    if not user_data:
        raise InvalidEvent("user_data is empty: no fbclid, email, ip or user agent")
    if action_source == "website" and "client_user_agent" not in user_data:
        raise InvalidEvent("website events need client_user_agent")
    event: dict[str, Any] = {
        "event_name": name,
        "event_time": event_time,
        "event_id": event_id,
        "action_source": action_source,
        "user_data": user_data,
    }
    if site_url:
        path = payload.get("page_path", "")
        event["event_source_url"] = site_url.rstrip("/") + "/" + path.lstrip("/")
    custom_data = _custom_data(payload)
    if custom_data:
        event["custom_data"] = custom_data
    return event


def _user_data(payload: dict[str, str], event_time: int) -> dict[str, Any]:
    user_data: dict[str, Any] = {}
    fbclid = payload.get("fbclid", "").strip()
    if fbclid:
        user_data["fbc"] = f"fb.1.{event_time * 1000}.{fbclid}"
    if payload.get("client_ip"):
        user_data["client_ip_address"] = payload["client_ip"]
    if payload.get("user_agent"):
        user_data["client_user_agent"] = payload["user_agent"]
    if payload.get("email"):
        user_data["em"] = [hash_email(payload["email"])]
    return user_data


def _custom_data(payload: dict[str, str]) -> dict[str, Any]:
    if "value_minor" not in payload and "currency" not in payload:
        return {}
    currency = payload.get("currency", "").strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not is_known(currency):
        raise InvalidEvent("currency must be a three-letter ISO 4217 code")
    try:
        value_minor = int(payload.get("value_minor", ""))
    except ValueError:
        raise InvalidEvent("value_minor is not an integer") from None
    if value_minor < 0:
        raise InvalidEvent("value_minor is negative")
    return {"value": major_units(value_minor, currency), "currency": currency}
