"""Issue 13: domain events, subscribers in the same transaction, the expiry job, access targets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from accessgate.adapters.memory.access_target import RecordingAccessTarget
from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway, WireEvent
from accessgate.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from accessgate.container import create_memory_container
from accessgate.domain.model.errors import PaymentNotFound
from accessgate.domain.model.events import (
    AccessEvent,
    AccessExpired,
    AccessGranted,
    DomainEvent,
    OrderPaid,
)
from accessgate.domain.model.order import Order
from accessgate.domain.model.outbox import Channel, OutboxMessage, OutboxStatus
from accessgate.domain.model.payment_event import EventOutcome, PaymentEventKind
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.values import Locale, Mode, Money, PlanCode
from accessgate.domain.usecases.activate_access import ActivateAccessCommand
from accessgate.domain.usecases.fulfill_payment import FulfillPayment
from accessgate.ports.access_target import AccessChangeType
from accessgate.ports.unit_of_work import Subscribers, UnitOfWork
from tests.unit.conftest import SETTINGS, App
from tests.unit.recording_uow import RecordingUnitOfWorkFactory

K = PaymentEventKind
DAY = 86_400


@pytest.fixture
def shop() -> tuple[App, RecordingAccessTarget]:
    """The unit-test app with a recording access target on the webhook's channel."""
    clock = SettableClock()
    gateway = MemoryPaymentGateway(secret=b"webhook-secret", clock=clock)
    target = RecordingAccessTarget()
    core = create_memory_container(
        SETTINGS, clock=clock, gateway=gateway, targets={"access_webhook": target}
    )
    return App(core=core, clock=clock, gateway=gateway), target


def recorded_fulfil(app: App) -> tuple[FulfillPayment, RecordingUnitOfWorkFactory]:
    recording = RecordingUnitOfWorkFactory(app.core.uow())
    fulfil = FulfillPayment(
        uow=recording,  # type: ignore[arg-type]
        clock=app.clock,
        tokens=app.core.tokens(),
        codec=app.core.codec(),
        catalog=app.core.catalog(),
        credentials=app.core.credentials(),
    )
    return fulfil, recording


def verified(app: App, event: WireEvent) -> list[object]:
    delivery = app.gateway.webhook(event)
    return list(app.gateway.verify_delivery(delivery.body, delivery.headers))


def channels_of(app: App) -> list[str]:
    return sorted(str(m.channel) for m in app.store.tables.outbox.values())


async def test_fulfilment_records_events_and_the_subscribers_write_in_its_commit(
    app: App,
) -> None:
    started = await app.checkout()
    fulfil, recording = recorded_fulfil(app)
    commits = app.store.commits
    [event] = verified(app, app.gateway.completion(started.session_id))
    assert await fulfil.execute(event) == EventOutcome.FULFILLED  # type: ignore[arg-type]
    calls = recording.calls
    assert calls[:2] == ["begin", "payment_events.add"]  # the event record comes first
    # The record was written with the order the event names and the outcome
    # expected: it needs no second statement when that is what happened.
    assert calls[-4:] == ["record.OrderPaid", "record.AccessGranted", "commit", "end"]
    assert "payment_events.update" not in calls
    assert not any(c.startswith("outbox.") for c in calls)  # the use case writes no message
    assert app.store.commits == commits + 1  # one transaction: state and messages together
    assert channels_of(app) == ["email", "mobislon"]
    keys = {m.dedupe_key for m in app.store.tables.outbox.values()}
    assert f"email:access:{started.order_id}" in keys  # dedupe keys keep their format
    record = app.store.tables.payment_events[(event.provider, event.event_id)]  # type: ignore[attr-defined]
    assert record.order_id == started.order_id
    assert record.outcome is EventOutcome.FULFILLED


