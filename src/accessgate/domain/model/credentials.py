"""Activation tokens and restore codes, and how they are derived and hashed.

Neither a token nor a code is ever stored. Each record keeps a random seed (128
bits from :mod:`secrets`, made by the TokenFactory port) and a hash; the secret
itself is derived as HMAC-SHA256(server key, seed) whenever it must be shown
again (the activation link on the success page, the code in the email being
sent). A copy of the database alone therefore reveals no token or code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

import msgspec

from accessgate.domain.model.errors import ValidationError

OTP_DIGITS = 6


class TokenCodec:
    """Derives, hashes and checks activation tokens and restore codes.

    Args:
        key: the server's secret key (``SECRET_KEY``); at least 16 bytes.

    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValidationError("The secret key must be at least 16 bytes")
        self._key = key

    def _mac(self, purpose: bytes, message: str) -> bytes:
        return hmac.new(self._key, purpose + b"\x00" + message.encode(), hashlib.sha256).digest()

    def activation_token(self, seed: str) -> str:
        """The token of ``seed``: 43 characters of ``[A-Za-z0-9_-]`` (256 bits)."""
        return base64.urlsafe_b64encode(self._mac(b"activation", seed)).rstrip(b"=").decode()

    @staticmethod
    def hash_token(token: str) -> str:
        """The stored form of a token: its SHA-256 in hex."""
        return hashlib.sha256(token.encode()).hexdigest()

    def issue_token(
        self, *, order_id: str, seed: str, now: datetime, ttl: timedelta
    ) -> tuple[str, ActivationToken]:
        """A new token of an order: the token itself (to show once) and its stored record."""
        token = self.activation_token(seed)
        record = ActivationToken(
            token_hash=self.hash_token(token),
            order_id=order_id,
            seed=seed,
            created_at=now,
            expires_at=now + ttl,
        )
        return token, record

    def otp_code(self, seed: str) -> str:
        """The six-digit restore code of ``seed``."""
        number = int.from_bytes(self._mac(b"otp", seed)[:8], "big") % 10**OTP_DIGITS
        return f"{number:0{OTP_DIGITS}d}"

    def hash_otp(self, email: str, code: str) -> str:
        """The stored form of a code: a keyed hash bound to the email."""
        return self._mac(b"otp-hash", f"{email}\x00{code}").hex()

    def email_key(self, email: str) -> str:
        """A short keyed digest of an email (bounded outbox keys that do not show it)."""
        return self._mac(b"email-key", email).hex()[:32]

    def otp_matches(self, challenge: OtpChallenge, code: str) -> bool:
        """Compare a submitted code with a challenge in constant time."""
        candidate = self.hash_otp(challenge.email, code.strip())
        return hmac.compare_digest(candidate.encode(), challenge.code_hash.encode())


class ActivationToken(msgspec.Struct, frozen=True, kw_only=True):
    """A one-time activation token of an order, stored as its hash."""

    token_hash: str
    order_id: str
    seed: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = None
    revoked_at: datetime | None = None

    def use(self, telegram_user_id: int, now: datetime) -> ActivationToken:
        """Mark the token used by ``telegram_user_id``."""
        return msgspec.structs.replace(self, used_at=now, used_by=telegram_user_id)

    def revoke(self, now: datetime) -> ActivationToken:
        """Retire the token (a restore rotated it)."""
        return msgspec.structs.replace(self, revoked_at=self.revoked_at or now)


class OtpChallenge(msgspec.Struct, frozen=True, kw_only=True):
    """A restore code asked for an email; at most one live per email.

    A challenge is made for every address that asks, buyer or not (the answer
    and the work must not tell them apart); the email delivery sends the code
    only to a buyer. ``window_started_at`` and ``codes_in_window`` count the
    codes issued to the address in its current daily window (carried over
    when a new code replaces this one).
    """

    id: str
    email: str
    code_hash: str
    seed: str
    created_at: datetime
    expires_at: datetime
    attempts_left: int
    consumed_at: datetime | None = None
    window_started_at: datetime | None = None
    codes_in_window: int = 1

    def window_after(self, now: datetime, window: timedelta) -> tuple[datetime, int]:
        """The daily window a code issued at ``now`` falls in, and the codes already in it."""
        started = self.window_started_at or self.created_at
        if now - started >= window:
            return now, 0
        return started, self.codes_in_window

    def failed_attempt(self) -> OtpChallenge:
        """One wrong guess fewer."""
        return msgspec.structs.replace(self, attempts_left=max(0, self.attempts_left - 1))

    def consume(self, now: datetime) -> OtpChallenge:
        """The code was right; it cannot be used again."""
        return msgspec.structs.replace(self, consumed_at=now)


class CredentialPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Lifetimes and limits of tokens and codes (configurable)."""

    activation_token_ttl: timedelta = timedelta(days=30)
    otp_ttl: timedelta = timedelta(minutes=10)
    otp_max_attempts: int = 5
    otp_cooldown: timedelta = timedelta(seconds=60)
    otp_max_codes_per_window: int = 5
    otp_window: timedelta = timedelta(days=1)
