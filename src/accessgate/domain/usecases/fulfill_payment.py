"""FulfillPayment: turn a verified payment into access, exactly once."""

from __future__ import annotations

from datetime import datetime

from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.errors import InvalidAmount, PaymentNotFound
from accessgate.domain.model.order import Order
from accessgate.domain.model.outbox import (
    META_PURCHASE,
    MOBISLON_PAY_SUCCESS,
    Channel,
    EmailTemplate,
    RetryPolicy,
    mobislon_dedupe_key,
)
from accessgate.domain.model.payment_event import (
    FULFILLING_KINDS,
    EventOutcome,
    PaymentEvent,
    PaymentEventRecord,
)
from accessgate.domain.model.status import FulfillmentStatus, PaymentStatus
from accessgate.domain.model.values import PlanCatalog
from accessgate.domain.usecases._lookup import order_of_event
from accessgate.domain.usecases._outbox import Side, enqueue_all
from accessgate.ports.clock import Clock
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

PAY_SUCCESS = MOBISLON_PAY_SUCCESS


class FulfillPayment:
    """Apply a completed or succeeded payment event.

    Rules:
        * Idempotent: the event is recorded under (provider, event id), unique in
          storage, in the same transaction as its effect; the same event twice,
          or two events for one order, fulfil once (the order row is locked).
        * An event for no known order is PAYMENT_NOT_FOUND and records nothing.
        * An amount or currency other than the order's is INVALID_AMOUNT and
          fulfils nothing.
        * A completed checkout whose money has not arrived (``paid`` false) is
          recorded and waits for the payment-succeeded event.
        * Fulfilment marks the order paid and fulfilled, issues a single-use
          activation token, and writes in the same transaction the access email
          and, when the order has a clickid, the MobiSlon ``pay_success`` postback
          (plus a Meta ``Purchase`` event when Meta is enabled). These two are
          written only here, from a verified payment; the public relays refuse them.
        * No side effect can keep an order from being fulfilled: every outbox
          key is bounded whatever the buyer sent (the clickid enters its key
          hashed, the same key the public relay would build for the pair).
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
        retry: RetryPolicy,
        channels: frozenset[Channel] = frozenset({Channel.EMAIL}),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = tokens
        self._codec = codec
        self._catalog = catalog
        self._credentials = credentials
        self._retry = retry
        self._channels = channels

    async def execute(self, event: PaymentEvent) -> EventOutcome:
        """Apply ``event``; raises PaymentNotFound or InvalidAmount."""
        if event.kind not in FULFILLING_KINDS:
            raise ValueError(f"FulfillPayment does not apply {event.kind} events")
        now = self._clock.now()
        async with self._uow() as uow:
            order = await order_of_event(uow, event)
            outcome = self._outcome(order, event)
            record = PaymentEventRecord(
                provider=event.provider,
                event_id=event.event_id,
                kind=event.kind,
                order_id=order.id,
                occurred_at=event.occurred_at,
                received_at=now,
                outcome=outcome,
            )
            if not await uow.payment_events.add(record):
                return EventOutcome.DUPLICATE
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
        period = self._catalog.get(order.plan).period
        valid_until = event.period_end or (now + period if period else None)
        order = order.with_payment_status(PaymentStatus.PAID, now).with_fulfillment_status(
            FulfillmentStatus.FULFILLED, now
        )
        await uow.orders.update(order)
        await uow.accesses.update(access.issue_token(valid_until, event.occurred_at, now))
        _, token = self._codec.issue_token(
            order_id=order.id,
            seed=self._tokens.new_seed(),
            now=now,
            ttl=self._credentials.activation_token_ttl,
        )
        await uow.tokens.add(token)
        await self._enqueue_side_effects(uow, order, now)

    async def _enqueue_side_effects(self, uow: UnitOfWork, order: Order, now: datetime) -> None:
        sides: list[Side] = [
            (
                Channel.EMAIL,
                f"email:access:{order.id}",
                {"template": EmailTemplate.ACCESS, "order_id": order.id},
            )
        ]
        if Channel.MOBISLON in self._channels and order.clickid:
            sides.append(
                (
                    Channel.MOBISLON,
                    mobislon_dedupe_key(order.clickid, PAY_SUCCESS),
                    {
                        "clickid": order.clickid,
                        "status": PAY_SUCCESS,
                        "session_id": order.provider_session_id,
                    },
                )
            )
        if Channel.META in self._channels:
            payload = {
                "event_name": META_PURCHASE,
                "event_time": str(int(now.timestamp())),
                "event_id": f"purchase_{order.id}",
                # Meta requires a user agent for website events; a purchase whose
                # checkout carried none is reported as generated by the system.
                "action_source": "website" if order.user_agent else "system_generated",
                "email": order.email,
                "value_minor": str(order.amount.amount),
                "currency": order.amount.currency,
            }
            optional = {"fbclid": order.fbclid, "client_ip": order.client_ip}
            optional["user_agent"] = order.user_agent
            payload.update({k: v for k, v in optional.items() if v})
            sides.append((Channel.META, f"meta:purchase:{order.id}", payload))
        await enqueue_all(uow, sides, now=now, tokens=self._tokens, retry=self._retry)
