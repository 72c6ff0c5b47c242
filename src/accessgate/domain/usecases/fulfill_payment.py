"""FulfillPayment: turn a verified payment into access, exactly once."""

from __future__ import annotations

from datetime import datetime

from accessgate.domain.model.catalogue import PlanCatalog
from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.errors import InvalidAmount, PaymentNotFound
from accessgate.domain.model.events import AccessGranted, OrderPaid
from accessgate.domain.model.order import Order
from accessgate.domain.model.outbox import MOBISLON_PAY_SUCCESS
from accessgate.domain.model.payment_event import (
    FULFILLING_KINDS,
    EventOutcome,
    PaymentEvent,
)
from accessgate.domain.model.status import FulfillmentStatus, PaymentStatus
from accessgate.domain.usecases._event_record import record_first, settle_record
from accessgate.domain.usecases._lookup import order_of_event
from accessgate.domain.usecases.activate_access import record_activation
from accessgate.ports.clock import Clock
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

PAY_SUCCESS = MOBISLON_PAY_SUCCESS


class FulfillPayment:
    """Apply a completed or succeeded payment event.

    Rules:
        * Idempotent: the event is recorded under (provider, event id), unique in
          storage, as the first statement of its transaction: a duplicate
          delivery stops there, before any lookup or lock. Two events for one
          order fulfil once (the order row is locked).
        * An event for no known order is PAYMENT_NOT_FOUND and records nothing.
        * An amount or currency other than the order's is INVALID_AMOUNT and
          fulfils nothing. (A failed check rolls the whole transaction back,
          the event record with it: nothing is half-applied.)
        * A completed checkout whose money has not arrived (``paid`` false) is
          recorded and waits for the payment-succeeded event.
        * Fulfilment marks the order paid and fulfilled, issues a single-use
          activation token, and records ``OrderPaid`` and ``AccessGranted``.
          What they cause (the access email, the MobiSlon ``pay_success``
          postback, the Meta ``Purchase``, the access targets) is written by
          the subscribers in the same transaction; this use case knows none of it.
        * An order with a verified Telegram account (``telegram_user_id``, from the
          bot's signed pay URL) gets its access bound to that account at once
          (status active, ``AccessActivated``); the token is still issued.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        tokens: TokenFactory,
        codec: TokenCodec,
        catalog: PlanCatalog,
        credentials: CredentialPolicy,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = tokens
        self._codec = codec
        self._catalog = catalog
        self._credentials = credentials

    async def execute(self, event: PaymentEvent) -> EventOutcome:
        """Apply ``event``; raises PaymentNotFound or InvalidAmount."""
        if event.kind not in FULFILLING_KINDS:
            raise ValueError(f"FulfillPayment does not apply {event.kind} events")
        now = self._clock.now()
        async with self._uow() as uow:
            expected = EventOutcome.FULFILLED if event.paid else EventOutcome.AWAITING_PAYMENT
            record = await record_first(uow, event, now, expected)
            if record is None:
                return EventOutcome.DUPLICATE
            order = await order_of_event(uow, event)
            outcome = self._outcome(order, event)
            order = order.with_provider_refs(
                now,
                customer_id=event.customer_id,
                subscription_id=event.subscription_id,
                payment_id=event.payment_id,
            )
            if outcome is EventOutcome.FULFILLED:
                await self._fulfil(uow, order, event, now)
            else:
                await uow.orders.update(order)
            await settle_record(uow, record, order.id, outcome)
            await uow.commit()
        return outcome

    @staticmethod
    def _outcome(order: Order, event: PaymentEvent) -> EventOutcome:
        if event.amount is not None and event.amount != order.amount:
            raise InvalidAmount(
                expected_amount=order.amount.amount,
                expected_currency=order.amount.currency,
            )
        if order.fulfillment_status is FulfillmentStatus.FULFILLED:
            return EventOutcome.ALREADY_FULFILLED
        if not event.paid:
            return EventOutcome.AWAITING_PAYMENT
        if order.payment_status is PaymentStatus.REFUNDED:
            return EventOutcome.IGNORED
        return EventOutcome.FULFILLED

    async def _fulfil(
        self, uow: UnitOfWork, order: Order, event: PaymentEvent, now: datetime
    ) -> None:
        access = await uow.accesses.get(order.id, for_update=True)
        if access is None:
            raise PaymentNotFound("The order has no access record")
        # The provider's period end, else the plan's own period (days or calendar months).
        valid_until = event.period_end or self._catalog.get(order.plan).access_until(now)
        order = order.with_payment_status(PaymentStatus.PAID, now).with_fulfillment_status(
            FulfillmentStatus.FULFILLED, now
        )
        await uow.orders.update(order)
        access = access.issue_token(valid_until, event.occurred_at, now)
        await uow.accesses.update(access)
        _, token = self._codec.issue_token(
            order_id=order.id,
            seed=self._tokens.new_seed(),
            now=now,
            ttl=self._credentials.activation_token_ttl,
        )
        await uow.tokens.add(token)
        uow.record(OrderPaid(at=now, order=order))
        uow.record(AccessGranted(at=now, order=order, access=access))
        if order.telegram_user_id is not None:
            # Paid from the bot's signed pay URL: the account is known, no deep link needed
            # (the token is still issued for the email, to move the access later).
            before, access = access, access.activate(order.telegram_user_id, now)
            await uow.accesses.update(access)
            record_activation(uow, order, before, access, now)
