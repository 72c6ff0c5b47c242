"""Stripe's webhook signature scheme, checked without the SDK (the hot path).

The ``Stripe-Signature`` header reads ``t=<unix seconds>,v1=<hex>[,v1=<hex>...]``
(other schemes such as ``v0`` are ignored): the timestamped HMAC-SHA256 scheme
of :mod:`accessgate.support.signing`, with one or more endpoint secrets (several
during a rotation) and a tolerance either side of now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from accessgate.domain.model.errors import InvalidSignature
from accessgate.ports.clock import Clock
from accessgate.support.signing import SignatureError, TimestampedSigner

SIGNATURE_HEADER = "stripe-signature"


class StripeSignatureVerifier:
    """Verifies ``Stripe-Signature`` headers against one or more endpoint secrets.

    Args:
        secrets: the endpoint signing secrets (``whsec_...``); any of them verifies.
        clock: the time source of the tolerance check.
        tolerance_seconds: how far ``t`` may be from now, either way; must be > 0.

    """

    def __init__(self, secrets: Sequence[str], clock: Clock, tolerance_seconds: int = 300) -> None:
        keys = [s.strip().encode() for s in secrets if s.strip()]
        if not keys:
            raise ValueError("at least one Stripe webhook secret is required")
        if tolerance_seconds <= 0:
            raise ValueError("the Stripe signature tolerance must be positive")
        self._signer = TimestampedSigner(keys, tolerance_seconds)
        self._clock = clock

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Return if the delivery is genuine and fresh, else raise InvalidSignature."""
        header = signature_header(headers)
        if not header:
            raise InvalidSignature("Missing Stripe-Signature header")
        try:
            self._signer.verify(header, body, self._clock.now().timestamp())
        except SignatureError as error:
            reason = error.reason
            if reason == "Malformed signature header":
                reason = "Malformed Stripe-Signature header"
            raise InvalidSignature(reason) from None


def signature_header(headers: Mapping[str, str]) -> str | None:
    """The ``Stripe-Signature`` value of a header mapping, whatever its case."""
    value = headers.get(SIGNATURE_HEADER) or headers.get("Stripe-Signature")
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
    return value
