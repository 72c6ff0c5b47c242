"""Dual fulfilment: the success page fetches the session before the webhook arrives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.stripe import StripeGateway
from accessgate.domain.model.payment_event import EventOutcome
from accessgate.domain.model.status import AccessStatus, FulfillmentStatus, PaymentStatus
from tests.stripe.fake_stripe import FakeStripe
from tests.stripe.shop import Shop, body

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


@pytest.mark.parametrize(
    ("mode", "plan"), [("one_time", "one_time_basic"), ("subscription", "sub_monthly")]
)
async def test_session_status_fulfils_then_webhook_is_already_fulfilled(
    gateway: StripeGateway, fake: FakeStripe, clock: SettableClock, mode: str, plan: str
) -> None:
    shop = Shop(gateway, clock)
    started = await shop.buy(mode, plan)
    fetch_path = f"/v1/checkout/sessions/{started.session_id}"

    pending = await shop.status.execute(started.session_id)
    assert (pending.payment_status, pending.activation_link) == (PaymentStatus.UNPAID, None)
    assert [r.method for r in fake.requests if r.path == fetch_path] == ["GET"]

    session = fake.mark_paid(started.session_id)  # paid; the webhook is still on its way
    clock.advance(timedelta(seconds=20))
    status = await shop.status.execute(started.session_id)
    assert status.payment_status is PaymentStatus.PAID
    assert status.fulfillment_status is FulfillmentStatus.FULFILLED
    assert status.access_status is AccessStatus.TOKEN_ISSUED
    assert status.activation_link is not None
    assert status.activation_link.startswith("https://t.me/shop_bot?start=")

    completed = body("checkout.session.completed", session, clock.now() - timedelta(seconds=5))
    assert await shop.deliver(completed) == [EventOutcome.ALREADY_FULFILLED]
    assert await shop.deliver(completed) == [EventOutcome.DUPLICATE]
    assert shop.token_count(started.order_id) == 1
    again = await shop.status.execute(started.session_id)
    assert again.activation_link == status.activation_link
    assert len([r for r in fake.requests if r.path == fetch_path]) == 2  # paid: no more fetches
    order, _ = await shop.state(started.order_id)
    assert order.provider_customer_id == session["customer"]
    async with shop.uow() as uow:
        record = await uow.payment_events.get("stripe", f"checkout_fetch:{started.session_id}")
    assert record is not None
    assert record.outcome is EventOutcome.FULFILLED


async def test_stripe_down_leaves_the_buyer_pending(
    gateway: StripeGateway, fake: FakeStripe, clock: SettableClock
) -> None:
    shop = Shop(gateway, clock)
    started = await shop.buy("one_time", "one_time_basic")
    fake.mark_paid(started.session_id)
    fake.fail_next(f"/v1/checkout/sessions/{started.session_id}", 3, "500")
    status = await shop.status.execute(started.session_id)
    assert (status.payment_status, status.activation_link) == (PaymentStatus.UNPAID, None)
