"""Ten concurrent deliveries of one CryptoPay update, through the HTTP app on SQL storage.

One fulfils; nine are duplicates; the outbox holds and delivers one access email.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers

from accessgate.adapters.cryptopay.gateway import CryptoPayGateway
from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.system import SecureTokenFactory, SystemClock
from accessgate.config import Settings
from accessgate.container import Core, event_subscribers
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from accessgate.entrypoints.http.app import create_app
from accessgate.ports.payment_providers import PaymentProviders
from tests.providers.cryptopay import fake_cryptopay
from tests.providers.cryptopay.fake_cryptopay import TOKEN
from tests.storage.conftest import SQL_BACKENDS
from tests.storage.helpers import sql_factory

BASE_URL = "http://gate.test"
DELIVERIES = 10
DRAIN_ROUNDS = 20


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_ten_concurrent_deliveries_fulfil_once_and_send_one_access_email(
    backend: str, tmp_path: Path, schema: str | None
) -> None:
    settings = Settings.for_tests(
        accessgate_env="test",
        app_public_base_url=BASE_URL,
        secret_key="cryptopay-tests-secret-key-0123456789",
        internal_api_token="internal-test-token-0123456789",
        rate_limit_enabled=False,
    )
    clock = SystemClock()
    fake, runner = await fake_cryptopay.start(clock.now)
    gateway = CryptoPayGateway(api_token=TOKEN, clock=clock, api_base=fake.url, timeout_seconds=5)
    mailer = RecordingMailer()
    try:
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
                StartCheckoutCommand(mode="one_time", plan="one_time_basic", email="b@example.com")
            )
            invoice = fake.mark_paid(int(started.session_id.split("_")[1]))
            body, headers = fake.update(invoice)
            transport = httpx.ASGITransport(app=create_app(settings, core))
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                responses = await asyncio.gather(
                    *(
                        client.post("/webhook/cryptopay", content=body, headers=headers)
                        for _ in range(DELIVERIES)
                    )
                )
            assert [r.status_code for r in responses] == [200] * DELIVERIES
            outcomes = Counter(o for r in responses for o in r.json()["outcomes"])
            assert outcomes == {"fulfilled": 1, "duplicate": DELIVERIES - 1}
            worker = core.deliver_outbox()
            for _ in range(DRAIN_ROUNDS):
                if (await worker.execute()).claimed == 0:
                    break
            assert len(mailer.sent) == 1
            assert (mailer.sent[0].to, mailer.sent[0].template) == ("b@example.com", "access")
            async with uow() as check:
                order = await check.orders.get(started.order_id)
            assert order is not None
            assert order.payment_status.value == "paid"
    finally:
        await gateway.aclose()
        await runner.cleanup()
