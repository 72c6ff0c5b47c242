from datetime import UTC, datetime, timedelta
from random import Random

from accessgate.adapters.memory.payment_gateway import WireEvent
from accessgate.domain.model.payment_event import EventOutcome, PaymentEventKind
from accessgate.domain.model.status import AccessStatus, PaymentStatus
from accessgate.domain.usecases.activate_access import ActivateAccessCommand
from tests.unit.conftest import App

K = PaymentEventKind
DAY = 86_400


def ts(dt: datetime) -> int:
    return int(dt.timestamp())


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


def sub_event(event_id: str, kind: K, created: int, **fields: object) -> WireEvent:
    return WireEvent(id=event_id, type=kind, created=created, subscription_id="sub_1", **fields)  # type: ignore[arg-type]


async def test_access_is_valid_until_the_period_end(app: App) -> None:
    order_id, start = await subscribed(app)
    access = app.store.tables.accesses[order_id]
    assert access.valid_until == datetime.fromtimestamp(start + 30 * DAY, UTC)
    app.clock.advance(timedelta(days=30))
    assert (await app.core.access_status().execute(9)).access_status is AccessStatus.EXPIRED


async def test_renewal_extends_access(app: App) -> None:
    _order_id, start = await subscribed(app)
    await app.deliver(
        sub_event("in_1", K.SUBSCRIPTION_RENEWED, start + 30 * DAY, period_end=start + 60 * DAY)
    )
    app.clock.advance(timedelta(days=45))
    view = await app.core.access_status().execute(9)
    assert view.is_paid
    assert view.access_status is AccessStatus.ACTIVE


async def test_failed_renewal_keeps_access_through_the_grace(app: App) -> None:
    order_id, start = await subscribed(app)
    await app.deliver(sub_event("in_f", K.SUBSCRIPTION_PAYMENT_FAILED, start + 30 * DAY))
    assert app.store.tables.orders[order_id].payment_status is PaymentStatus.FAILED
    app.clock.advance(timedelta(days=32))
    assert (await app.core.access_status().execute(9)).is_paid  # 3 days of grace
    app.clock.advance(timedelta(days=2))
    assert not (await app.core.access_status().execute(9)).is_paid


async def test_cancellation_expires_at_period_end(app: App) -> None:
    order_id, start = await subscribed(app)
    await app.deliver(
        sub_event("su_1", K.SUBSCRIPTION_UPDATED, start + DAY, cancel_at_period_end=True)
    )
    assert app.store.tables.accesses[order_id].cancel_at_period_end
    app.clock.advance(timedelta(days=29))
    assert (await app.core.access_status().execute(9)).is_paid
    app.clock.advance(timedelta(days=1))
    assert not (await app.core.access_status().execute(9)).is_paid
    await app.deliver(sub_event("su_del", K.SUBSCRIPTION_EXPIRED, start + 30 * DAY))
    assert app.store.tables.accesses[order_id].status is AccessStatus.EXPIRED


async def test_refund_and_dispute_revoke_now(app: App) -> None:
    order_id, start = await subscribed(app)
    await app.deliver(sub_event("ch_r", K.REFUNDED, start + DAY))
    assert app.store.tables.accesses[order_id].status is AccessStatus.REVOKED
    assert app.store.tables.orders[order_id].payment_status is PaymentStatus.REFUNDED
    # a late renewal does not bring a revoked access back
    await app.deliver(
        sub_event("in_late", K.SUBSCRIPTION_RENEWED, start + 2 * DAY, period_end=start + 60 * DAY)
    )
    assert not (await app.core.access_status().execute(9)).is_paid


async def test_dispute_revokes(app: App) -> None:
    order_id, start = await subscribed(app)
    await app.deliver(sub_event("dp_1", K.DISPUTED, start + DAY))
    assert app.store.tables.accesses[order_id].status is AccessStatus.REVOKED


async def test_a_late_older_event_never_overwrites_newer_state(app: App) -> None:
    order_id, start = await subscribed(app)
    await app.deliver(
        sub_event("in_ok", K.SUBSCRIPTION_RENEWED, start + 31 * DAY, period_end=start + 60 * DAY)
    )
    outcome = await app.deliver(
        sub_event("in_old_fail", K.SUBSCRIPTION_PAYMENT_FAILED, start + 30 * DAY)
    )
    assert outcome == [EventOutcome.STALE]
    assert app.store.tables.orders[order_id].payment_status is PaymentStatus.PAID
    assert app.store.tables.accesses[order_id].grace_until is None


async def test_any_delivery_order_gives_the_same_final_state(app: App) -> None:
    def life(start: int) -> list[WireEvent]:
        return [
            sub_event("r1", K.SUBSCRIPTION_RENEWED, start + 30 * DAY, period_end=start + 60 * DAY),
            sub_event("r2", K.SUBSCRIPTION_RENEWED, start + 60 * DAY, period_end=start + 90 * DAY),
            sub_event("f1", K.SUBSCRIPTION_PAYMENT_FAILED, start + 90 * DAY),
            sub_event("r3", K.SUBSCRIPTION_RENEWED, start + 91 * DAY, period_end=start + 120 * DAY),
            sub_event("c1", K.SUBSCRIPTION_UPDATED, start + 100 * DAY, cancel_at_period_end=True),
            sub_event("d1", K.SUBSCRIPTION_EXPIRED, start + 120 * DAY),
        ]

    async def final_state(app: App, shuffle: int | None) -> tuple[object, ...]:
        order_id, start = await subscribed(app)
        events = life(start)
        if shuffle is not None:
            Random(shuffle).shuffle(events)
            events += events[:3]  # duplicates too
        for event in events:
            await app.deliver(event)
        access = app.store.tables.accesses[order_id]
        order = app.store.tables.orders[order_id]
        return (
            access.status,
            access.valid_until - datetime.fromtimestamp(start, UTC),  # type: ignore[operator]
            access.cancel_at_period_end,
            order.payment_status,
        )

    from accessgate.adapters.memory.clock import SettableClock
    from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
    from accessgate.container import create_memory_container
    from tests.unit.conftest import SETTINGS

    def fresh() -> App:
        clock = SettableClock()
        gateway = MemoryPaymentGateway(secret=b"s" * 16, clock=clock)
        return App(
            core=create_memory_container(SETTINGS, clock=clock, gateway=gateway),
            clock=clock,
            gateway=gateway,
        )

    in_order = await final_state(fresh(), None)
    assert in_order[0] is AccessStatus.EXPIRED
    assert in_order[1] == timedelta(days=120)
    for seed in range(8):
        assert await final_state(fresh(), seed) == in_order
