"""FreeKassa's notification as it arrives: an ``application/x-www-form-urlencoded`` body.

Fields: ``MERCHANT_ID``, ``AMOUNT``, ``intid`` (FreeKassa's transaction id),
``MERCHANT_ORDER_ID`` (the form's ``o``), ``SIGN``, ``CUR_ID`` (the payment
method's id, not a currency), ``P_EMAIL``, ``P_PHONE`` and the form's own
``us_*`` fields echoed back. Every value is kept exactly as it arrived (the
signature is over the raw strings). A body that cannot be read as a form, or
that names a field twice, cannot be verified and is refused.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import msgspec

from accessgate.domain.model.errors import InvalidSignature

MAX_FIELDS = 64
MAX_VALUE_LENGTH = 255
#: The ``us_`` field the checkout adds so that the notification names its currency.
CURRENCY_FIELD = "us_currency"
SIGNED_FIELDS = ("MERCHANT_ID", "AMOUNT", "MERCHANT_ORDER_ID", "SIGN")


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of a notification that accessgate reads (raw strings)."""

    merchant_id: str
    amount: str
    order_id: str
    sign: str
    intid: str | None = None
    currency: str | None = None


def parse_notification(body: bytes) -> Notification:
    """The notification of a form body, before its signature is checked.

    Raises:
        InvalidSignature: not a form, a field named twice, an overlong value,
            or a signed field (``MERCHANT_ID``, ``AMOUNT``,
            ``MERCHANT_ORDER_ID``, ``SIGN``) missing: nothing to verify.

    """
    try:
        pairs = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:  # not ASCII, bad UTF-8 after decoding, too many fields
        raise InvalidSignature("Not a FreeKassa notification") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields or len(value) > MAX_VALUE_LENGTH:
            raise InvalidSignature("Not a FreeKassa notification")
        fields[key] = value
    if any(not fields.get(name) for name in SIGNED_FIELDS):
        raise InvalidSignature("Unsigned or incomplete FreeKassa notification")
    return Notification(
        merchant_id=fields["MERCHANT_ID"],
        amount=fields["AMOUNT"],
        order_id=fields["MERCHANT_ORDER_ID"],
        sign=fields["SIGN"],
        intid=fields.get("intid") or None,
        currency=fields.get(CURRENCY_FIELD) or None,
    )
