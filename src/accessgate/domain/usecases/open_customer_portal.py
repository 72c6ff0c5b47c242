"""OpenCustomerPortal: the portal link of an email's customer, answered directly."""

from __future__ import annotations

from accessgate.domain.model.errors import UserNotFound
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.values import Email
from accessgate.domain.usecases._portal import portal_order, portal_url
from accessgate.ports.payment_gateway import PaymentGateway
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class OpenCustomerPortal:
    """Open the provider's customer portal for the customer of an email.

    Only for ``CUSTOMER_PORTAL_MODE=direct``: whoever knows the email gets the
    portal (the seed's behaviour). The default mode emails the link instead
    (:class:`~accessgate.domain.usecases.request_portal_link.RequestPortalLink`).

    Rules:
        * The customer is taken from the email's newest order of this provider
          that has a provider customer id; none is USER_NOT_FOUND.
        * A provider without a portal is PROVIDER_REJECTED.
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
        async with self._uow(read_only=True) as uow:
            orders = await uow.orders.list_by_email(email)
        order = portal_order(orders, self._gateway.name)
        if order is None or order.provider_customer_id is None:
            raise UserNotFound()
        return await portal_url(self._gateway, order.provider_customer_id, self._links.url("/pay"))
