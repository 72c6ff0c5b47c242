"""What the group-commit tests of both databases check the same way."""

from __future__ import annotations

import asyncio
from collections import Counter

import msgspec

from accessgate.domain.model.errors import InvalidAmount, PaymentNotFound
from accessgate.domain.model.outbox import Channel
from accessgate.domain.model.payment_event import EventOutcome, PaymentEvent
from accessgate.domain.model.status import FulfillmentStatus, PaymentStatus
from accessgate.domain.model.values import Money
from accessgate.ports.unit_of_work import UnitOfWorkFactory
from tests.storage.world import World


async def paid_events(world: World, factory: UnitOfWorkFactory, count: int) -> list[PaymentEvent]:
    """``count`` new orders and the verified events of their payments."""
    return [await world.paid_event(factory) for _ in range(count)]


async def assert_each_fulfilled_once(
    factory: UnitOfWorkFactory, events: list[PaymentEvent]
) -> None:
    """Every event's order fulfilled, with a token, its record, one email and one Meta event."""
    async with factory(read_only=True) as uow:
        for event in events:
            order = await uow.orders.get(event.order_id or "")
            assert order is not None
            assert order.fulfillment_status is FulfillmentStatus.FULFILLED
            assert await uow.tokens.get_current(order.id) is not None
            record = await uow.payment_events.get(event.provider, event.event_id)
            assert record is not None
            assert record.outcome is EventOutcome.FULFILLED
        messages = Counter(m.channel for m in await uow.outbox.list(limit=1000))
        # one email and one Meta purchase per order (the MobiSlon postback is per click id)
        assert messages[Channel.EMAIL] == messages[Channel.META] == len(events)


async def fulfil_ten_with_two_failing(world: World, factory: UnitOfWorkFactory) -> None:
    """Ten good events and, among them, one of another amount and one of an unknown order.

    The ten fulfil; the two fail with their own errors and leave no record, so
    the corrected delivery applies afterwards.
    """
    good = await paid_events(world, factory, 10)
    [wrong] = await paid_events(world, factory, 1)
    wrong = msgspec.structs.replace(wrong, amount=Money(amount=1, currency="USD"))
    unknown = msgspec.structs.replace(
        good[0], event_id="evt_unknown", order_id="ord_unknown", session_id="cs_unknown"
    )
    fulfil = world.fulfil(factory)
    results = await asyncio.gather(
        *(fulfil.execute(e) for e in [*good[:5], wrong, unknown, *good[5:]]),
        return_exceptions=True,
    )
    assert isinstance(results[5], InvalidAmount)
    assert isinstance(results[6], PaymentNotFound)
    assert [r for i, r in enumerate(results) if i not in (5, 6)] == [EventOutcome.FULFILLED] * 10
    async with factory(read_only=True) as uow:
        assert await uow.payment_events.get(wrong.provider, wrong.event_id) is None
        assert await uow.payment_events.get(unknown.provider, unknown.event_id) is None
        order = await uow.orders.get(wrong.order_id or "")
        assert order is not None
        assert order.payment_status is PaymentStatus.UNPAID
        for event in good:
            paid = await uow.orders.get(event.order_id or "")
            assert paid is not None
            assert paid.payment_status is PaymentStatus.PAID
    right = msgspec.structs.replace(wrong, amount=None)
    assert await fulfil.execute(right) is EventOutcome.FULFILLED
