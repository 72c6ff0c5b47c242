"""Domain events: what happened, recorded by use cases on their unit of work.

A use case records an event with ``uow.record(event)`` in the transaction that
made it happen. Before that transaction commits, the unit of work hands each
recorded event to the subscribers registered for its type (the composition
root registers them); they answer the outbox messages the event causes, which
are written in the same transaction. So a side effect exists if and only if
the state change that causes it was committed, and the use case knows nothing
of the mail, the trackers or the access targets.

Events are immutable snapshots: ``order`` and ``access`` are the entities as
they stand after the change. ``at`` is the time of the change (the Clock).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from accessgate.domain.model.access import Access
from accessgate.domain.model.order import Order


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The base of every domain event: when it happened."""

    at: datetime


class OrderPaid(DomainEvent, frozen=True, kw_only=True):
    """A verified payment fulfilled an order (once per order)."""

    order: Order


class RestoreRequested(DomainEvent, frozen=True, kw_only=True):
    """A restore code was issued for an address (the code itself is never in the event)."""

    challenge_id: str
    email: str


class AccessEvent(DomainEvent, frozen=True, kw_only=True):
    """The base of the changes of an order's access (what access targets hear)."""

    order: Order
    access: Access


class AccessGranted(AccessEvent, frozen=True, kw_only=True):
    """The order was paid: its access exists (an activation token was issued)."""


class AccessActivated(AccessEvent, frozen=True, kw_only=True):
    """The access was bound to a Telegram account (``access.telegram_user_id``).

    ``previous_telegram_user_id`` is the account it was bound to before, if
    any (a restore may move access to a new account).
    """

    previous_telegram_user_id: int | None = None


class AccessExtended(AccessEvent, frozen=True, kw_only=True):
    """A renewal moved the end of the access later (or brought expired access back)."""

    previous_ends_at: datetime | None = None


class RevokeReason(StrEnum):
    """Why access was revoked."""

    REFUNDED = "refunded"
    DISPUTED = "disputed"


class AccessRevoked(AccessEvent, frozen=True, kw_only=True):
    """Access ended for good (refund or dispute)."""

    reason: RevokeReason


class ExpiryReason(StrEnum):
    """Why access expired."""

    SUBSCRIPTION_ENDED = "subscription_ended"
    PERIOD_ENDED = "period_ended"


class AccessExpired(AccessEvent, frozen=True, kw_only=True):
    """Access lapsed: the provider ended the subscription, or its period (plus grace) ran out."""

    reason: ExpiryReason
