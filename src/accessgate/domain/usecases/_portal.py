"""Finding the provider customer of a buyer and opening their portal (shared by use cases)."""

from __future__ import annotations

from collections.abc import Iterable

from accessgate.domain.model.errors import CapabilityNotSupported, UserNotFound
from accessgate.domain.model.order import Order
from accessgate.ports.payment_gateway import Capability, customer_portal
from accessgate.ports.payment_providers import PaymentProviders


def portal_order(orders: Iterable[Order], providers: PaymentProviders) -> Order | None:
    """The order whose provider customer gets the portal, or ``None``.

    Of ``orders`` (newest first) with a provider customer id, the first whose
    provider is live and has a customer portal; else the first of a live
    provider (its portal is then refused as not supported).
    """
    candidates = [o for o in orders if o.provider_customer_id and providers.find(o.provider)]
    for order in candidates:
        gateway = providers.find(order.provider)
        if gateway is not None and Capability.CUSTOMER_PORTAL in gateway.capabilities:
            return order
    return candidates[0] if candidates else None


async def portal_url(providers: PaymentProviders, order: Order, return_url: str) -> str:
    """Open the portal of ``order``'s own provider for its customer.

    Raises:
        UserNotFound: the order has no provider customer.
        CapabilityNotSupported: the order's provider has no customer portal
            (or is no longer live).
        ServiceUnavailable: the provider is unreachable.

    """
    if order.provider_customer_id is None:
        raise UserNotFound()
    return await open_portal(providers, order.provider, order.provider_customer_id, return_url)


async def open_portal(
    providers: PaymentProviders, provider: str, customer_id: str, return_url: str
) -> str:
    """Open provider ``provider``'s portal for ``customer_id`` (errors as :func:`portal_url`)."""
    gateway = providers.find(provider)
    if gateway is None:
        raise CapabilityNotSupported("This payment provider is not available", provider=provider)
    try:
        portal = customer_portal(gateway)
        return await portal.customer_portal_url(customer_id, return_url)
    except (CapabilityNotSupported, NotImplementedError):
        raise CapabilityNotSupported(
            "This payment provider has no customer portal",
            provider=provider,
            capability=str(Capability.CUSTOMER_PORTAL),
        ) from None
