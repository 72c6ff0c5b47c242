"""ReconcilePayments: ask the providers about unpaid orders, for webhooks that never came."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from accessgate.domain.model.errors import CapabilityNotSupported, DomainError
from accessgate.domain.model.order import Order
from accessgate.domain.model.payment_event import FULFILLING_KINDS, EventOutcome
from accessgate.domain.model.status import PaymentStatus
from accessgate.domain.usecases.fulfill_payment import FulfillPayment
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import Capability, status_poll
from accessgate.ports.payment_providers import PaymentProviders
from accessgate.ports.unit_of_work import UnitOfWorkFactory

DEFAULT_WINDOW = timedelta(hours=24)
DEFAULT_BATCH_SIZE = 100
ASKED = ("fulfilled", "unchanged", "still_unpaid", "failed")


class ReconcileSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What one reconcile run did, counted per order (no ids).

    ``asked`` = ``fulfilled`` + ``unchanged`` + ``still_unpaid`` + ``failed``;
    ``skipped`` orders were not asked (their provider is not live or has no
    status poll).
    """

    asked: int = 0
    fulfilled: int = 0
    unchanged: int = 0
    still_unpaid: int = 0
    failed: int = 0
    skipped: int = 0

    def line(self) -> str:
        """One line for a log or a terminal."""
        return (
            f"reconcile: asked {self.asked}, fulfilled {self.fulfilled}, "
            f"still unpaid {self.still_unpaid}, failed {self.failed}, "
            f"unchanged {self.unchanged}, skipped {self.skipped} (no status poll)"
        )


class ReconcilePayments:
    """Catch missed webhooks: poll the provider of every recent unpaid order.

    Rules:
        * The orders read are those still ``unpaid`` and created within
          ``window`` of now, oldest first, in batches of ``batch_size`` (each
          batch one read-only unit of work; no transaction stays open while a
          provider is asked).
        * Each is asked of its own provider, only when that provider is live
          and declares ``status_poll``; any other order is skipped (counted).
        * What the provider reports is applied exactly as the success page's
          dual fulfilment does: a completion goes to FulfillPayment, which
          records it under (provider, event id) first. A second run, a
          concurrent success page or a later webhook changes nothing more: the
          event is a duplicate, or the order is already fulfilled.
        * A provider error (unreachable, refused, or anything else its poll
          raises) or an event that does not apply (another amount, an unknown
          order) counts as ``failed`` and the run goes on with the next order.
        * Nothing here names a checkout session (no session id in the summary).
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        providers: PaymentProviders,
        fulfill: FulfillPayment,
        clock: Clock,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        self._uow = uow
        self._providers = providers
        self._fulfill = fulfill
        self._clock = clock
        self._batch_size = batch_size

    async def execute(self, window: timedelta = DEFAULT_WINDOW) -> ReconcileSummary:
        """Reconcile the unpaid orders created within ``window``; the counts."""
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        since = self._clock.now() - window
        counts = {f.name: 0 for f in msgspec.structs.fields(ReconcileSummary)}
        after: tuple[datetime, str] | None = None
        while True:
            async with self._uow(read_only=True) as uow:
                batch = await uow.orders.list_unpaid_since(since, self._batch_size, after)
            for order in batch:
                counts[await self._reconcile(order)] += 1
            if len(batch) < self._batch_size:
                break
            after = (batch[-1].created_at, batch[-1].id)
        counts["asked"] = sum(counts[name] for name in ASKED)
        return ReconcileSummary(**counts)

    async def _reconcile(self, order: Order) -> str:
        """Ask about one order; the name of the count it falls in."""
        if order.payment_status is not PaymentStatus.UNPAID:
            return "unchanged"
        gateway = self._providers.find(order.provider)
        if gateway is None or Capability.STATUS_POLL not in gateway.capabilities:
            return "skipped"
        try:
            poll = status_poll(gateway)
        except CapabilityNotSupported:
            return "skipped"
        try:
            event = await poll.fetch_checkout(order.provider_session_id)
        except Exception:  # any failure of the provider: this order failed, go on
            return "failed"
        if event is None or event.kind not in FULFILLING_KINDS:
            return "still_unpaid"
        try:
            outcome = await self._fulfill.execute(event)
        except DomainError:
            return "failed"
        if outcome is EventOutcome.FULFILLED:
            return "fulfilled"
        if outcome is EventOutcome.AWAITING_PAYMENT:
            return "still_unpaid"
        return "unchanged"
