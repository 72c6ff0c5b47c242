"""The parts of YooKassa's objects that the adapter reads, as msgspec Structs.

Only the fields used are declared; every other field is skipped. Amounts are
decimal strings (``"199.00"``) and are converted to minor units exactly
(:func:`accessgate.domain.model.currency.minor_units`), never through a float.
"""

from __future__ import annotations

import msgspec


class Amount(msgspec.Struct, frozen=True):
    """``{"value": "199.00", "currency": "RUB"}``."""

    value: str
    currency: str


class Confirmation(msgspec.Struct, frozen=True):
    """The confirmation of a created payment; ``redirect`` carries the buyer's URL."""

    type: str
    confirmation_url: str | None = None


class Payment(msgspec.Struct, frozen=True):
    """A payment object (``POST /payments``, ``GET /payments/{id}``)."""

    id: str
    status: str
    amount: Amount
    paid: bool = False
    created_at: str | None = None
    captured_at: str | None = None
    metadata: dict[str, str] | None = None
    confirmation: Confirmation | None = None
    refunded_amount: Amount | None = None
    test: bool = False


class Refund(msgspec.Struct, frozen=True):
    """A refund object (``GET /refunds/{id}``)."""

    id: str
    payment_id: str
    status: str
    amount: Amount
    created_at: str | None = None


class NotificationObject(msgspec.Struct, frozen=True):
    """What a notification's ``object`` is read for: which object to re-fetch."""

    id: str
    payment_id: str | None = None


class Notification(msgspec.Struct, frozen=True):
    """``{"type": "notification", "event": ..., "object": {...}}``; only the ids are used."""

    type: str
    event: str
    object: NotificationObject


class ApiError(msgspec.Struct, frozen=True):
    """YooKassa's error body (``type: error``); its ``description`` is never copied."""

    code: str | None = None
    parameter: str | None = None


PAYMENT = msgspec.json.Decoder(Payment)
REFUND = msgspec.json.Decoder(Refund)
NOTIFICATION = msgspec.json.Decoder(Notification)
API_ERROR = msgspec.json.Decoder(ApiError)
ENCODER = msgspec.json.Encoder()
