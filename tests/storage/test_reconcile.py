"""``accessgate reconcile`` over SQL storage, with Stripe on its local stand-in.

An order whose webhook never came is fulfilled once by reconcile; the late
webhook answers 2xx and changes nothing; a second run changes nothing; orders
of a provider without a status poll (the sandbox) are skipped and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from dependency_injector import providers

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.memory.tokens import DeterministicTokenFactory
from accessgate.adapters.sandbox import SandboxPaymentGateway
from accessgate.adapters.sqlalchemy import SqlUnitOfWorkFactory
from accessgate.adapters.sqlalchemy.engine import create_engine
from accessgate.adapters.sqlalchemy.migrate import upgrade
from accessgate.config import Settings
from accessgate.container import Core, event_subscribers
from accessgate.domain.model.outbox import Channel
from accessgate.domain.model.status import FulfillmentStatus, PaymentStatus
from accessgate.domain.usecases.reconcile_payments import ReconcileSummary
from accessgate.domain.usecases.start_checkout import CheckoutStarted, StartCheckoutCommand
from accessgate.entrypoints.cli import main
from accessgate.entrypoints.http.app import create_app
from accessgate.ports.payment_providers import PaymentProviders
from accessgate.ports.unit_of_work import UnitOfWorkFactory
from tests.storage import helpers
from tests.storage.conftest import SQL_BACKENDS
from tests.storage.helpers import T0, sql_factory, sqlite_url
from tests.stripe import fake_stripe
from tests.stripe import stripe_events as se
from tests.stripe.conftest import make_gateway
from tests.stripe.fake_stripe import PRICE_BASIC, PRICE_MONTHLY, SECRET_KEY, FakeStripe

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

BASE_URL = "http://gate.test"
DAY = timedelta(hours=24)


@dataclass
class Shop:
    """The container over SQL storage, its HTTP app, and Stripe's stand-in."""

    core: Core
    client: httpx.AsyncClient
    uow: SqlUnitOfWorkFactory
    fake: FakeStripe
    clock: SettableClock

    async def buy(self, provider: str, email: str) -> CheckoutStarted:
        command = StartCheckoutCommand(
            mode="one_time", plan="one_time_basic", email=email, locale="en", provider=provider
        )
        return await self.core.start_checkout().execute(command)

    async def webhook(self, session: dict[str, Any]) -> httpx.Response:
        """Stripe's ``checkout.session.completed``, signed, posted to the endpoint."""
        body = se.body_of(se.event("checkout.session.completed", session, self.clock.now()))
        return await self.client.post(
            "/webhook/stripe", content=body, headers=se.sign(body, self.clock.now())
        )

    async def state(self) -> list[list[tuple[str, ...]]]:
        """The orders' statuses, then every row of accesses, tokens and the outbox."""
        queries = (
            "SELECT id, payment_status, fulfillment_status FROM orders",
            "SELECT * FROM accesses",
            "SELECT * FROM activation_tokens",
            "SELECT * FROM outbox",
        )
        found = []
        async with self.uow.engine.connect() as conn:
            for query in queries:
                result = await conn.exec_driver_sql(query)
                found.append(sorted(tuple(map(str, row)) for row in result.all()))
        return found

    async def emails(self, order_id: str) -> int:
        async with self.uow(read_only=True) as uow:
            messages = await uow.outbox.list(limit=1000)
        return sum(
            1 for m in messages if m.channel == Channel.EMAIL and m.payload["order_id"] == order_id
        )


def _settings() -> Settings:
    return Settings.for_tests(
        accessgate_env="test",
        app_public_base_url=BASE_URL,
        secret_key="reconcile-tests-secret-key-0123456789",
        rate_limit_enabled=False,
        payment_providers=("stripe", "sandbox"),
    )


@asynccontextmanager
async def shop(backend: str, tmp_path: Path, schema: str | None) -> AsyncIterator[Shop]:
    clock = SettableClock(datetime.now(UTC).replace(microsecond=0))
    fake, runner = await fake_stripe.start(clock.now)
    stripe = make_gateway(clock, fake.url)
    sandbox = SandboxPaymentGateway(secret=b"sandbox-secret", clock=clock, public_base_url=BASE_URL)
    settings = _settings()
    try:
        async with sql_factory(backend, tmp_path=tmp_path, schema=schema) as uow:
            tokens = DeterministicTokenFactory()
            uow.subscribers = event_subscribers(settings, tokens, {})
            core = Core(
                settings=providers.Object(settings),
                uow=providers.Object(uow),
                payments=providers.Object(PaymentProviders([stripe, sandbox])),
                mailer=providers.Object(RecordingMailer()),
                sinks=providers.Object({}),
                clock=providers.Object(clock),
                tokens=providers.Object(tokens),
            )
            transport = httpx.ASGITransport(app=create_app(settings, core))
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                yield Shop(core=core, client=client, uow=uow, fake=fake, clock=clock)
    finally:
        await stripe.aclose()
        await runner.cleanup()


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_a_missed_webhook_is_fulfilled_once_by_reconcile(
    backend: str, tmp_path: Path, schema: str | None
) -> None:
    async with shop(backend, tmp_path, schema) as s:
        missed = await s.buy("stripe", "missed@example.com")
        waiting = await s.buy("stripe", "waiting@example.com")
        sandboxed = await s.buy("sandbox", "sandbox@example.com")
        session = s.fake.mark_paid(missed.session_id)  # paid; Stripe's webhook never came
        s.clock.advance(timedelta(minutes=5))

        first = await s.core.reconcile_payments().execute(DAY)
        assert first == ReconcileSummary(asked=2, fulfilled=1, still_unpaid=1, skipped=1)
        async with s.uow(read_only=True) as uow:
            order = await uow.orders.get(missed.order_id)
            others = [await uow.orders.get(o.order_id) for o in (waiting, sandboxed)]
        assert order is not None
        assert (order.payment_status, order.fulfillment_status) == (
            PaymentStatus.PAID,
            FulfillmentStatus.FULFILLED,
        )
        assert [o.payment_status if o else None for o in others] == [PaymentStatus.UNPAID] * 2
        assert await s.emails(missed.order_id) == 1
        before = await s.state()

        # Stripe's webhook arrives late: 2xx, and nothing changes.
        late = await s.webhook(session)
        assert late.status_code == 200, late.text
        assert late.json()["outcomes"] == ["already_fulfilled"]
        assert await s.emails(missed.order_id) == 1

        # A second run asks only about what is still unpaid and changes nothing.
        fetches = len([r for r in s.fake.requests if r.method == "GET"])
        second = await s.core.reconcile_payments().execute(DAY)
        assert second == ReconcileSummary(asked=1, still_unpaid=1, skipped=1)
        asked_now = [r.path for r in s.fake.requests if r.method == "GET"][fetches:]
        assert asked_now == [f"/v1/checkout/sessions/{waiting.session_id}"]
        assert await s.state() == before
        assert await s.emails(missed.order_id) == 1


