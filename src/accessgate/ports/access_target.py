"""The AccessTarget port: where a shop's buyers use what they paid for.

A target is what "giving access" means to a shop: content inside its own bot,
a Telegram channel, a VPN panel user, the shop's own backend. Each target has
its own outbox channel (``target:<name>``, see
``domain.model.outbox.target_channel``); a subscriber writes one message per access change to
it in the transaction of the change, and the outbox worker hands the message
to the target with the outbox's retries. A target therefore sees each change
at least once (exactly once after a recorded success) and possibly out of
order: ``occurred_at`` and the state after the change (``status``,
``valid_until``) let it keep the newest.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

import msgspec


class AccessChangeType(StrEnum):
    """What changed (the ``type`` of the access webhook)."""

    GRANTED = "access.granted"
    ACTIVATED = "access.activated"
    EXTENDED = "access.extended"
    REVOKED = "access.revoked"
    EXPIRED = "access.expired"


class AccessChange(msgspec.Struct, frozen=True, kw_only=True):
    """One change of an order's access, as a target receives it.

    Attributes:
        id: stable for this change across retries (the outbox message id):
            the target's idempotency key.
        type: what changed.
        occurred_at: when it changed (UTC).
        order_id: the order whose access it is.
        plan: the plan code.
        mode: ``one_time`` or ``subscription``.
        status: the access status after the change (seed 002 names).
        telegram_user_id: the Telegram account the access is bound to, if any.
        valid_until: when access ends (the period plus any grace), ``None`` for no end.
        reason: why (``refunded``, ``disputed``, ``subscription_ended``, ``period_ended``).
        email: the buyer's email (personal data: a target passes it on only if told to).
        locale: the order's language (``ru`` / ``en``).

    """

    id: str
    type: AccessChangeType
    occurred_at: datetime
    order_id: str
    plan: str
    mode: str
    status: str
    telegram_user_id: int | None = None
    valid_until: datetime | None = None
    reason: str | None = None
    email: str | None = None
    locale: str | None = None


class AccessTarget(Protocol):
    """Applies access changes where access is used.

    The composition root knows each target by its plug-in's name, which also
    names its outbox channel: the target itself needs no channel. ``apply``
    is called outside any transaction, once per message (again after a failure that may pass):
    it returns when the change is applied (or was applied before: it must be
    idempotent by ``change.id``), and raises ``DeliveryFailed`` otherwise,
    saying whether a retry may help.
    """

    async def apply(self, change: AccessChange) -> None:
        """Apply ``change``; raise ``DeliveryFailed`` if it could not be applied."""
        ...
