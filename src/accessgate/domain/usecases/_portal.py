"""Finding the provider customer of a buyer and opening their portal (shared by use cases)."""

from __future__ import annotations

from collections.abc import Iterable

from accessgate.domain.model.errors import ProviderRejected
from accessgate.domain.model.order import Order
from accessgate.ports.payment_gateway import PaymentGateway


def portal_order(orders: Iterable[Order], provider: str) -> Order | None:
    """The first of ``orders`` (newest first) of ``provider`` that has a provider customer id."""
    return next((o for o in orders if o.provider == provider and o.provider_customer_id), None)


async def portal_url(gateway: PaymentGateway, customer_id: str, return_url: str) -> str:
    """Open the provider's portal for ``customer_id``.

    Raises:
        ProviderRejected: the provider has no customer portal.
        ServiceUnavailable: the provider is unreachable.

    """
    try:
        return await gateway.customer_portal_url(customer_id, return_url)
    except NotImplementedError:
        raise ProviderRejected("This payment provider has no customer portal") from None
