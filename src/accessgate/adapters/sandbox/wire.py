"""The sandbox's wire format: a JSON event signed with ``Accessgate-Signature``.

``Accessgate-Signature: t=<unix seconds>,v1=<hex>``, HMAC-SHA256 over
``"<t>.<body>"`` (:mod:`accessgate.support.signing`). A correctly signed body
that is not a valid event (truncated or empty JSON, wrong types, a timestamp
outside the years 1970-9999) is refused with :class:`MalformedWebhook` (400
``VALIDATION_ERROR``), never a crash.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import msgspec

from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Money

SIGNATURE_HEADER = "accessgate-signature"
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds
_FIELD = re.compile(r"at `\$\.(\w{1,64})`")


class WireEvent(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The JSON body of a signed sandbox event."""

    id: str
    type: PaymentEventKind
    created: int
    order_id: str | None = None
    session_id: str | None = None
    subscription_id: str | None = None
    payment_id: str | None = None
    customer_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    paid: bool = True
    period_end: int | None = None
    cancel_at_period_end: bool | None = None


class MalformedWebhook(ValidationError):
    """A correctly signed delivery whose body is not a valid event."""

    default_message = "Malformed webhook body"


ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(WireEvent)


def parse_event(body: bytes) -> WireEvent:
    """The event of a (verified) body, or :class:`MalformedWebhook` naming the field.

    Raises:
        MalformedWebhook: the body is not JSON, not an event, or a timestamp is
            outside 1970-9999 (the message and details never quote a value).

    """
    try:
        wire = _DECODER.decode(body)
    except msgspec.DecodeError:
        raise MalformedWebhook(reason="Malformed JSON body") from None
    except msgspec.ValidationError as error:
        match = _FIELD.search(str(error))
        details = {"field": match.group(1)} if match else {}
        raise MalformedWebhook(reason="Not a valid event", **details) from None
    for field, value in (("created", wire.created), ("period_end", wire.period_end)):
        if value is not None and not 0 <= value <= MAX_TIMESTAMP:
            raise MalformedWebhook(reason="Timestamp out of range", field=field)
    return wire


def to_domain(provider: str, wire: WireEvent) -> PaymentEvent:
    """The normalised event of a parsed wire event.

    Raises:
        MalformedWebhook: the amount or currency is not valid money.

    """
    amount = None
    if wire.amount is not None and wire.currency is not None:
        try:
            amount = Money.of(wire.amount, wire.currency)
        except ValidationError:
            raise MalformedWebhook(reason="Not a valid amount", field="amount") from None
    return PaymentEvent(
        provider=provider,
        event_id=wire.id,
        kind=wire.type,
        occurred_at=datetime.fromtimestamp(wire.created, UTC),
        order_id=wire.order_id,
        session_id=wire.session_id,
        subscription_id=wire.subscription_id,
        payment_id=wire.payment_id,
        customer_id=wire.customer_id,
        amount=amount,
        paid=wire.paid,
        period_end=None
        if wire.period_end is None
        else datetime.fromtimestamp(wire.period_end, UTC),
        cancel_at_period_end=wire.cancel_at_period_end,
    )
