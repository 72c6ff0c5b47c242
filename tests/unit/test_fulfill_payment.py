import hashlib

import pytest

from accessgate.adapters.memory.payment_gateway import WireEvent
from accessgate.domain.model.errors import InvalidAmount, PaymentNotFound
from accessgate.domain.model.outbox import Channel
from accessgate.domain.model.payment_event import EventOutcome, PaymentEventKind
from accessgate.domain.model.status import AccessStatus, FulfillmentStatus, PaymentStatus
from tests.unit.conftest import App


async def test_same_event_twice_fulfils_once(app: App) -> None:
    started = await app.checkout()
    event = app.gateway.completion(started.session_id, event_id="evt_1")
    assert await app.deliver(event) == [EventOutcome.FULFILLED]
    assert await app.deliver(event) == [EventOutcome.DUPLICATE]
    tables = app.store.tables
    assert len(tables.tokens) == 1
    assert len(tables.payment_events) == 1
    assert sorted(m.channel for m in tables.outbox.values()) == [Channel.EMAIL, Channel.MOBISLON]


async def test_two_events_for_one_order_fulfil_once(app: App) -> None:
    started = await app.checkout()
    completed = app.gateway.completion(started.session_id, event_id="evt_completed")
    succeeded = WireEvent(
        id="evt_async",
        type=PaymentEventKind.PAYMENT_SUCCEEDED,
        created=completed.created,
        session_id=started.session_id,
        amount=completed.amount,
        currency=completed.currency,
    )
    assert await app.deliver(completed) == [EventOutcome.FULFILLED]
    assert await app.deliver(succeeded) == [EventOutcome.ALREADY_FULFILLED]
    assert len(app.store.tables.tokens) == 1
    assert len(app.store.tables.outbox) == 2


async def test_unknown_session_is_payment_not_found(app: App) -> None:
    event = WireEvent(
        id="evt_x", type=PaymentEventKind.CHECKOUT_COMPLETED, created=0, session_id="cs_nope"
    )
    with pytest.raises(PaymentNotFound):
        await app.deliver(event)
    assert app.store.tables.payment_events == {}


@pytest.mark.parametrize(("amount", "currency"), [(1, "USD"), (1900, "EUR")])
async def test_other_amount_or_currency_is_invalid_and_fulfils_nothing(
    app: App, amount: int, currency: str
) -> None:
    started = await app.checkout()
    event = app.gateway.completion(started.session_id)
    event.amount, event.currency = amount, currency
    with pytest.raises(InvalidAmount):
        await app.deliver(event)
    order = app.store.tables.orders[started.order_id]
    assert order.payment_status is PaymentStatus.UNPAID
    assert order.fulfillment_status is FulfillmentStatus.PENDING
    assert app.store.tables.tokens == {}
    assert app.store.tables.outbox == {}


async def test_completed_but_unpaid_session_waits_for_the_money(app: App) -> None:
    started = await app.checkout()
    unpaid = app.gateway.completion(started.session_id, paid=False)
    assert await app.deliver(unpaid) == [EventOutcome.AWAITING_PAYMENT]
    assert app.store.tables.orders[started.order_id].payment_status is PaymentStatus.UNPAID
    assert app.store.tables.accesses[started.order_id].status is AccessStatus.PENDING
    assert app.store.tables.tokens == {}
    succeeded = WireEvent(
        id="evt_async_ok",
        type=PaymentEventKind.PAYMENT_SUCCEEDED,
        created=unpaid.created,
        session_id=started.session_id,
    )
    assert await app.deliver(succeeded) == [EventOutcome.FULFILLED]
    assert app.store.tables.accesses[started.order_id].status is AccessStatus.TOKEN_ISSUED


async def test_async_payment_failure_marks_the_order_failed(app: App) -> None:
    started = await app.checkout()
    unpaid = app.gateway.completion(started.session_id, paid=False)
    await app.deliver(unpaid)
    failed = WireEvent(
        id="evt_fail",
        type=PaymentEventKind.PAYMENT_FAILED,
        created=unpaid.created,
        session_id=started.session_id,
    )
    assert await app.deliver(failed) == [EventOutcome.APPLIED]
    order = app.store.tables.orders[started.order_id]
    assert (order.payment_status, order.fulfillment_status) == (
        PaymentStatus.FAILED,
        FulfillmentStatus.FAILED,
    )


async def test_no_clickid_no_postback(app: App) -> None:
    started = await app.checkout(clickid=None)
    await app.pay(started.session_id)
    assert [m.channel for m in app.store.tables.outbox.values()] == [Channel.EMAIL]


async def test_postback_payload_uses_the_order_clickid(app: App) -> None:
    started = await app.checkout(clickid="abc")
    await app.pay(started.session_id)
    postback = next(m for m in app.store.tables.outbox.values() if m.channel is Channel.MOBISLON)
    assert postback.payload["clickid"] == "abc"
    assert postback.payload["status"] == "pay_success"
    # The clickid enters the key hashed: bounded whatever the buyer sent.
    assert postback.dedupe_key == f"mobislon:{hashlib.sha256(b'abc').hexdigest()}:pay_success"


async def test_a_failed_fulfilment_writes_nothing(app: App) -> None:
    """The unit of work rolls back: no event record, no outbox, no token."""
    started = await app.checkout()
    del app.store.tables.accesses[started.order_id]
    with pytest.raises(PaymentNotFound):
        await app.pay(started.session_id)
    assert app.store.tables.payment_events == {}
    assert app.store.tables.outbox == {}


async def test_a_decline_in_the_second_of_the_checkout_is_applied(app: App) -> None:
    app.clock.set(app.clock.now().replace(microsecond=900_000))
    started = await app.checkout()
    declined = WireEvent(
        id="evt_decline",
        type=PaymentEventKind.PAYMENT_FAILED,
        created=int(app.clock.now().timestamp()),
        session_id=started.session_id,
    )
    assert await app.deliver(declined) == [EventOutcome.APPLIED]
    assert app.store.tables.orders[started.order_id].payment_status is PaymentStatus.FAILED
