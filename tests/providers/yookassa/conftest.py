"""The YooKassa stand-in, a gateway on it, and the service around them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from accessgate.adapters.memory.clock import SettableClock
from tests.providers.conftest import START
from tests.providers.yookassa.kit import YooKassaKit, yookassa_kit


@pytest.fixture
async def yk() -> AsyncIterator[YooKassaKit]:
    async with yookassa_kit(SettableClock(START)) as kit:
        yield kit
