"""Finding the order a payment event is about (shared by the event use cases)."""

from __future__ import annotations

from accessgate.domain.model.errors import PaymentNotFound
from accessgate.domain.model.order import Order
from accessgate.domain.model.payment_event import PaymentEvent
from accessgate.ports.unit_of_work import UnitOfWork


async def order_of_event(uow: UnitOfWork, event: PaymentEvent) -> Order:
    """Load and lock the event's order, or raise PaymentNotFound.

    The first reference the event carries wins: order id, session id,
    subscription id, payment id. An order of another provider is not found.
    """
    order: Order | None = None
    if event.order_id:
        order = await uow.orders.get(event.order_id, for_update=True)
    if order is None and event.session_id:
        order = await uow.orders.get_by_session_id(event.session_id, for_update=True)
    if order is None and event.subscription_id:
        order = await uow.orders.get_by_subscription_id(event.subscription_id, for_update=True)
    if order is None and event.payment_id:
        order = await uow.orders.get_by_payment_id(event.payment_id, for_update=True)
    if order is None or order.provider != event.provider:
        raise PaymentNotFound()
    return order
