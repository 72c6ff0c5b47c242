from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.stripe import StripeGateway
from tests.stripe import fake_stripe
from tests.stripe.fake_stripe import PRICE_BASIC, PRICE_MONTHLY, SECRET_KEY, FakeStripe
from tests.stripe.stripe_events import OLD_WEBHOOK_SECRET, WEBHOOK_SECRET

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PUBLIC = "https://shop.example"


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
async def fake(clock: SettableClock) -> AsyncIterator[FakeStripe]:
    server, runner = await fake_stripe.start(clock.now)
    yield server
    await runner.cleanup()


def make_gateway(clock: SettableClock, api_base: str, **overrides: object) -> StripeGateway:
    options: dict[str, object] = {
        "secret_key": SECRET_KEY,
        "webhook_secrets": [WEBHOOK_SECRET, OLD_WEBHOOK_SECRET],
        "price_one_time_basic": PRICE_BASIC,
        "price_sub_monthly": PRICE_MONTHLY,
        "public_base_url": PUBLIC + "/",
        "api_base": api_base,
        "clock": clock,
        "max_network_retries": 2,
        "timeout_seconds": 5.0,
    }
    options.update(overrides)
    return StripeGateway(**options)  # type: ignore[arg-type]


@pytest.fixture
async def gateway(clock: SettableClock, fake: FakeStripe) -> AsyncIterator[StripeGateway]:
    gw = make_gateway(clock, fake.url)
    yield gw
    await gw.aclose()
