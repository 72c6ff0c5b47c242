"""ApplySubscriptionEvent: the life of a paid order after its first payment."""

from __future__ import annotations

from datetime import datetime, timedelta

from accessgate.domain.model.access import Access
from accessgate.domain.model.catalogue import PlanCatalog
from accessgate.domain.model.errors import PaymentNotFound
from accessgate.domain.model.events import (
    AccessEvent,
    AccessExpired,
    AccessExtended,
    AccessRevoked,
    ExpiryReason,
    RevokeReason,
)
from accessgate.domain.model.order import Order
from accessgate.domain.model.payment_event import (
    FULFILLING_KINDS,
    EventOutcome,
    PaymentEvent,
    PaymentEventKind,
)
from accessgate.domain.model.status import AccessStatus, FulfillmentStatus, PaymentStatus
from accessgate.domain.usecases._event_record import record_first, settle_record
from accessgate.domain.usecases._lookup import order_of_event
from accessgate.ports.clock import Clock
from accessgate.ports.unit_of_work import UnitOfWorkFactory

K = PaymentEventKind
BILLING_KINDS = frozenset({K.SUBSCRIPTION_RENEWED, K.SUBSCRIPTION_PAYMENT_FAILED})
CHECKOUT_KINDS = frozenset({K.PAYMENT_FAILED, K.CHECKOUT_EXPIRED})


class ApplySubscriptionEvent:
    """Apply a renewal, failed payment, cancellation, expiry, refund or dispute.

    Rules:
        * Idempotent like FulfillPayment: each (provider, event id) applies once.
        * Renewed: access extends to the new period end (``valid_until`` only
          grows) and a failed payment status recovers to paid. A provider that
          names no period end extends access by one period of the plan (days or
          calendar months) from the later of its current end and the event.
        * Renewal payment failed: the order is past due (payment ``failed``);
          access is kept until the period end plus ``grace``.
        * Updated: ``cancel_at_period_end`` is recorded; access runs to the period end.
        * Expired (subscription deleted): access expires now.
        * Refunded: payment ``refunded`` and access revoked now; disputed: revoked now.
          Revocation is final, whenever it arrives.
        * Billing events (renewed, renewal failed) are ordered among themselves,
          lifecycle events (updated, expired) among themselves: an event older
          than the newest of its kind changes nothing but what only grows (the
          period end) and is reported STALE.
        * A checkout's asynchronous payment failed: payment and fulfilment ``failed``.
        * The event is recorded first (a duplicate stops before any lookup);
          an unknown order rolls the record back with everything else.
        * What changed the access is recorded as a domain event for the
          subscribers: ``AccessExtended`` (the end moved later, or expired
          access came back), ``AccessRevoked``, ``AccessExpired``.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        grace: timedelta,
        catalog: PlanCatalog | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._grace = grace
        self._catalog = catalog

    async def execute(self, event: PaymentEvent) -> EventOutcome:
        """Apply ``event``; raises PaymentNotFound for an unknown order."""
        if event.kind in FULFILLING_KINDS:
            raise ValueError("completion events go to FulfillPayment")
        now = self._clock.now()
        async with self._uow() as uow:
            record = await record_first(uow, event, now, EventOutcome.APPLIED)
            if record is None:
                return EventOutcome.DUPLICATE
            order = await order_of_event(uow, event)
            access = await uow.accesses.get(order.id, for_update=True)
            if access is None:
                raise PaymentNotFound("The order has no access record")
            if event.kind in CHECKOUT_KINDS:
                stale = False  # about the checkout itself, not the subscription's life
            elif event.kind in BILLING_KINDS:
                stale = access.is_stale_billing(event.occurred_at)
            else:
                stale = access.is_stale(event.occurred_at)
            new_order, new_access = self._apply(order, access, event, stale, now)
            outcome = EventOutcome.STALE if stale else EventOutcome.APPLIED
            new_order = new_order.with_provider_refs(
                now,
                customer_id=event.customer_id,
                subscription_id=event.subscription_id,
                payment_id=event.payment_id,
            )
            await uow.orders.update(new_order)
            if new_access != access:
                await uow.accesses.update(new_access)
                change = access_change(event, new_order, access, new_access, now)
                if change is not None:
                    uow.record(change)
            await settle_record(uow, record, order.id, outcome)
            await uow.commit()
        return outcome

    def _next_period_end(self, order: Order, access: Access, at: datetime) -> datetime | None:
        plan = None if self._catalog is None else self._catalog.find(order.plan)
        if plan is None or plan.period is None:
            return None
        start = at if access.valid_until is None else max(access.valid_until, at)
        return plan.period.after(start)

    def _apply(
        self, order: Order, access: Access, event: PaymentEvent, stale: bool, now: datetime
    ) -> tuple[Order, Access]:
        at = event.occurred_at
        kind = event.kind
        if kind is K.REFUNDED:
            return order.with_payment_status(PaymentStatus.REFUNDED, now), access.revoke(at, now)
        if kind is K.DISPUTED:
            return order, access.revoke(at, now)
        period_end = event.period_end
        if kind is K.SUBSCRIPTION_RENEWED and period_end is None:
            period_end = self._next_period_end(order, access, at)
        if kind is K.SUBSCRIPTION_RENEWED and period_end is not None:
            if not stale and order.payment_status is PaymentStatus.FAILED:
                order = order.with_payment_status(PaymentStatus.PAID, now)
            return order, access.renew(period_end, at, now)
        if stale:
            return order, access
        if kind is K.SUBSCRIPTION_PAYMENT_FAILED:
            if order.payment_status is PaymentStatus.PAID:
                order = order.with_payment_status(PaymentStatus.FAILED, now)
            return order, access.mark_past_due(self._grace, at, now)
        if kind is K.SUBSCRIPTION_UPDATED and event.cancel_at_period_end is not None:
            return order, access.set_cancel_at_period_end(event.cancel_at_period_end, at, now)
        if kind is K.SUBSCRIPTION_EXPIRED:
            return order, access.expire(at, now)
        if kind is K.PAYMENT_FAILED and order.payment_status is PaymentStatus.UNPAID:
            failed = order.with_payment_status(PaymentStatus.FAILED, now)
            return failed.with_fulfillment_status(FulfillmentStatus.FAILED, now), access
        return order, access


def access_change(
    event: PaymentEvent, order: Order, before: Access, after: Access, now: datetime
) -> AccessEvent | None:
    """The domain event of an access that went from ``before`` to ``after``, if any."""
    if after.status is AccessStatus.REVOKED:
        if before.status is AccessStatus.REVOKED:
            return None
        reason = RevokeReason.DISPUTED if event.kind is K.DISPUTED else RevokeReason.REFUNDED
        return AccessRevoked(at=now, order=order, access=after, reason=reason)
    if after.status is AccessStatus.EXPIRED and before.status is not AccessStatus.EXPIRED:
        return AccessExpired(
            at=now, order=order, access=after, reason=ExpiryReason.SUBSCRIPTION_ENDED
        )
    came_back = before.status is AccessStatus.EXPIRED and after.status is not AccessStatus.EXPIRED
    before_end, after_end = before.ends_at(), after.ends_at()
    later = before_end is not None and after_end is not None and after_end > before_end
    if came_back or (later and event.kind is K.SUBSCRIPTION_RENEWED):
        return AccessExtended(at=now, order=order, access=after, previous_ends_at=before_end)
    return None
