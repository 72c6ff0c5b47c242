"""OpenCustomerPortal: the portal link of an email's customer, answered directly."""

from __future__ import annotations

from accessgate.domain.model.errors import UserNotFound
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.values import Email
from accessgate.domain.usecases._portal import portal_order, portal_url
from accessgate.ports.payment_providers import PaymentProviders
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class OpenCustomerPortal:
    """Open the provider's customer portal for the customer of an email.

    Only for ``CUSTOMER_PORTAL_MODE=direct``: whoever knows the email gets the
    portal (the seed's behaviour). The default mode emails the link instead
    (:class:`~accessgate.domain.usecases.request_portal_link.RequestPortalLink`).

    Rules:
        * The customer is taken from the email's newest order with a provider
          customer id whose provider is live (one with a portal first); none
          is USER_NOT_FOUND. The portal is that order's own provider's.
        * A provider without a portal is CAPABILITY_NOT_SUPPORTED.
        * The portal returns the buyer to the service's pay page.
    """

    def __init__(
        self, *, uow: UnitOfWorkFactory, providers: PaymentProviders, links: LinkBuilder
    ) -> None:
        self._uow = uow
        self._providers = providers
        self._links = links

    async def execute(self, raw_email: str) -> str:
        """The portal URL."""
        email = Email.parse(raw_email).value
        async with self._uow(read_only=True) as uow:
            orders = await uow.orders.list_by_email(email)
        order = portal_order(orders, self._providers)
        if order is None or order.provider_customer_id is None:
            raise UserNotFound()
        return await portal_url(self._providers, order, self._links.url("/pay"))
