"""The signed Telegram id a pay URL carries (``?tg=<id>&tg_sig=<hex>``).

The bot builds the pay URL for a user; the pay page verifies it, so the order can
record the Telegram account as verified and fulfilment can bind the access to it
without a deep link. The signature is HMAC-SHA256 under the service's SECRET_KEY
over ``"tg:<id>"``; it is not a secret in itself (it only proves who made the link).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TG_PARAM = "tg"
SIG_PARAM = "tg_sig"
MAX_TELEGRAM_ID = 2**63 - 1


def telegram_id_signature(secret: bytes, telegram_user_id: int) -> str:
    """The hex HMAC-SHA256 of ``"tg:<id>"`` under ``secret``."""
    return hmac.new(secret, f"tg:{telegram_user_id}".encode(), hashlib.sha256).hexdigest()


def verify_telegram_id(secret: bytes, raw_id: str | None, raw_sig: str | None) -> int | None:
    """The Telegram id of a genuine ``tg``/``tg_sig`` pair, else None (never raises)."""
    if not secret or not raw_id or not raw_sig or len(raw_id) > 20 or len(raw_sig) > 128:
        return None
    if not raw_id.isascii() or not raw_id.isdigit():
        return None
    user_id = int(raw_id)
    if not 0 < user_id <= MAX_TELEGRAM_ID:
        return None
    expected = telegram_id_signature(secret, user_id)
    if not hmac.compare_digest(
        expected.encode(), raw_sig.strip().lower().encode("ascii", "replace")
    ):
        return None
    return user_id


def signed_pay_url(base_url: str, secret: bytes, telegram_user_id: int) -> str:
    """``base_url`` with ``tg`` and ``tg_sig`` added (its other parameters kept)."""
    parts = urlsplit(base_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in (TG_PARAM, SIG_PARAM)]
    query += [
        (TG_PARAM, str(telegram_user_id)),
        (SIG_PARAM, telegram_id_signature(secret, telegram_user_id)),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


class PayUrlSigner:
    """Builds the signed pay URL of a Telegram user (a callable: ``signer(user_id)``)."""

    def __init__(self, base_url: str, secret: bytes) -> None:
        self._base = base_url
        self._secret = secret

    def __call__(self, telegram_user_id: int) -> str:
        """The pay URL carrying ``telegram_user_id`` signed."""
        return signed_pay_url(self._base, self._secret, telegram_user_id)
