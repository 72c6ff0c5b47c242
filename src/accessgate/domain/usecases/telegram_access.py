"""DescribeTelegramAccess: the bot's view of a Telegram account's access, in one read."""

from __future__ import annotations

from accessgate.domain.model.catalogue import PlanCatalog
from accessgate.domain.model.values import telegram_user_id
from accessgate.ports.access_client import AccessInfo, AccessState
from accessgate.ports.clock import Clock
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class DescribeTelegramAccess:
    """Report the best access of a Telegram account, with its plan title and language.

    Rules (those of GetAccessStatus): an active access wins, else the most recently
    changed; only access usable now is ``active``. The plan title is in the order's
    language, which is also reported so the bot answers in it.
    """

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock, catalog: PlanCatalog) -> None:
        self._uow = uow
        self._clock = clock
        self._catalog = catalog

    async def execute(self, user_id: int) -> AccessInfo:
        """The access of ``user_id`` (state ``none`` when the account has none)."""
        user = telegram_user_id(user_id)
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            accesses = await uow.accesses.list_by_telegram_user(user)
            if not accesses:
                return AccessInfo(active=False, state=AccessState.NONE)
            best = next((a for a in accesses if a.is_usable(now)), accesses[0])
            order = await uow.orders.get(best.order_id)
        plan = self._catalog.find(order.plan) if order else None
        return AccessInfo(
            active=best.is_usable(now),
            state=AccessState(best.effective_status(now).value),
            order_id=best.order_id,
            plan=order.plan if order else None,
            plan_title=plan.title(order.locale) if plan and order else None,
            valid_until=best.ends_at(),
            locale=order.locale.value if order else None,
        )
