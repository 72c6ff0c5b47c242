"""Fixtures of the CryptoPay tests: a settable clock, the stand-in and a gateway on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from accessgate.adapters.cryptopay.gateway import CryptoPayGateway
from accessgate.adapters.memory.clock import SettableClock
from tests.providers.cryptopay import fake_cryptopay
from tests.providers.cryptopay.fake_cryptopay import TOKEN, FakeCryptoPay
from tests.storage.conftest import pg_schema, schema  # noqa: F401 - the SQL test's fixtures

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
async def fake(clock: SettableClock) -> AsyncIterator[FakeCryptoPay]:
    server, runner = await fake_cryptopay.start(clock.now)
    yield server
    await runner.cleanup()


def make_gateway(clock: SettableClock, fake: FakeCryptoPay, **options: object) -> CryptoPayGateway:
    values: dict[str, object] = {
        "api_token": TOKEN,
        "clock": clock,
        "api_base": fake.url,
        "timeout_seconds": 5.0,
    }
    values.update(options)
    return CryptoPayGateway(**values)  # type: ignore[arg-type]


@pytest.fixture
async def gateway(clock: SettableClock, fake: FakeCryptoPay) -> AsyncIterator[CryptoPayGateway]:
    gw = make_gateway(clock, fake, accepted_assets=("USDT", "TON"))
    yield gw
    await gw.aclose()
