"""The gauges of /metrics and /health read from storage (memory, SQLite, PostgreSQL alike)."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from accessgate.adapters.memory.clock import SettableClock
from accessgate.domain.model.outbox import Channel, OutboxStatus
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.usecases.read_gauges import ReadGauges
from accessgate.ports.unit_of_work import UnitOfWorkFactory
from tests.storage import helpers as h

NOW = h.T0 + timedelta(days=31)  # past every period of h.access, inside its grace


async def _seed(factory: UnitOfWorkFactory) -> None:
    access = h.access
    replace = msgspec.structs.replace
    accesses = [
        access("ord_1"),  # pending: not yet issued
        replace(access("ord_2"), status=AccessStatus.TOKEN_ISSUED),  # in its grace
        replace(access("ord_3"), status=AccessStatus.ACTIVE, grace_until=None),  # lapsed
        replace(
            access("ord_4"), status=AccessStatus.ACTIVE, valid_until=None, grace_until=None
        ),  # no end
        replace(access("ord_5"), status=AccessStatus.REVOKED),
        replace(access("ord_6"), status=AccessStatus.ACTIVE, valid_until=NOW + timedelta(1)),
    ]
    messages = [
        h.message(1),
        h.message(2),
        h.message(3, channel=Channel.EMAIL),
        replace(h.message(4, channel=Channel.META), status=OutboxStatus.FAILED),
        replace(h.message(5), status=OutboxStatus.DELIVERED, delivered_at=h.T0),
        replace(h.message(6, channel=Channel.EMAIL), status=OutboxStatus.DISCARDED),
    ]
    async with factory() as uow:
        for n, item in enumerate(accesses, start=1):
            await uow.orders.add(h.order(n))
            await uow.accesses.add(item)
        for message in messages:
            await uow.outbox.add(message)
        await uow.commit()


async def test_gauges_count_accesses_in_effect_and_open_outbox(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _seed(uow_factory)
    gauges = await ReadGauges(uow=uow_factory, clock=SettableClock(NOW)).execute()
    assert gauges.active_subscriptions == 3  # ord_2 (grace), ord_4 (no end), ord_6
    assert gauges.outbox_backlog == {"mobislon": 2, "email": 1}
    assert gauges.outbox_failed == {"meta": 1}
    assert gauges.backlog == 3
    later = await ReadGauges(uow=uow_factory, clock=SettableClock(NOW + timedelta(5))).execute()
    assert later.active_subscriptions == 1  # only the access without an end


async def test_gauges_of_an_empty_storage(uow_factory: UnitOfWorkFactory) -> None:
    gauges = await ReadGauges(uow=uow_factory, clock=SettableClock(NOW)).execute()
    assert gauges == type(gauges)(active_subscriptions=0, outbox_backlog={}, outbox_failed={})
