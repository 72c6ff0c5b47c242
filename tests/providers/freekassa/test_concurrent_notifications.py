"""Ten concurrent deliveries of one FreeKassa notification fulfil once and send one email.

Through the HTTP app, over real SQL storage (SQLite; PostgreSQL when running),
with the real outbox delivery: every delivery is answered ``YES`` (the
duplicates too: FreeKassa retries anything else), and exactly one access email
goes out.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers

from accessgate import plugins
from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.system import SecureTokenFactory, SystemClock
from accessgate.config import Settings
from accessgate.container import Core, event_subscribers
from accessgate.domain.model.currency import decimal_string
from accessgate.domain.model.outbox import Channel
from accessgate.domain.model.payment_event import EventOutcome
from accessgate.domain.model.status import FulfillmentStatus, PaymentStatus
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from accessgate.entrypoints.http.app import create_app
from accessgate.ports.payment_providers import PaymentProviders, ProviderContext
from tests.providers.freekassa.kit import ENV, FK_IP, notification
from tests.storage.conftest import SQL_BACKENDS
from tests.storage.helpers import sql_factory

BASE_URL = "http://gate.test"
DELIVERIES = 10

pytestmark = pytest.mark.parametrize("backend", SQL_BACKENDS)


async def test_ten_concurrent_deliveries_fulfil_once_and_send_one_email(
    backend: str, tmp_path: Path, schema: str | None
) -> None:
    settings = Settings.for_tests(
        accessgate_env="test",
        app_public_base_url=BASE_URL,
        secret_key="freekassa-tests-secret-key-0123456789",
        internal_api_token="internal-test-token-0123456789",
        rate_limit_enabled=False,
    )
    clock = SystemClock()
    mailer = RecordingMailer()
    plugin = plugins.load("freekassa")
    gateway = plugin.build(
        plugins.read_group(plugin, ENV),
        ProviderContext(clock=clock, public_base_url=BASE_URL, webhook_url="unused"),
    )
    async with sql_factory(backend, tmp_path=tmp_path, schema=schema) as uow:
        tokens = SecureTokenFactory()
        uow.subscribers = event_subscribers(settings, tokens, {})
        core = Core(
            settings=providers.Object(settings),
            uow=providers.Object(uow),
            payments=providers.Object(PaymentProviders([gateway])),
            mailer=providers.Object(mailer),
            sinks=providers.Object({}),
            clock=providers.Object(clock),
            tokens=providers.Object(tokens),
        )
        started = await core.start_checkout().execute(
            StartCheckoutCommand(mode="one_time", plan="one_time_basic", email="buyer@example.com")
        )
        async with uow(read_only=True) as tx:
            order = await tx.orders.get(started.order_id)
        assert order is not None
        body = notification(
            order_id=order.id,
            amount=decimal_string(order.amount.amount, order.amount.currency),
            intid="71234567",
            currency=order.amount.currency,
        ).body
        transport = httpx.ASGITransport(app=create_app(settings, core), client=(FK_IP, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            headers = {"content-type": "application/x-www-form-urlencoded"}
            responses = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        client.post("/webhook/freekassa", content=body, headers=headers)
                        for _ in range(DELIVERIES)
                    )
                ),
                timeout=120,
            )
        assert Counter((r.status_code, r.content) for r in responses) == {(200, b"YES"): DELIVERIES}
        async with uow(read_only=True) as tx:
            paid = await tx.orders.get(order.id)
            record = await tx.payment_events.get("freekassa", "71234567")
            messages = await tx.outbox.list(limit=1000)
        assert paid is not None
        assert paid.payment_status is PaymentStatus.PAID
        assert paid.fulfillment_status is FulfillmentStatus.FULFILLED
        assert record is not None
        assert record.outcome is EventOutcome.FULFILLED
        assert [m.channel for m in messages].count(Channel.EMAIL) == 1
        await core.deliver_outbox().execute()
        assert len(mailer.sent) == 1
        assert mailer.sent[0].to == "buyer@example.com"