async def test_a_duplicate_delivery_stops_at_the_event_record(app: App) -> None:
    started = await app.checkout()
    [event] = verified(app, app.gateway.completion(started.session_id, event_id="evt_dup"))
    fulfil, recording = recorded_fulfil(app)
    assert await fulfil.execute(event) == EventOutcome.FULFILLED  # type: ignore[arg-type]
    recording.calls.clear()
    assert await fulfil.execute(event) == EventOutcome.DUPLICATE  # type: ignore[arg-type]
    assert recording.calls == ["begin", "payment_events.add", "end"]  # no lookup, no lock
    assert channels_of(app) == ["email", "mobislon"]


async def test_an_event_for_no_order_rolls_its_record_back(app: App) -> None:
    fulfil, recording = recorded_fulfil(app)
    [event] = verified(
        app, WireEvent(id="evt_none", type=K.CHECKOUT_COMPLETED, created=0, session_id="cs_x")
    )
    with pytest.raises(PaymentNotFound):
        await fulfil.execute(event)  # type: ignore[arg-type]
    assert recording.calls[:2] == ["begin", "payment_events.add"]
    assert "commit" not in recording.calls
    assert app.store.tables.payment_events == {}


class _Spy:
    def __init__(self, fail: bool = False) -> None:
        self.heard: list[DomainEvent] = []
        self.fail = fail

    async def __call__(self, uow: UnitOfWork, event: DomainEvent) -> Sequence[OutboxMessage]:
        self.heard.append(event)
        if self.fail:
            raise RuntimeError("subscriber failed")
        return [
            OutboxMessage(
                id=f"msg_spy_{len(self.heard)}",
                channel=Channel.EMAIL,
                dedupe_key=f"spy:{len(self.heard)}",
                payload={},
                created_at=event.at,
                next_attempt_at=event.at,
                max_attempts=3,
            )
        ]


def _paid(at: datetime) -> OrderPaid:
    order = Order(
        id="o",
        mode=Mode.ONE_TIME,
        plan=PlanCode.ONE_TIME_BASIC,
        email="a@example.com",
        locale=Locale.EN,
        provider="memory",
        provider_session_id="s",
        amount=Money.of(1900, "USD"),
        created_at=at,
        updated_at=at,
    )
    return OrderPaid(at=at, order=order)


async def test_rollback_and_leaving_without_commit_drop_recorded_events() -> None:
    spy = _Spy()
    subscribers = Subscribers()
    subscribers.on(DomainEvent, spy)
    factory = MemoryUnitOfWorkFactory(subscribers=subscribers)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    async with factory() as uow:
        uow.record(_paid(now))
        await uow.rollback()
        await uow.commit()
    async with factory() as uow:
        uow.record(_paid(now))  # never committed
    assert spy.heard == []
    assert factory.store.tables.outbox == {}
    async with factory() as uow:
        uow.record(_paid(now))
        await uow.commit()
    assert len(spy.heard) == 1
    assert list(factory.store.tables.outbox) == ["msg_spy_1"]


async def test_a_failing_subscriber_keeps_the_change_from_committing() -> None:
    subscribers = Subscribers()
    subscribers.on(OrderPaid, _Spy(fail=True))
    factory = MemoryUnitOfWorkFactory(subscribers=subscribers)
    event = _paid(datetime(2026, 1, 1, tzinfo=UTC))
    async with factory() as uow:
        await uow.orders.add(event.order)
        uow.record(event)
        with pytest.raises(RuntimeError):
            await uow.commit()
    assert factory.store.tables.orders == {}
    assert factory.store.commits == 0


async def test_a_subscriber_hears_the_subclasses_of_its_type() -> None:
    base, exact = _Spy(), _Spy()
    subscribers = Subscribers()
    subscribers.on(AccessEvent, base)
    subscribers.on(AccessGranted, exact)
    assert subscribers.of(AccessExpired) == (base,)
    assert subscribers.of(AccessGranted) == (base, exact)
    assert subscribers.of(OrderPaid) == ()


