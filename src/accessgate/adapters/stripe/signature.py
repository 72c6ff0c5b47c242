"""Stripe's webhook signature scheme, checked without the SDK (the hot path).

The ``Stripe-Signature`` header reads ``t=<unix seconds>,v1=<hex>[,v1=<hex>...]``
(other schemes such as ``v0`` are ignored). A delivery is genuine when
HMAC-SHA256(secret, ``"<t>.<raw body>"``) equals one of the ``v1`` values for one
of the configured secrets (several during a rotation), compared in constant time,
and ``t`` is within the tolerance of now, in the past or in the future.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from accessgate.domain.model.errors import InvalidSignature
from accessgate.ports.clock import Clock

SIGNATURE_HEADER = "stripe-signature"
MAX_HEADER_LENGTH = 4096
MAX_SIGNATURES = 16
_SCHEME = "v1"


class StripeSignatureVerifier:
    """Verifies ``Stripe-Signature`` headers against one or more endpoint secrets.

    Args:
        secrets: the endpoint signing secrets (``whsec_...``); any of them verifies.
        clock: the time source of the tolerance check.
        tolerance_seconds: how far ``t`` may be from now, either way; must be > 0.

    """

    def __init__(self, secrets: Sequence[str], clock: Clock, tolerance_seconds: int = 300) -> None:
        keys = [s.strip() for s in secrets if s.strip()]
        if not keys:
            raise ValueError("at least one Stripe webhook secret is required")
        if tolerance_seconds <= 0:
            raise ValueError("the Stripe signature tolerance must be positive")
        self._macs = [hmac.new(k.encode(), digestmod=hashlib.sha256) for k in keys]
        self._clock = clock
        self._tolerance = tolerance_seconds

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Return if the delivery is genuine and fresh, else raise InvalidSignature."""
        header = signature_header(headers)
        if not header:
            raise InvalidSignature("Missing Stripe-Signature header")
        timestamp, signatures = _parse(header)
        if abs(self._clock.now().timestamp() - timestamp) > self._tolerance:
            raise InvalidSignature("Signature timestamp outside the tolerance")
        prefix = b"%d." % timestamp
        for base in self._macs:
            mac = base.copy()
            mac.update(prefix)
            mac.update(body)
            expected = mac.hexdigest().encode()
            # Every candidate is compared, so the time does not tell which one matched.
            matched = False
            for candidate in signatures:
                matched |= hmac.compare_digest(expected, candidate)
            if matched:
                return
        raise InvalidSignature()


def signature_header(headers: Mapping[str, str]) -> str | None:
    """The ``Stripe-Signature`` value of a header mapping, whatever its case."""
    value = headers.get(SIGNATURE_HEADER) or headers.get("Stripe-Signature")
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
    return value


def _parse(header: str) -> tuple[int, list[bytes]]:
    if len(header) > MAX_HEADER_LENGTH:
        raise InvalidSignature("Malformed Stripe-Signature header")
    timestamp: int | None = None
    signatures: list[bytes] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t" and timestamp is None:
            if not value.isascii() or not value.isdigit() or len(value) > 12:
                raise InvalidSignature("Malformed Stripe-Signature header")
            timestamp = int(value)
        elif key == _SCHEME and len(signatures) < MAX_SIGNATURES:
            signatures.append(value.encode())
    if timestamp is None or not signatures:
        raise InvalidSignature("Malformed Stripe-Signature header")
    return timestamp, signatures
