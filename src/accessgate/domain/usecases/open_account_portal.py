"""OpenAccountPortal: the portal link of the Telegram account that holds the access."""

from __future__ import annotations

from accessgate.domain.model.errors import UserNotFound
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.order import Order
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.values import telegram_user_id
from accessgate.domain.usecases._portal import portal_order, portal_url
from accessgate.ports.clock import Clock
from accessgate.ports.payment_providers import PaymentProviders
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class OpenAccountPortal:
    """Open the provider's customer portal for a Telegram account (the bot's internal API).

    Ownership is proven: the bot speaks for the Telegram account, and the
    account holds the access, so the portal URL is answered directly.

    Rules:
        * The customer is taken from the orders whose access is bound to the
          account and not revoked: usable access first, then the most recently
          changed; only orders of a live provider with a customer id count
          (one with a portal first), and the portal is the order's own provider's.
        * No such order is USER_NOT_FOUND; a provider without a portal is
          CAPABILITY_NOT_SUPPORTED.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        providers: PaymentProviders,
        links: LinkBuilder,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._providers = providers
        self._links = links
        self._clock = clock

    async def execute(self, user_id: int) -> str:
        """The portal URL of ``user_id``'s customer."""
        user = telegram_user_id(user_id)
        now = self._clock.now()
        orders: list[Order] = []
        async with self._uow(read_only=True) as uow:
            accesses = await uow.accesses.list_by_telegram_user(user)
            held = [a for a in accesses if a.status is not AccessStatus.REVOKED]
            held.sort(key=lambda a: not a.is_usable(now))  # stable: usable first
            for access in held:
                order = await uow.orders.get(access.order_id)
                if order is not None:
                    orders.append(order)
        order = portal_order(orders, self._providers)
        if order is None or order.provider_customer_id is None:
            raise UserNotFound("No subscription of this account has a customer portal")
        return await portal_url(self._providers, order, self._links.url("/pay"))
