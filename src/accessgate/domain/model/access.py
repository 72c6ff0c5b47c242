"""The Access entity: the entitlement an order gives one Telegram account.

Subscription events may arrive late and out of order. The rules that make the
final state independent of the order of delivery:

* ``valid_until`` only ever grows (a renewal is a fact whenever it arrives);
* revocation (refund, dispute) is final whenever it arrives;
* billing events (renewal paid, renewal failed) are ordered among themselves
  by ``billing_at``: only the newest decides past-due and the grace;
* lifecycle events (cancellation, expiry) apply only if not older than
  ``changed_at``, the time of the newest lifecycle change applied so far.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from accessgate.domain.model.errors import AccessExpired, AccessRevoked
from accessgate.domain.model.status import ACCESS_TRANSITIONS, AccessStatus, check_transition


class Access(msgspec.Struct, frozen=True, kw_only=True):
    """The access of one order; ``valid_until`` ``None`` means no end."""

    order_id: str
    status: AccessStatus
    changed_at: datetime
    updated_at: datetime
    telegram_user_id: int | None = None
    valid_until: datetime | None = None
    grace_until: datetime | None = None
    cancel_at_period_end: bool = False
    billing_at: datetime | None = None

    def _to(self, status: AccessStatus, at: datetime) -> Access:
        if status is self.status:
            return msgspec.structs.replace(self, updated_at=at)
        check_transition(ACCESS_TRANSITIONS, self.status, status)
        return msgspec.structs.replace(self, status=status, updated_at=at)

    def ends_at(self) -> datetime | None:
        """The moment access lapses: the paid period, extended by a grace if one runs."""
        if self.valid_until is None:
            return None
        if self.grace_until is not None and self.grace_until > self.valid_until:
            return self.grace_until
        return self.valid_until

    def effective_status(self, now: datetime) -> AccessStatus:
        """The status as a reader should see it at ``now`` (a lapsed period is expired)."""
        end = self.ends_at()
        if self.status in (AccessStatus.TOKEN_ISSUED, AccessStatus.ACTIVE) and end and now >= end:
            return AccessStatus.EXPIRED
        return self.status

    def is_usable(self, now: datetime) -> bool:
        """Whether the account may use the access now."""
        return self.effective_status(now) is AccessStatus.ACTIVE

    def issue_token(
        self, valid_until: datetime | None, event_at: datetime, now: datetime
    ) -> Access:
        """Fulfilment: a token was issued; a subscription gets its first period."""
        issued = self._to(AccessStatus.TOKEN_ISSUED, now)
        return msgspec.structs.replace(
            issued,
            valid_until=_later(self.valid_until, valid_until),
            changed_at=max(event_at, self.changed_at),
            billing_at=max(event_at, self.billing_at or event_at),
        )

    def activate(self, telegram_user_id: int, now: datetime) -> Access:
        """Bind the access to a Telegram account (a new account replaces the old)."""
        current = self.effective_status(now)
        if current is AccessStatus.REVOKED:
            raise AccessRevoked()
        if current is AccessStatus.EXPIRED:
            raise AccessExpired()
        active = self._to(AccessStatus.ACTIVE, now)
        return msgspec.structs.replace(active, telegram_user_id=telegram_user_id)

    def is_stale(self, event_at: datetime) -> bool:
        """Whether a lifecycle event at ``event_at`` is older than the newest one applied."""
        return event_at < self.changed_at

    def is_stale_billing(self, event_at: datetime) -> bool:
        """Whether a billing event at ``event_at`` is older than the newest one applied."""
        return self.billing_at is not None and event_at < self.billing_at

    def renew(self, period_end: datetime, event_at: datetime, now: datetime) -> Access:
        """A renewal was paid: extend to ``period_end``; a newer one also clears past-due."""
        extended = msgspec.structs.replace(
            self, valid_until=_later(self.valid_until, period_end), updated_at=now
        )
        if self.status is AccessStatus.REVOKED:
            return extended
        if self.status is AccessStatus.EXPIRED and not self.is_stale(event_at):
            again = AccessStatus.ACTIVE if self.telegram_user_id else AccessStatus.TOKEN_ISSUED
            extended = msgspec.structs.replace(extended._to(again, now), changed_at=event_at)
        if self.is_stale_billing(event_at):
            return extended
        return msgspec.structs.replace(extended, grace_until=None, billing_at=event_at)

    def mark_past_due(self, grace: timedelta, event_at: datetime, now: datetime) -> Access:
        """A renewal payment failed: access is kept until the period end plus ``grace``."""
        if self.status is AccessStatus.REVOKED or self.is_stale_billing(event_at):
            return self
        base = self.valid_until or event_at
        return msgspec.structs.replace(
            self, grace_until=base + grace, billing_at=event_at, updated_at=now
        )

    def set_cancel_at_period_end(self, cancel: bool, event_at: datetime, now: datetime) -> Access:
        """The buyer cancelled (or resumed) the subscription; it runs to the period end."""
        if self.status is AccessStatus.REVOKED or self.is_stale(event_at):
            return self
        return msgspec.structs.replace(
            self, cancel_at_period_end=cancel, changed_at=event_at, updated_at=now
        )

    def expire(self, event_at: datetime, now: datetime) -> Access:
        """The subscription ended: access expires now."""
        if self.status in (AccessStatus.REVOKED, AccessStatus.EXPIRED) or self.is_stale(event_at):
            return self
        expired = self._to(AccessStatus.EXPIRED, now)
        return msgspec.structs.replace(
            expired, cancel_at_period_end=False, grace_until=None, changed_at=event_at
        )

    def lapse(self, now: datetime) -> Access:
        """The period (plus any grace) ran out by ``now``: the stored status becomes expired.

        This is time passing, not a provider event: ``changed_at`` stays, so a
        renewal that arrives later still brings the access back. Access that
        has not lapsed, or is not issued or active, is returned unchanged.
        """
        if self.status not in (AccessStatus.TOKEN_ISSUED, AccessStatus.ACTIVE):
            return self
        if self.effective_status(now) is not AccessStatus.EXPIRED:
            return self
        return self._to(AccessStatus.EXPIRED, now)

    def revoke(self, event_at: datetime, now: datetime) -> Access:
        """Refund or dispute: access ends now, whatever arrives later."""
        if self.status is AccessStatus.REVOKED:
            return self
        revoked = self._to(AccessStatus.REVOKED, now)
        return msgspec.structs.replace(revoked, changed_at=max(event_at, self.changed_at))


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