async def test_the_reconcile_command_prints_one_line_and_keeps_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_url(tmp_path)
    await upgrade(url)
    clock = SettableClock(datetime.now(UTC))
    fake, runner = await fake_stripe.start(clock.now)
    stripe = make_gateway(clock, fake.url)
    settings = _settings()
    uow = SqlUnitOfWorkFactory(create_engine(url))
    try:
        tokens = DeterministicTokenFactory()
        uow.subscribers = event_subscribers(settings, tokens, {})
        sandbox = SandboxPaymentGateway(secret=b"sandbox", clock=clock, public_base_url=BASE_URL)
        core = Core(
            settings=providers.Object(settings),
            uow=providers.Object(uow),
            payments=providers.Object(PaymentProviders([stripe, sandbox])),
            mailer=providers.Object(RecordingMailer()),
            sinks=providers.Object({}),
            clock=providers.Object(clock),
            tokens=providers.Object(tokens),
        )
        s = Shop(core=core, client=httpx.AsyncClient(), uow=uow, fake=fake, clock=clock)
        paid = await s.buy("stripe", "paid@example.com")
        down = await s.buy("stripe", "down@example.com")
        await s.buy("sandbox", "sandbox@example.com")
        fake.mark_paid(paid.session_id)
        fake.fail_next(f"/v1/checkout/sessions/{down.session_id}", 10, "500")

        for name, value in {
            "DATABASE_URL": url,
            "PAYMENT_PROVIDERS": "stripe,sandbox",
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": se.WEBHOOK_SECRET,
            "STRIPE_API_BASE": fake.url,
            "STRIPE_MAX_NETWORK_RETRIES": "0",
            "STRIPE_PRICE_ONE_TIME_BASIC": PRICE_BASIC,
            "STRIPE_PRICE_SUB_MONTHLY": PRICE_MONTHLY,
            "APP_PUBLIC_BASE_URL": BASE_URL,
        }.items():
            monkeypatch.setenv(name, value)
        code = await asyncio.to_thread(main, ["reconcile", "--since", "30m"])
        out, err = capsys.readouterr()
        assert (err, code) == ("", 1)  # one order failed: cron sees it
        assert out.splitlines() == [
            "reconcile: asked 2, fulfilled 1, still unpaid 0, failed 1, unchanged 0, "
            "skipped 1 (no status poll)"
        ]
        assert paid.session_id not in out
        assert down.session_id not in out
        assert await s.emails(paid.order_id) == 1
        async with uow(read_only=True) as read:
            order = await read.orders.get(paid.order_id)
        assert order is not None
        assert order.payment_status is PaymentStatus.PAID

        again = await asyncio.to_thread(main, ["reconcile", "--since", "30m"])
        assert again == 1  # the Stripe outage is still on for the other order
        assert "asked 1, fulfilled 0, still unpaid 0, failed 1" in capsys.readouterr().out
        assert await s.emails(paid.order_id) == 1
    finally:
        await stripe.aclose()
        await uow.dispose()
        await runner.cleanup()


async def test_unpaid_orders_of_a_window_come_in_keyset_batches(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Every backend: unpaid only, created at or after ``since``, by (created_at, id)."""
    same = T0 + timedelta(minutes=10)
    made = [
        helpers.order(1, at=T0 - timedelta(seconds=1)),  # before the window
        helpers.order(2, at=T0),
        helpers.order(5, at=same),
        helpers.order(4, at=same),
        helpers.order(3, at=same),
        msgspec.structs.replace(helpers.order(6, at=same), payment_status=PaymentStatus.PAID),
        msgspec.structs.replace(
            helpers.order(7, at=T0 + timedelta(minutes=20)), payment_status=PaymentStatus.FAILED
        ),
        helpers.order(8, at=T0 + timedelta(hours=1)),
    ]
    async with uow_factory() as uow:
        for order in made:
            await uow.orders.add(order)
        await uow.commit()
    seen: list[str] = []
    after: tuple[datetime, str] | None = None
    for _ in range(10):  # bounded: 5 orders in batches of 2
        async with uow_factory(read_only=True) as uow:
            batch = await uow.orders.list_unpaid_since(T0, 2, after)
        seen += [o.id for o in batch]
        if len(batch) < 2:
            break
        after = (batch[-1].created_at, batch[-1].id)
    assert seen == ["ord_2", "ord_3", "ord_4", "ord_5", "ord_8"]
