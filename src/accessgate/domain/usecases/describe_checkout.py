"""DescribeCheckout: what a checkout session is for, for the buyer-facing pages."""

from __future__ import annotations

import msgspec

from accessgate.domain.model.errors import PaymentNotFound
from accessgate.domain.model.order import Order
from accessgate.domain.model.status import PaymentStatus
from accessgate.domain.model.values import Locale, Mode
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class CheckoutSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The order behind a checkout session, as the checkout and success pages show it.

    ``amount`` is in minor units of ``currency``.
    """

    order_id: str
    session_id: str
    plan: str
    mode: Mode
    email: str
    amount: int
    currency: str
    payment_status: PaymentStatus
    locale: Locale


class DescribeCheckout:
    """Describe the order of a checkout session.

    Rules:
        * An unknown session is PAYMENT_NOT_FOUND.
        * Read only: nothing is changed and no provider is asked.
    """

    def __init__(self, *, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, session_id: str) -> CheckoutSummary:
        """The summary of ``session_id``."""
        if not session_id or len(session_id) > 255:
            raise PaymentNotFound()
        async with self._uow(read_only=True) as uow:
            order = await uow.orders.get_by_session_id(session_id)
        return _summary(order)

    async def of_order(self, order_id: str) -> CheckoutSummary:
        """The summary of the checkout of ``order_id`` (a verified return link names it)."""
        if not order_id or len(order_id) > 64:
            raise PaymentNotFound()
        async with self._uow(read_only=True) as uow:
            order = await uow.orders.get(order_id)
        return _summary(order)


def _summary(order: Order | None) -> CheckoutSummary:
    if order is None:
        raise PaymentNotFound()
    return CheckoutSummary(
        order_id=order.id,
        session_id=order.provider_session_id,
        plan=order.plan,
        mode=order.mode,
        email=order.email,
        amount=order.amount.amount,
        currency=order.amount.currency,
        payment_status=order.payment_status,
        locale=order.locale,
    )
