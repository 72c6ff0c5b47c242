"""GetAccessStatus: what the bot needs to know about a Telegram account."""

from __future__ import annotations

import msgspec

from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.values import telegram_user_id
from accessgate.ports.clock import Clock
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class AccessStatusView(msgspec.Struct, frozen=True, kw_only=True):
    """The seed 002 answer of ``POST /api/bot/access/status``."""

    is_paid: bool
    order_id: str | None
    plan: str | None
    access_status: AccessStatus | None


class GetAccessStatus:
    """Report the best access of a Telegram account.

    Rules:
        * ``is_paid`` is true only for access that is active now; pending,
          token_issued, expired and revoked access are not paid.
        * With several orders, an active one wins, else the most recently changed.
        * An account with no access gets ``is_paid`` false and null fields.
    """

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, user_id: int) -> AccessStatusView:
        """The status of ``user_id``."""
        user = telegram_user_id(user_id)
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            accesses = await uow.accesses.list_by_telegram_user(user)
            if not accesses:
                return AccessStatusView(is_paid=False, order_id=None, plan=None, access_status=None)
            best = next((a for a in accesses if a.is_usable(now)), accesses[0])
            order = await uow.orders.get(best.order_id)
        return AccessStatusView(
            is_paid=best.is_usable(now),
            order_id=best.order_id,
            plan=order.plan if order else None,
            access_status=best.effective_status(now),
        )
