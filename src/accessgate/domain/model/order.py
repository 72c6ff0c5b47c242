"""The Order entity: what a buyer asked to pay for, and where the money stands."""

from __future__ import annotations

from datetime import datetime

import msgspec

from accessgate.domain.model.status import (
    FULFILLMENT_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    FulfillmentStatus,
    PaymentStatus,
    check_transition,
)
from accessgate.domain.model.values import Locale, Mode, Money


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """An order; state changes return a new Order or raise IllegalTransition."""

    id: str
    mode: Mode
    plan: str
    email: str
    locale: Locale
    provider: str
    provider_session_id: str
    amount: Money
    created_at: datetime
    updated_at: datetime
    clickid: str | None = None
    telegram_chat_id: str | None = None
    # A Telegram account proven by the signed pay URL: fulfilment binds the access to it.
    telegram_user_id: int | None = None
    payment_status: PaymentStatus = PaymentStatus.UNPAID
    fulfillment_status: FulfillmentStatus = FulfillmentStatus.PENDING
    provider_customer_id: str | None = None
    provider_subscription_id: str | None = None
    provider_payment_id: str | None = None
    fbclid: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    paid_at: datetime | None = None

    def with_payment_status(self, status: PaymentStatus, at: datetime) -> Order:
        """Move the payment status along its table (same status: unchanged)."""
        if status is self.payment_status:
            return self
        check_transition(PAYMENT_TRANSITIONS, self.payment_status, status)
        paid_at = at if status is PaymentStatus.PAID and self.paid_at is None else self.paid_at
        return msgspec.structs.replace(self, payment_status=status, paid_at=paid_at, updated_at=at)

    def with_fulfillment_status(self, status: FulfillmentStatus, at: datetime) -> Order:
        """Move the fulfilment status along its table (same status: unchanged)."""
        if status is self.fulfillment_status:
            return self
        check_transition(FULFILLMENT_TRANSITIONS, self.fulfillment_status, status)
        return msgspec.structs.replace(self, fulfillment_status=status, updated_at=at)

    def with_provider_refs(
        self,
        at: datetime,
        *,
        customer_id: str | None = None,
        subscription_id: str | None = None,
        payment_id: str | None = None,
    ) -> Order:
        """Remember the provider's ids for later events; known ids are kept."""
        return msgspec.structs.replace(
            self,
            provider_customer_id=self.provider_customer_id or customer_id,
            provider_subscription_id=self.provider_subscription_id or subscription_id,
            provider_payment_id=self.provider_payment_id or payment_id,
            updated_at=at,
        )
