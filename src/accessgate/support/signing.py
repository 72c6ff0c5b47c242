"""Timestamped HMAC-SHA256 webhook signatures (the Stripe scheme, also the sandbox's).

A signature header reads ``t=<unix seconds>,v1=<hex>[,v1=<hex>...]``; other
schemes (``v0``) are ignored. A delivery is genuine when
HMAC-SHA256(secret, ``"<t>.<raw body>"``) equals one of the ``v1`` values for
one of the secrets (several during a rotation), compared in constant time, and
``t`` is within the tolerance of now, in the past or in the future.

Pure standard library: every adapter may use it without importing another
adapter. Failures raise :class:`SignatureError` with a reason that is safe to
show (never a secret or a computed digest); adapters turn it into their own error.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

MAX_HEADER_LENGTH = 4096
MAX_SIGNATURES = 16
MAX_TIMESTAMP_DIGITS = 12
SCHEME = "v1"


class SignatureError(ValueError):
    """A signature that is missing, malformed, stale or wrong; ``reason`` says which."""

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason
        super().__init__(reason or "Invalid signature")


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    return hmac.new(secret, b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def parse_header(header: str) -> tuple[int, list[bytes]]:
    """The timestamp and the ``v1`` signatures of a header; raises SignatureError."""
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureError("Malformed signature header")
    timestamp: int | None = None
    signatures: list[bytes] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t" and timestamp is None:
            value = value.strip()
            if not value.isascii() or not value.isdigit() or len(value) > MAX_TIMESTAMP_DIGITS:
                raise SignatureError("Malformed signature header")
            timestamp = int(value)
        elif key == SCHEME and len(signatures) < MAX_SIGNATURES:
            signatures.append(value.strip().encode())
    if timestamp is None or not signatures:
        raise SignatureError("Malformed signature header")
    return timestamp, signatures


class TimestampedSigner:
    """Signs and verifies ``t=...,v1=...`` headers with one or more secrets.

    Args:
        secrets: the signing secrets; the first one signs, any of them verifies.
        tolerance_seconds: how far ``t`` may be from now, either way; must be > 0.

    Raises:
        ValueError: no non-empty secret, or a tolerance that is not positive.

    """

    def __init__(self, secrets: Sequence[bytes], tolerance_seconds: int = 300) -> None:
        keys = [s for s in secrets if s]
        if not keys:
            raise ValueError("at least one non-empty signing secret is required")
        if tolerance_seconds <= 0:
            raise ValueError("the signature tolerance must be positive")
        self._macs = [hmac.new(k, digestmod=hashlib.sha256) for k in keys]
        self._tolerance = tolerance_seconds

    @property
    def tolerance_seconds(self) -> int:
        """How far a timestamp may be from now."""
        return self._tolerance

    def _digest(self, base: hmac.HMAC, timestamp: int, body: bytes) -> bytes:
        mac = base.copy()
        mac.update(b"%d." % timestamp)
        mac.update(body)
        return mac.hexdigest().encode()

    def header(self, body: bytes, timestamp: int) -> str:
        """The header value signing ``body`` at ``timestamp`` with the first secret."""
        return f"t={timestamp},{SCHEME}={self._digest(self._macs[0], timestamp, body).decode()}"

    def verify(self, header: str | None, body: bytes, now: float) -> None:
        """Return if ``header`` signs ``body`` freshly (``now`` in unix seconds), else raise.

        Raises:
            SignatureError: missing, malformed, outside the tolerance, or no match.

        """
        if not header:
            raise SignatureError("Missing signature header")
        timestamp, candidates = parse_header(header)
        if abs(now - timestamp) > self._tolerance:
            raise SignatureError("Signature timestamp outside the tolerance")
        for base in self._macs:
            expected = self._digest(base, timestamp, body)
            # Every candidate is compared, so the time does not tell which one matched.
            matched = False
            for candidate in candidates:
                matched |= hmac.compare_digest(expected, candidate)
            if matched:
                return
        raise SignatureError()
