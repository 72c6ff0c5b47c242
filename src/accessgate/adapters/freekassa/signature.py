"""FreeKassa's two MD5 signatures (SCI), as FreeKassa really computes them.

* The payment form: ``s = md5("m:oa:secret_word_1:currency:o")``, lowercase hex,
  over the exact strings that go into the URL.
* The notification: ``SIGN = md5("MERCHANT_ID:AMOUNT:secret_word_2:MERCHANT_ORDER_ID")``
  over the raw strings as they arrived (``AMOUNT`` is never re-formatted),
  compared case-insensitively and in constant time.

Seed 000 calls the notification signature HMAC-SHA256; that is the scheme of
FreeKassa's API v1 requests (keyed with the API key), not of the notification.
"""

from __future__ import annotations

import hashlib
import hmac

MD5_HEX_LENGTH = 32


def _md5(*parts: str) -> str:
    text = ":".join(parts)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def form_signature(
    *, merchant_id: str, amount: str, secret_1: str, currency: str, order_id: str
) -> str:
    """The form's ``s``: MD5 of ``merchant_id:amount:secret_1:currency:order_id``."""
    return _md5(merchant_id, amount, secret_1, currency, order_id)


def notification_signature(*, merchant_id: str, amount: str, secret_2: str, order_id: str) -> str:
    """The notification's ``SIGN``: MD5 of ``MERCHANT_ID:AMOUNT:secret_2:MERCHANT_ORDER_ID``."""
    return _md5(merchant_id, amount, secret_2, order_id)


def signature_matches(expected: str, given: str) -> bool:
    """Whether ``given`` is ``expected`` (hex, any case), compared in constant time."""
    if len(given) != MD5_HEX_LENGTH or not given.isascii():
        return False
    return hmac.compare_digest(expected.lower().encode(), given.lower().encode())
