"""AccessClient: what the bot asks about a Telegram user's access.

Two adapters serve it: in-process (calls the use cases; one process runs the HTTP
service and the bot) and HTTP (seed 002's ``/api/bot/*`` with ``X-Internal-Token``).
Refusals are results, not exceptions, so the bot can answer each one in its own words.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Protocol

import msgspec


class AccessState(enum.StrEnum):
    """Where a Telegram account stands (the seed 002 access statuses, plus ``none``)."""

    NONE = "none"
    PENDING = "pending"
    TOKEN_ISSUED = "token_issued"  # noqa: S105 (a status name)
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class AccessInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The best access of a Telegram account.

    ``active`` is true only for access usable now. ``plan`` is the plan code,
    ``plan_title`` its title in ``locale`` (the order's language) when known,
    ``valid_until`` the end of a subscription (None: for ever or unknown).
    """

    active: bool
    state: AccessState
    order_id: str | None = None
    plan: str | None = None
    plan_title: str | None = None
    valid_until: datetime | None = None
    locale: str | None = None


class ActivationOutcome(enum.StrEnum):
    """What became of a ``/start <token>``."""

    ACTIVATED = "activated"
    ALREADY_ACTIVE = "already_active"
    USED_BY_ANOTHER = "used_by_another"
    EXPIRED = "expired"
    INVALID = "invalid"
    NOT_ACTIVE = "not_active"


class ActivationReply(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of an activation and, when it succeeded, the access."""

    outcome: ActivationOutcome
    access: AccessInfo | None = None


class RestoreOutcome(enum.StrEnum):
    """What became of a restore code."""

    RESTORED = "restored"
    INVALID_CODE = "invalid_code"
    EXPIRED_CODE = "expired_code"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    NOTHING_TO_RESTORE = "nothing_to_restore"
    INVALID_EMAIL = "invalid_email"


class RestoreReply(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a restore confirmation and, when it succeeded, the access."""

    outcome: RestoreOutcome
    access: AccessInfo | None = None


class AccessClient(Protocol):
    """The bot's view of the access service."""

    async def status(self, telegram_user_id: int) -> AccessInfo:
        """Where ``telegram_user_id`` stands."""
        ...

    async def activate(self, token: str, telegram_user_id: int) -> ActivationReply:
        """Bind the access of ``token`` to ``telegram_user_id``."""
        ...

    async def request_restore(self, email: str) -> bool:
        """Ask for a restore code; False only for a malformed email (never says if it is known)."""
        ...

    async def confirm_restore(self, email: str, otp: str, telegram_user_id: int) -> RestoreReply:
        """Check the code and grant the access of ``email`` to ``telegram_user_id``."""
        ...
