"""Standard Webhooks signatures (https://www.standardwebhooks.com), with the ``standardwebhooks`` package.

``webhook-signature`` is ``v1,`` followed by the base64 HMAC-SHA256, keyed
with the base64-decoded secret, of ``<webhook-id>.<webhook-timestamp>.<body>``.
The secret is written ``whsec_`` + base64 of 24 to 64 random bytes.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from standardwebhooks import Webhook

PREFIX = "whsec_"
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64


class WebhookSecret:
    """A parsed ``whsec_`` secret; its repr never shows the key.

    Raises:
        ValueError: the secret is not ``whsec_`` + base64 of 24 to 64 bytes.

    """

    def __init__(self, secret: str) -> None:
        if not secret.startswith(PREFIX):
            raise ValueError("the secret must start with whsec_")
        try:
            key = base64.b64decode(secret[len(PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the secret after whsec_ must be base64") from None
        if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
            raise ValueError(f"the secret must decode to {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes")
        self._signer = Webhook(key)

    def __repr__(self) -> str:
        """Never the key."""
        return "WebhookSecret('whsec_***')"

    def sign(self, message_id: str, timestamp: int, body: str) -> str:
        """The ``webhook-signature`` value (``v1,<base64>``) of one delivery."""
        moment = datetime.fromtimestamp(timestamp, tz=UTC)
        signature: str = self._signer.sign(msg_id=message_id, timestamp=moment, data=body)
        return signature


def sign(secret: WebhookSecret, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` sent at ``timestamp`` (Unix seconds)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": secret.sign(message_id, timestamp, body.decode("utf-8")),
    }
