"""Whole payment lives through signed Stripe webhooks -> verify_webhook -> the use cases."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.stripe import StripeGateway
from accessgate.domain.model.errors import PaymentNotFound
from accessgate.domain.model.payment_event import EventOutcome
from accessgate.domain.model.status import AccessStatus, FulfillmentStatus, PaymentStatus
from accessgate.domain.usecases.activate_access import ActivateAccess, ActivateAccessCommand
from tests.stripe import stripe_events as se
from tests.stripe.conftest import START
from tests.stripe.fake_stripe import FakeStripe
from tests.stripe.shop import GRACE, Shop, body

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

Out = EventOutcome
DAY = timedelta(days=1)
T0 = START
T3 = T0 + 90 * DAY
END = T0 + 120 * DAY


def subscription_life(session: dict[str, Any]) -> list[bytes]:
    """What Stripe sends for one subscription, oldest first."""
    sub, cus = session["subscription"], session["customer"]

    def inv(start: datetime, end: datetime, **kw: Any) -> dict[str, Any]:
        return se.invoice(subscription=sub, customer=cus, period_start=start, period_end=end, **kw)

    def subscription(**kw: Any) -> dict[str, Any]:
        return se.subscription(sub_id=sub, customer=cus, period_end=END, **kw)

    return [
        body("customer.subscription.created", subscription(), T0),
        body("invoice.paid", inv(T0, T0 + 30 * DAY, billing_reason="subscription_create"), T0),
        body("checkout.session.completed", session, T0 + timedelta(seconds=1)),
        body("invoice.paid", inv(T0 + 30 * DAY, T0 + 60 * DAY), T0 + 30 * DAY),
        body("invoice.paid", inv(T0 + 60 * DAY, T0 + 90 * DAY, legacy=True), T0 + 60 * DAY),
        body("invoice.payment_failed", inv(T3, T3 + 30 * DAY, paid=False), T3),
        body("invoice.paid", inv(T3, END), T3 + 2 * DAY),
        body(
            "customer.subscription.updated", subscription(cancel_at_period_end=True), T3 + 5 * DAY
        ),
        body("customer.subscription.deleted", subscription(status="canceled"), END),
    ]


async def test_subscription_life_in_order(
    gateway: StripeGateway, fake: FakeStripe, clock: SettableClock
) -> None:
    shop = Shop(gateway, clock)
    started = await shop.buy("subscription", "sub_monthly")
    order, access = await shop.state(started.order_id)
    assert order.amount.amount == 990  # Stripe's price was recorded
    session = fake.mark_paid(started.session_id)
    life = subscription_life(session)
    at = [T0, T0, T0, T0 + 30 * DAY, T0 + 60 * DAY, T3, T3 + 2 * DAY, T3 + 5 * DAY, END]

    async def step(i: int) -> list[EventOutcome]:
        clock.set(at[i] + timedelta(seconds=2))
        return await shop.deliver(life[i])

    assert await step(0) == []  # not used
    assert await step(1) == []  # the first invoice duplicates the completion
    assert await step(2) == [Out.FULFILLED]
    order, access = await shop.state(started.order_id)
    assert order.provider_subscription_id == session["subscription"]
    assert order.provider_customer_id == session["customer"]
    link = (await shop.status.execute(started.session_id)).activation_link
    assert link is not None
    token = link.split("start=")[1]
    activate = ActivateAccess(uow=shop.uow, clock=clock, codec=shop.codec)
    await activate.execute(ActivateAccessCommand(activation_token=token, telegram_user_id=42))

    assert await step(3) == [Out.APPLIED]  # renewed
    _, access = await shop.state(started.order_id)
    assert access.valid_until == T0 + 60 * DAY
    assert await step(4) == [Out.APPLIED]  # renewed again (an older API version's shape)
    _, access = await shop.state(started.order_id)
    assert access.valid_until == T0 + 90 * DAY

    assert await step(5) == [Out.APPLIED]  # renewal payment failed: past due, grace
    order, access = await shop.state(started.order_id)
    assert order.payment_status is PaymentStatus.FAILED
    assert access.grace_until == T3 + GRACE
    assert access.effective_status(T3 + DAY) is AccessStatus.ACTIVE

    assert await step(6) == [Out.APPLIED]  # recovered
    order, access = await shop.state(started.order_id)
    assert order.payment_status is PaymentStatus.PAID
    assert (access.valid_until, access.grace_until) == (END, None)

    assert await step(7) == [Out.APPLIED]  # cancelled at period end
    _, access = await shop.state(started.order_id)
    assert access.cancel_at_period_end
    assert access.effective_status(clock.now()) is AccessStatus.ACTIVE

    assert await step(8) == [Out.APPLIED]  # deleted -> expired
    order, access = await shop.state(started.order_id)
    assert access.status is AccessStatus.EXPIRED
    assert access.valid_until == END
    assert order.payment_status is PaymentStatus.PAID
    assert await shop.deliver(life[8]) == [Out.DUPLICATE]
    assert shop.token_count(started.order_id) == 1


def one_time_refund(session: dict[str, Any]) -> list[bytes]:
    pi, amount = session["payment_intent"], session["amount_total"]
    return [
        body("checkout.session.completed", session, T0 + timedelta(seconds=1)),
        body(
            "charge.refunded", se.charge(payment_intent=pi, amount=amount, refunded=500), T0 + DAY
        ),
        body(
            "charge.refunded",
            se.charge(payment_intent=pi, amount=amount, refunded=amount),
            T0 + 2 * DAY,
        ),
    ]


def one_time_dispute(session: dict[str, Any]) -> list[bytes]:
    pi, amount = session["payment_intent"], session["amount_total"]
    return [
        body("checkout.session.completed", session, T0 + timedelta(seconds=1)),
        body("charge.dispute.created", se.dispute(payment_intent=pi, amount=amount), T0 + 3 * DAY),
    ]


async def test_one_time_refund_revokes(
    gateway: StripeGateway, fake: FakeStripe, clock: SettableClock
) -> None:
    shop = Shop(gateway, clock)
    started = await shop.buy("one_time", "one_time_basic")
    refund = one_time_refund(fake.mark_paid(started.session_id))
    assert await shop.deliver(refund[0]) == [Out.FULFILLED]
    assert await shop.deliver(refund[1]) == []  # a partial refund keeps the access
    order, access = await shop.state(started.order_id)
    assert (order.payment_status, access.status) == (PaymentStatus.PAID, AccessStatus.TOKEN_ISSUED)
    assert access.valid_until is None
    clock.advance(2 * DAY)
    assert await shop.deliver(refund[2]) == [Out.APPLIED]
    order, access = await shop.state(started.order_id)
    assert (order.payment_status, access.status) == (PaymentStatus.REFUNDED, AccessStatus.REVOKED)
    assert (await shop.status.execute(started.session_id)).activation_link is None


async def test_dispute_revokes(
    gateway: StripeGateway, fake: FakeStripe, clock: SettableClock
) -> None:
    shop = Shop(gateway, clock)
    started = await shop.buy("one_time", "one_time_basic")
    dispute = one_time_dispute(fake.mark_paid(started.session_id))
    assert await shop.deliver(dispute[0]) == [Out.FULFILLED]
    assert await shop.deliver(dispute[1]) == [Out.APPLIED]
    order, access = await shop.state(started.order_id)
    assert (order.payment_status, access.status) == (PaymentStatus.PAID, AccessStatus.REVOKED)


Life = Callable[[dict[str, Any]], list[bytes]]
CASES: list[tuple[str, str, Life]] = [
    ("subscription", "sub_monthly", subscription_life),
    ("one_time", "one_time_basic", one_time_refund),
    ("one_time", "one_time_basic", one_time_dispute),
]


async def replay(
    gateway: StripeGateway,
    fake: FakeStripe,
    clock: SettableClock,
    case: tuple[str, str, Life],
    seed: int | None,
) -> tuple[tuple[Any, ...], int]:
    """Deliver a life in order (seed None) or shuffled with duplicates, as Stripe retries.

    Stripe retries a delivery that failed (an event for an order not known yet
    answers an error), so a failed delivery goes back into the queue.
    """
    mode, plan, life = case
    clock.set(T0)
    shop = Shop(gateway, clock, run=1 if seed is None else seed + 2)
    started = await shop.buy(mode, plan)
    bodies = life(fake.mark_paid(started.session_id))
    if seed is not None:
        rng = random.Random(seed)
        bodies = bodies + rng.sample(bodies, k=len(bodies) // 2)
        rng.shuffle(bodies)
    clock.set(END + DAY)  # a burst of deliveries after an outage
    queue = list(bodies)
    retries = 0
    for _ in range(10 * len(bodies)):
        if not queue:
            break
        delivery = queue.pop(0)
        try:
            await shop.deliver(delivery)
        except PaymentNotFound:
            retries += 1
            queue.append(delivery)
    assert not queue
    order, access = await shop.state(started.order_id)
    assert order.fulfillment_status is FulfillmentStatus.FULFILLED
    assert shop.token_count(started.order_id) == 1
    state = (
        order.payment_status,
        access.status,
        access.effective_status(clock.now()),
        access.valid_until,
        access.grace_until,
        access.cancel_at_period_end,
    )
    return state, retries


@pytest.mark.parametrize("case", CASES, ids=["subscription", "refund", "dispute"])
async def test_out_of_order_and_duplicated_give_the_same_state(
    gateway: StripeGateway, fake: FakeStripe, clock: SettableClock, case: tuple[str, str, Life]
) -> None:
    expected, none = await replay(gateway, fake, clock, case, None)
    assert none == 0
    retried = 0
    for seed in range(8):
        state, retries = await replay(gateway, fake, clock, case, seed)
        assert state == expected, f"seed {seed}"
        retried += retries
    assert retried > 0  # some events did come before their order knew them
