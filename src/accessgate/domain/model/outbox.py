"""Outbox messages: side effects committed with the state change that causes them."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec


class OutboxStatus(StrEnum):
    """Where a message stands: waiting (or retrying), delivered, failed, or discarded."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DISCARDED = "discarded"


class Channel(StrEnum):
    """Where a message goes: the Mailer, a tracking sink, or an access target."""

    EMAIL = "email"
    MOBISLON = "mobislon"
    META = "meta"
    # Access targets: one channel each.
    ACCESS_WEBHOOK = "access_webhook"


class EmailTemplate(StrEnum):
    """The emails the domain sends."""

    ACCESS = "access"
    RESTORE_CODE = "restore_code"
    CUSTOMER_PORTAL = "customer_portal"


# The longest dedupe key the storage holds (``outbox.dedupe_key``).
MAX_DEDUPE_KEY = 512
# The conversions that count a payment: written only by the fulfilment of a
# verified payment, never accepted from the public relays.
MOBISLON_PAY_SUCCESS = "pay_success"
META_PURCHASE = "Purchase"


def mobislon_dedupe_key(clickid: str, status: str) -> str:
    """The dedupe key of a MobiSlon postback: one postback per (clickid, status).

    The clickid comes from a stranger and may be long: it enters the key as its
    SHA-256 (64 hex digits), so the key fits its column whatever was sent.
    ``status`` is one of seed 002's short event names. The public relay and the
    payment fulfilment build their keys here, so a pair is relayed at most once
    whichever path writes it first.
    """
    digest = hashlib.sha256(clickid.encode("utf-8", "surrogatepass")).hexdigest()
    return f"mobislon:{digest}:{status[:64]}"


class OutboxMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A side effect to deliver later.

    ``dedupe_key`` is unique: the same side effect is written at most once
    (for example one MobiSlon postback per clickid and status). ``payload``
    names what to deliver and never holds a secret: the email of a token or a
    code refers to the record the secret is derived from.
    """

    id: str
    channel: Channel
    dedupe_key: str
    payload: dict[str, str]
    created_at: datetime
    next_attempt_at: datetime
    max_attempts: int
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    locked_until: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None

    def delivered(self, now: datetime) -> OutboxMessage:
        """The send succeeded: never send again."""
        return msgspec.structs.replace(
            self,
            status=OutboxStatus.DELIVERED,
            attempts=self.attempts + 1,
            delivered_at=now,
            locked_until=None,
            last_error=None,
        )

    def discarded(self, reason: str) -> OutboxMessage:
        """Nothing to send any more (for example a code replaced by a newer one)."""
        return msgspec.structs.replace(
            self, status=OutboxStatus.DISCARDED, locked_until=None, last_error=reason
        )

    def failed_attempt(
        self, reason: str, *, retryable: bool, now: datetime, policy: RetryPolicy, jitter: float
    ) -> OutboxMessage:
        """Record a failed send: retry later with backoff, or fail for good."""
        attempts = self.attempts + 1
        if not retryable or attempts >= self.max_attempts:
            return msgspec.structs.replace(
                self,
                status=OutboxStatus.FAILED,
                attempts=attempts,
                locked_until=None,
                last_error=reason[:500],
            )
        return msgspec.structs.replace(
            self,
            attempts=attempts,
            next_attempt_at=now + policy.delay(attempts, jitter),
            locked_until=None,
            last_error=reason[:500],
        )

    def retried(self, now: datetime) -> OutboxMessage:
        """An operator replays a failed message: it is due now with a fresh attempt budget."""
        return msgspec.structs.replace(
            self,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            locked_until=None,
        )


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Exponential backoff with full jitter and an attempt cap."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 12

    def delay(self, attempt: int, jitter: float) -> timedelta:
        """The wait before try ``attempt + 1``; ``jitter`` in [0, 1) spreads retries.

        The delay is ``min(cap, base * 2**(attempt-1))`` scaled into its upper half
        by the jitter, so that no retry comes sooner than half the backoff.
        """
        ceiling: timedelta = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        return ceiling * (0.5 + 0.5 * jitter)