async def subscribed(app: App) -> tuple[str, int]:
    started = await app.checkout(plan="sub_monthly")
    event = app.gateway.completion(started.session_id)
    event.subscription_id = "sub_1"
    event.period_end = event.created + 30 * DAY
    await app.deliver(event)
    status = await app.core.session_status().execute(started.session_id)
    assert status.activation_link
    await app.core.activate_access().execute(
        ActivateAccessCommand(
            activation_token=app.link_token(status.activation_link), telegram_user_id=9
        )
    )
    return started.order_id, event.created


async def test_access_changes_reach_the_target_once_each(
    shop: tuple[App, RecordingAccessTarget],
) -> None:
    app, target = shop
    order_id, start = await subscribed(app)
    await app.deliver(app.gateway.completion(app.store.tables.orders[order_id].provider_session_id))
    renewal = WireEvent(
        id="in_1",
        type=K.SUBSCRIPTION_RENEWED,
        created=start + 30 * DAY,
        subscription_id="sub_1",
        period_end=start + 60 * DAY,
    )
    await app.deliver(renewal)
    await app.deliver(renewal)  # a duplicate changes nothing
    refund = WireEvent(
        id="re_1", type=K.REFUNDED, created=start + 31 * DAY, subscription_id="sub_1"
    )
    await app.deliver(refund)
    await app.core.deliver_outbox().execute()
    types = [c.type for c in target.applied]
    assert types == [
        AccessChangeType.GRANTED,
        AccessChangeType.ACTIVATED,
        AccessChangeType.EXTENDED,
        AccessChangeType.REVOKED,
    ]
    assert len({c.id for c in target.applied}) == 4
    granted, activated, extended, revoked = target.applied
    assert granted.telegram_user_id is None
    assert activated.telegram_user_id == 9
    assert extended.valid_until == datetime.fromtimestamp(start + 60 * DAY, UTC)
    assert revoked.reason == "refunded"
    assert revoked.status == "revoked"
    assert granted.plan == "sub_monthly"
    assert granted.order_id == order_id


async def test_the_expiry_job_expires_lapsed_access_once_and_a_renewal_brings_it_back(
    shop: tuple[App, RecordingAccessTarget],
) -> None:
    app, target = shop
    order_id, start = await subscribed(app)
    expire = app.core.expire_accesses()
    assert await expire.execute() == 0  # still running
    app.clock.advance(timedelta(days=31))
    assert await expire.execute() == 1
    assert await expire.execute() == 0  # once
    assert app.store.tables.accesses[order_id].status is AccessStatus.EXPIRED
    await app.core.deliver_outbox().execute()
    assert [c.type for c in target.applied][-1] is AccessChangeType.EXPIRED
    assert target.applied[-1].reason == "period_ended"
    late_renewal = WireEvent(
        id="in_late",
        type=K.SUBSCRIPTION_RENEWED,
        created=start + 30 * DAY,
        subscription_id="sub_1",
        period_end=start + 60 * DAY,
    )
    assert await app.deliver(late_renewal) == [EventOutcome.APPLIED]
    assert app.store.tables.accesses[order_id].status is AccessStatus.ACTIVE
    await app.core.deliver_outbox().execute()
    assert [c.type for c in target.applied].count(AccessChangeType.EXPIRED) == 1
    assert target.applied[-1].type is AccessChangeType.EXTENDED


async def test_a_failing_target_is_retried_by_the_outbox(
    shop: tuple[App, RecordingAccessTarget],
) -> None:
    from accessgate.domain.model.errors import DeliveryFailed

    app, target = shop
    started = await app.checkout()
    await app.pay(started.session_id)
    target.fail_with = DeliveryFailed("receiver down", retryable=True)
    report = await app.core.deliver_outbox().execute()
    assert report.retrying == 1  # the webhook (the email went out)
    [message] = [
        m for m in app.store.tables.outbox.values() if m.channel == "target:access_webhook"
    ]
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 1
    target.fail_with = None
    app.clock.advance(timedelta(hours=2))
    await app.core.deliver_outbox().execute()
    assert [c.id for c in target.applied] == [message.id]
