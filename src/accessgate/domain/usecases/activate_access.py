"""ActivateAccess: bind an order's access to a Telegram account with its token."""

from __future__ import annotations

import re
from datetime import datetime

import msgspec

from accessgate.domain.model.access import Access
from accessgate.domain.model.credentials import TokenCodec
from accessgate.domain.model.errors import PaymentNotFound, TokenExpired, TokenInvalid, TokenUsed
from accessgate.domain.model.events import AccessActivated
from accessgate.domain.model.order import Order
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.values import telegram_user_id
from accessgate.ports.clock import Clock
from accessgate.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ActivateAccessCommand(msgspec.Struct, frozen=True, kw_only=True):
    """A token presented by a Telegram account."""

    activation_token: str
    telegram_user_id: int


class ActivationResult(msgspec.Struct, frozen=True, kw_only=True):
    """Access granted, with the order it belongs to."""

    access_granted: bool
    order_id: str
    plan: str
    access_status: AccessStatus
    valid_until: datetime | None


class ActivateAccess:
    """Activate access with a one-time token.

    Rules:
        * An unknown token, or one replaced by a restore, is TOKEN_INVALID.
        * A token used by the same Telegram account succeeds again (idempotent);
          used by any other account it is TOKEN_USED.
        * An unused token past its lifetime is TOKEN_EXPIRED.
        * Revoked or expired access cannot be activated (ACCESS_REVOKED, ACCESS_EXPIRED).
        * The token row is locked: of concurrent activations exactly one wins.
        * Access newly bound to an account (or to another one) is recorded as
          ``AccessActivated`` for the subscribers (the access targets).
    """

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock, codec: TokenCodec) -> None:
        self._uow = uow
        self._clock = clock
        self._codec = codec

    async def execute(self, command: ActivateAccessCommand) -> ActivationResult:
        """Activate, or raise the error the rules name."""
        user = telegram_user_id(command.telegram_user_id)
        if not TOKEN_SHAPE.match(command.activation_token):
            raise TokenInvalid()
        token_hash = self._codec.hash_token(command.activation_token)
        now = self._clock.now()
        async with self._uow() as uow:
            token = await uow.tokens.get_by_hash(token_hash, for_update=True)
            if token is None or token.revoked_at is not None:
                raise TokenInvalid()
            order = await uow.orders.get(token.order_id)
            access = await uow.accesses.get(token.order_id, for_update=True)
            if order is None or access is None:
                raise PaymentNotFound()
            if token.used_by is not None and token.used_by != user:
                raise TokenUsed()
            if token.used_by is None:
                if now >= token.expires_at:
                    raise TokenExpired()
                before, access = access, access.activate(user, now)
                await uow.tokens.update(token.use(user, now))
                await uow.accesses.update(access)
                record_activation(uow, order, before, access, now)
                await uow.commit()
        return ActivationResult(
            access_granted=access.is_usable(now),
            order_id=order.id,
            plan=order.plan,
            access_status=access.effective_status(now),
            valid_until=access.ends_at(),
        )


def record_activation(
    uow: UnitOfWork, order: Order, before: Access, after: Access, now: datetime
) -> None:
    """Record ``AccessActivated`` if the access became active or changed account."""
    if before.status is after.status and before.telegram_user_id == after.telegram_user_id:
        return
    uow.record(
        AccessActivated(
            at=now,
            order=order,
            access=after,
            previous_telegram_user_id=before.telegram_user_id,
        )
    )
