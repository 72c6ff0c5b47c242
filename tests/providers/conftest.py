"""The kits the contract suite runs against: add a provider with one fixture here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from accessgate import plugins
from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.stripe import StripeGateway
from tests.providers.cryptopay.kit import cryptopay_kit as start_cryptopay_kit
from tests.providers.freekassa.kit import FreeKassaKit
from tests.providers.kits import AcmeKit, Kit, MemoryKit, SandboxKit, StripeKit
from tests.providers.yookassa.kit import yookassa_kit as start_yookassa_kit
from tests.services import services_required
from tests.stripe import fake_stripe
from tests.stripe.fake_stripe import PRICE_BASIC, PRICE_MONTHLY, SECRET_KEY

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def memory_kit(clock: SettableClock) -> Kit:
    return MemoryKit(clock)


@pytest.fixture
def sandbox_kit(clock: SettableClock) -> Kit:
    return SandboxKit(clock)


@pytest.fixture
async def stripe_kit(clock: SettableClock) -> AsyncIterator[Kit]:
    server, runner = await fake_stripe.start(clock.now)
    gateway = StripeGateway(
        secret_key=SECRET_KEY,
        webhook_secrets=[StripeKit.secret],
        price_one_time_basic=PRICE_BASIC,
        price_sub_monthly=PRICE_MONTHLY,
        public_base_url="https://shop.example",
        api_base=server.url,
        clock=clock,
        max_network_retries=0,
    )
    try:
        yield StripeKit(clock, gateway)
    finally:
        await gateway.aclose()
        await runner.cleanup()


@pytest.fixture
def acme_kit(clock: SettableClock) -> Kit:
    if "acme" not in plugins.available():
        message = "the acme plug-in is not installed: pip install -e tests/plugins/acme_pay"
        if services_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AcmeKit(clock)


@pytest.fixture
def freekassa_kit(clock: SettableClock) -> Kit:
    return FreeKassaKit(clock)


@pytest.fixture
async def yookassa_kit(clock: SettableClock) -> AsyncIterator[Kit]:
    async with start_yookassa_kit(clock) as kit:
        yield kit


@pytest.fixture
async def cryptopay_kit(clock: SettableClock) -> AsyncIterator[Kit]:
    async with start_cryptopay_kit(clock) as kit:
        yield kit


KITS = [
    "memory_kit",
    "sandbox_kit",
    "stripe_kit",
    "acme_kit",
    "freekassa_kit",
    "yookassa_kit",
    "cryptopay_kit",
]


@pytest.fixture(params=KITS)
def kit(request: pytest.FixtureRequest) -> Kit:
    """Each provider in turn."""
    found: Kit = request.getfixturevalue(request.param)
    return found
