"""At most one provider lookup per checkout session per window, however often it is asked.

``/pay/success`` and ``/api/payment/session-status`` of an unpaid order each
asked Stripe about the session on every hit. Against the local fake Stripe
API (which records every request), N hits within the window make one lookup;
after the window, one more. The page is also rate limited like the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.stripe import StripeGateway
from accessgate.domain.usecases.session_status import LookupThrottle
from tests.pages.site import Site, running_site
from tests.stripe import fake_stripe
from tests.stripe.fake_stripe import PRICE_BASIC, PRICE_MONTHLY, SECRET_KEY, FakeStripe
from tests.stripe.stripe_events import WEBHOOK_SECRET

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")
HITS = 12


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def fake(clock: SettableClock) -> AsyncIterator[FakeStripe]:
    server, runner = await fake_stripe.start(clock.now)
    yield server
    await runner.cleanup()


@pytest.fixture
async def stripe_site(clock: SettableClock, fake: FakeStripe) -> AsyncIterator[Site]:
    gateway = StripeGateway(
        secret_key=SECRET_KEY,
        webhook_secrets=[WEBHOOK_SECRET],
        price_one_time_basic=PRICE_BASIC,
        price_sub_monthly=PRICE_MONTHLY,
        public_base_url="https://shop.example/",
        api_base=fake.url,
        clock=clock,
        max_network_retries=0,
        timeout_seconds=5.0,
    )
    async with running_site(gateway=gateway, clock=clock) as site:
        yield site
    await gateway.aclose()


async def _session(site: Site) -> str:
    started = await site.pay_form(email="a@example.com", plan="one_time_basic")
    assert started.status_code == 303, started.text
    session_id = next(iter(site.store.tables.orders.values())).provider_session_id
    return session_id


def _lookups(fake: FakeStripe, session_id: str) -> int:
    path = f"/v1/checkout/sessions/{session_id}"
    return len([r for r in fake.requests if r.method == "GET" and r.path == path])


async def test_many_hits_make_one_provider_lookup_per_window(
    stripe_site: Site, fake: FakeStripe, clock: SettableClock
) -> None:
    session_id = await _session(stripe_site)
    for index in range(HITS):
        if index % 2:
            response = await stripe_site.client.get(
                "/pay/success", params={"session_id": session_id}
            )
            assert 'data-status="pending"' in response.text
        else:
            response = await stripe_site.client.get(
                "/api/payment/session-status", params={"session_id": session_id}
            )
            assert response.json()["payment_status"] == "unpaid"
    assert _lookups(fake, session_id) == 1

    clock.advance(timedelta(seconds=5))
    for _ in range(HITS):
        await stripe_site.client.get("/pay/success", params={"session_id": session_id})
    assert _lookups(fake, session_id) == 2

    fake.mark_paid(session_id)  # paid at Stripe, the webhook not here yet
    clock.advance(timedelta(seconds=6))
    paid = await stripe_site.client.get("/pay/success", params={"session_id": session_id})
    assert 'data-status="paid"' in paid.text
    for _ in range(HITS):
        await stripe_site.client.get("/pay/success", params={"session_id": session_id})
    assert _lookups(fake, session_id) == 3  # paid: the stored state answers from now on


async def test_the_success_page_is_rate_limited() -> None:
    async with running_site(rate_limit_enabled=True, rate_limit_requests=3) as site:
        answers = [
            (await site.client.get("/pay/success", params={"session_id": "cs_x"})).status_code
            for _ in range(4)
        ]
    assert answers == [404, 404, 404, 429]


def test_throttle_window_keys_and_bound() -> None:
    clock = SettableClock(datetime(2026, 1, 1, tzinfo=UTC))
    throttle = LookupThrottle(clock, timedelta(seconds=5), max_entries=3)
    assert throttle.allow("cs_a")
    assert not throttle.allow("cs_a")
    assert throttle.allow("cs_b")
    clock.advance(timedelta(seconds=4))
    assert not throttle.allow("cs_a")
    clock.advance(timedelta(seconds=1))
    assert throttle.allow("cs_a")
    assert all(isinstance(key, bytes) and b"cs_" not in key for key in throttle._last)
    for name in ("cs_c", "cs_d", "cs_e", "cs_f"):
        assert throttle.allow(name)
    assert len(throttle) == 3  # bounded: the oldest are forgotten
    clock.advance(timedelta(seconds=-60))  # a clock that went back allows a lookup
    assert throttle.allow("cs_f")
