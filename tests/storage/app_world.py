"""The HTTP app over real SQL storage (SQLite or PostgreSQL), with the relays on.

The payment provider is the sandbox (a signed webhook, verified like any
provider's); MobiSlon and Meta deliver to local stand-ins on 127.0.0.1 through
the real sinks; mail is recorded. The outbox is delivered by the real
DeliverOutbox use case of the container.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from dependency_injector import providers

from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.sandbox import SandboxPaymentGateway
from accessgate.adapters.sqlalchemy import SqlUnitOfWorkFactory
from accessgate.adapters.system import SecureTokenFactory, SystemClock
from accessgate.config import Settings
from accessgate.container import Core, build_sinks, event_subscribers
from accessgate.entrypoints.http.app import create_app
from accessgate.ports.payment_providers import PaymentProviders
from accessgate.ports.tracking import TrackingSink
from tests.relays.conftest import BINOM, PIXEL, TOKEN
from tests.storage.helpers import sql_factory

BASE_URL = "http://gate.test"
INTERNAL_TOKEN = "internal-test-token-0123456789"
SANDBOX_SECRET = b"sandbox-secret-for-field-tests"


@dataclass
class SqlApp:
    """A started test client, the container behind it, and its storage."""

    client: httpx.AsyncClient
    core: Core
    uow: SqlUnitOfWorkFactory
    mailer: RecordingMailer

    @property
    def gateway(self) -> SandboxPaymentGateway:
        gateway: SandboxPaymentGateway = self.core.gateway()
        return gateway

    async def pay(self, session_id: str, order_id: str, amount: int, currency: str) -> Any:
        """Post the sandbox's signed ``pay`` event for the session to its webhook."""
        delivery = self.gateway.signed_event(
            outcome="pay",
            session_id=session_id,
            order_id=order_id,
            amount=amount,
            currency=currency,
        )
        return await self.client.post(
            "/webhook/sandbox", content=delivery.body, headers=delivery.headers
        )


async def _close(sinks: dict[Any, TrackingSink]) -> None:
    for sink in sinks.values():
        closer = getattr(sink, "aclose", None)
        if closer is not None:
            await closer()


@asynccontextmanager
async def sql_app(
    backend: str,
    *,
    tmp_path: Path,
    schema: str | None,
    tracker_url: str,
    graph_url: str,
) -> AsyncIterator[SqlApp]:
    """The app over ``backend`` storage with MobiSlon and Meta relaying to local servers."""
    settings = Settings.for_tests(
        accessgate_env="test",
        app_public_base_url=BASE_URL,
        secret_key="field-tests-secret-key-0123456789",
        internal_api_token=INTERNAL_TOKEN,
        rate_limit_enabled=False,
        mobislon_postback_url=tracker_url + BINOM,
        meta_pixel_id=PIXEL,
        meta_access_token=TOKEN,
        meta_graph_api_base=graph_url,
    )
    clock = SystemClock()
    mailer = RecordingMailer()
    sinks = build_sinks(settings, clock)
    gateway = SandboxPaymentGateway(secret=SANDBOX_SECRET, clock=clock, public_base_url=BASE_URL)
    try:
        async with sql_factory(backend, tmp_path=tmp_path, schema=schema) as uow:
            tokens = SecureTokenFactory()
            uow.subscribers = event_subscribers(settings, tokens, {})  # as create_container does
            core = Core(
                settings=providers.Object(settings),
                uow=providers.Object(uow),
                payments=providers.Object(PaymentProviders([gateway])),
                mailer=providers.Object(mailer),
                sinks=providers.Object(sinks),
                clock=providers.Object(clock),
                tokens=providers.Object(tokens),
            )
            # In the test's own event loop (Litestar's test client runs the app in
            # another one, which a PostgreSQL connection pool does not survive).
            transport = httpx.ASGITransport(app=create_app(settings, core))
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                yield SqlApp(client=client, core=core, uow=uow, mailer=mailer)
    finally:
        await _close(sinks)
