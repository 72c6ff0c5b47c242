"""The signed link back to an order's success page (``/pay/success?order=<id>&sig=<hex>``).

Stripe brings the buyer back with its session id in the URL; providers whose
return URL is fixed before their payment exists (YooKassa) cannot. For them
the checkout carries this link: the order id with an HMAC-SHA256 under the
service's SECRET_KEY over ``"return:<order id>"``. Like a session id, the link
shows the order's activation link once paid, so it is a secret of the buyer's
(the logs redact ``sig``).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

import msgspec

SUCCESS_PATH = "/pay/success"
MAX_ORDER_ID = 64


class ReturnLinks(msgspec.Struct, frozen=True, kw_only=True):
    """Builds and checks the signed return links of orders."""

    public_base_url: str
    secret: bytes

    def signature(self, order_id: str) -> str:
        """The hex HMAC-SHA256 of ``"return:<order id>"``."""
        return hmac.new(self.secret, f"return:{order_id}".encode(), hashlib.sha256).hexdigest()

    def url(self, order_id: str) -> str:
        """The success page of ``order_id``, signed."""
        query = urlencode({"order": order_id, "sig": self.signature(order_id)})
        return f"{self.public_base_url.rstrip('/')}{SUCCESS_PATH}?{query}"

    def verify(self, order_id: str, signature: str) -> bool:
        """Whether ``signature`` is the one of ``order_id`` (constant time; never raises)."""
        if not order_id or not signature or len(order_id) > MAX_ORDER_ID or len(signature) > 128:
            return False
        expected = self.signature(order_id).encode()
        return hmac.compare_digest(expected, signature.strip().lower().encode("ascii", "replace"))
