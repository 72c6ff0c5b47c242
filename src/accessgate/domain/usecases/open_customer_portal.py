"""OpenCustomerPortal: a link where a subscriber manages their subscription."""

from __future__ import annotations

from accessgate.domain.model.errors import UserNotFound
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.values import Email
from accessgate.ports.payment_gateway import PaymentGateway
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class OpenCustomerPortal:
    """Open the provider's customer portal for the customer of an email.

    Rules:
        * The customer is taken from the email's newest order of this provider
          that has a provider customer id; none is USER_NOT_FOUND.
        * The portal returns the buyer to the service's pay page.
    """

    def __init__(
        self, *, uow: UnitOfWorkFactory, gateway: PaymentGateway, links: LinkBuilder
    ) -> None:
        self._uow = uow
        self._gateway = gateway
        self._links = links

    async def execute(self, raw_email: str) -> str:
        """The portal URL."""
        email = Email.parse(raw_email).value
        async with self._uow() as uow:
            orders = await uow.orders.list_by_email(email)
        customer = next(
            (
                o.provider_customer_id
                for o in orders
                if o.provider == self._gateway.name and o.provider_customer_id
            ),
            None,
        )
        if customer is None:
            raise UserNotFound()
        return await self._gateway.customer_portal_url(customer, self._links.url("/pay"))
