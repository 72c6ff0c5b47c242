"""Outbox messages: side effects committed with the state change that causes them."""

from __future__ import annotations

import hashlib
import re
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
    """The core channels: the Mailer and the tracking sinks.

    An access target's channel is not a member: it is the string
    :func:`target_channel` makes from the target's name (``target:<name>``),
    so a new target needs no edit here. :attr:`OutboxMessage.channel` holds
    either.
    """

    EMAIL = "email"
    MOBISLON = "mobislon"
    META = "meta"


# The channels of access targets: ``target:<name>``, the name a plug-in's
# (``ACCESS_TARGETS``): a lower-case letter, then up to 63 of ``[a-z0-9_]``.
TARGET_CHANNEL_PREFIX = "target:"
TARGET_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
# The longest channel the storage holds (``outbox.channel``).
MAX_CHANNEL = 80


def target_channel(name: str) -> str:
    """The outbox channel of the access target ``name`` (``target:<name>``).

    Raises:
        ValueError: ``name`` is not a target name (``[a-z][a-z0-9_]{0,63}``).

    """
    if not TARGET_NAME.fullmatch(name):
        raise ValueError(
            f"{name[:80]!r} is not an access target name "
            "(a lower-case letter, then up to 63 of a-z, 0-9 and _)"
        )
    return TARGET_CHANNEL_PREFIX + name


def target_of(channel: str) -> str | None:
    """The access target name of ``channel``, or ``None`` for a core channel."""
    if channel.startswith(TARGET_CHANNEL_PREFIX):
        return channel[len(TARGET_CHANNEL_PREFIX) :]
    return None


def parse_channel(value: str) -> str:
    """A stored channel: a :class:`Channel` member for a core one, else the string as it is."""
    try:
        return Channel(value)
    except ValueError:
        return value


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
    code refers to the record the secret is derived from. ``channel`` is a
    core :class:`Channel` or an access target's ``target:<name>``: compare it
    with ``==``.
    """

    id: str
    channel: str
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

    def postponed(self, reason: str, until: datetime) -> OutboxMessage:
        """Not attempted (nothing here can deliver it): pending again at ``until``, attempts kept."""
        return msgspec.structs.replace(
            self, next_attempt_at=until, locked_until=None, last_error=reason[:500]
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
