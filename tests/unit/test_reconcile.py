"""ReconcilePayments on memory storage: missed webhooks are caught, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway, WireEvent
from accessgate.container import Core, create_memory_container
from accessgate.domain.model.errors import ServiceUnavailable
from accessgate.domain.model.outbox import Channel
from accessgate.domain.model.payment_event import EventOutcome, PaymentEvent
from accessgate.domain.model.status import FulfillmentStatus, PaymentStatus
from accessgate.domain.usecases.reconcile_payments import ReconcilePayments, ReconcileSummary
from accessgate.domain.usecases.start_checkout import CheckoutStarted, StartCheckoutCommand
from accessgate.ports.payment_gateway import Capability
from tests.unit.conftest import SETTINGS

SECRET = b"webhook-secret"


class FailingPoll(MemoryPaymentGateway):
    """A memory gateway whose status poll is down (a provider outage)."""

    errors: list[Exception]

    async def fetch_checkout(self, session_id: str) -> PaymentEvent | None:
        raise self.errors.pop(0)


class World:
    """A memory container with a polling provider, one without polling, and a failing one."""

    def __init__(self) -> None:
        self.clock = SettableClock()
        self.polling = MemoryPaymentGateway(secret=SECRET, clock=self.clock, name="polling")
        self.plain = MemoryPaymentGateway(
            secret=SECRET,
            clock=self.clock,
            name="plain",
            capabilities={Capability.CUSTOMER_PORTAL},
        )
        self.down = FailingPoll(secret=SECRET, clock=self.clock, name="down")
        self.core: Core = create_memory_container(
            SETTINGS, clock=self.clock, gateways=[self.polling, self.plain, self.down]
        )

    async def buy(self, provider: str, email: str = "buyer@example.com") -> CheckoutStarted:
        command = StartCheckoutCommand(
            mode="one_time", plan="one_time_basic", email=email, locale="en", provider=provider
        )
        return await self.core.start_checkout().execute(command)

    async def deliver(self, event: WireEvent) -> list[EventOutcome]:
        """A signed webhook of the polling provider, verified and applied as the endpoint does."""
        delivery = self.polling.webhook(event)
        events = self.polling.verify_delivery(delivery.body, delivery.headers)
        outcomes: list[EventOutcome] = await self.core.handle_payment_events().execute(events)
        return outcomes

    def reconcile(self, batch_size: int = 100) -> ReconcilePayments:
        return ReconcilePayments(
            uow=self.core.uow(),
            providers=self.core.payments(),
            fulfill=self.core.fulfill_payment(),
            clock=self.clock,
            batch_size=batch_size,
        )

    def emails(self, order_id: str) -> int:
        store = self.core.uow().store
        return sum(
            1
            for m in store.tables.outbox.values()
            if m.channel == Channel.EMAIL and m.payload.get("order_id") == order_id
        )

    def snapshot(self) -> tuple[object, ...]:
        tables = self.core.uow().store.tables
        return (
            {k: (o.payment_status, o.fulfillment_status) for k, o in tables.orders.items()},
            dict(tables.accesses),
            dict(tables.tokens),
            dict(tables.outbox),
        )


@pytest.fixture
def world() -> World:
    return World()


async def test_a_missed_webhook_is_fulfilled_once_and_the_late_webhook_changes_nothing(
    world: World,
) -> None:
    missed = await world.buy("polling")
    waiting = await world.buy("polling", "other@example.com")
    world.polling.paid_sessions.add(missed.session_id)  # paid; the webhook never came

    first = await world.reconcile().execute(timedelta(hours=24))
    assert first == ReconcileSummary(asked=2, fulfilled=1, still_unpaid=1)
    async with world.core.uow()(read_only=True) as uow:
        order = await uow.orders.get(missed.order_id)
        other = await uow.orders.get(waiting.order_id)
    assert order is not None
    assert other is not None
    assert (order.payment_status, order.fulfillment_status) == (
        PaymentStatus.PAID,
        FulfillmentStatus.FULFILLED,
    )
    assert other.payment_status is PaymentStatus.UNPAID
    assert world.emails(missed.order_id) == 1
    before = world.snapshot()

    # The late webhook: under the poll's event id it is a duplicate; under another
    # event id it finds the order fulfilled. Either way nothing more happens.
    same_id = world.polling.completion(missed.session_id, event_id=f"fetch_{missed.session_id}")
    assert await world.deliver(same_id) == [EventOutcome.DUPLICATE]
    own_id = world.polling.completion(missed.session_id)
    assert await world.deliver(own_id) == [EventOutcome.ALREADY_FULFILLED]
    assert await world.deliver(own_id) == [EventOutcome.DUPLICATE]
    assert world.emails(missed.order_id) == 1

    second = await world.reconcile().execute(timedelta(hours=24))
    assert second == ReconcileSummary(asked=1, still_unpaid=1)
    assert world.snapshot() == before


async def test_providers_without_polling_are_skipped_and_errors_do_not_stop_the_run(
    world: World,
) -> None:
    plain = await world.buy("plain")
    down = await world.buy("down")
    broken = await world.buy("down", "broken@example.com")
    # An outage, then a plug-in bug that escapes as a plain exception: both only fail their order.
    world.down.errors = [ServiceUnavailable("the provider is down"), RuntimeError("bug")]
    paid = await world.buy("polling")
    world.polling.paid_sessions.add(paid.session_id)
    world.plain.paid_sessions.add(plain.session_id)  # paid, but plain cannot be asked

    summary = await world.reconcile().execute(timedelta(hours=1))
    assert summary == ReconcileSummary(asked=3, fulfilled=1, failed=2, skipped=1)
    assert world.down.errors == []
    assert "session" not in summary.line()
    assert plain.session_id not in summary.line()
    assert world.emails(paid.order_id) == 1
    assert world.emails(plain.order_id) == world.emails(down.order_id) == 0
    assert world.emails(broken.order_id) == 0


async def test_only_the_window_counts_and_batches_cover_every_order(world: World) -> None:
    old = await world.buy("polling", "old@example.com")
    world.clock.advance(timedelta(hours=3))
    recent = [await world.buy("polling", f"b{i}@example.com") for i in range(5)]
    world.clock.advance(timedelta(minutes=1))
    for started in (old, *recent):
        world.polling.paid_sessions.add(started.session_id)

    summary = await world.reconcile(batch_size=2).execute(timedelta(minutes=30))
    assert summary == ReconcileSummary(asked=5, fulfilled=5)
    assert all(world.emails(s.order_id) == 1 for s in recent)
    assert world.emails(old.order_id) == 0  # outside the window: not asked

    summary = await world.reconcile(batch_size=2).execute(timedelta(hours=4))
    assert summary == ReconcileSummary(asked=1, fulfilled=1)
    assert world.emails(old.order_id) == 1


async def test_window_and_batch_size_must_be_positive(world: World) -> None:
    with pytest.raises(ValueError, match="window"):
        await world.reconcile().execute(timedelta(0))
    with pytest.raises(ValueError, match="batch_size"):
        world.reconcile(batch_size=0)


async def test_the_container_wires_reconcile(world: World) -> None:
    started = await world.buy("polling")
    world.polling.paid_sessions.add(started.session_id)
    summary = await world.core.reconcile_payments().execute(timedelta(hours=24))
    assert summary.fulfilled == 1
