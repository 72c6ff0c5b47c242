"""A memory-wired accessgate for unit tests, with helpers to buy and pay."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway, WireEvent
from accessgate.adapters.memory.unit_of_work import MemoryStore
from accessgate.config import Settings
from accessgate.container import Core, create_memory_container
from accessgate.domain.model.payment_event import EventOutcome
from accessgate.domain.usecases.start_checkout import CheckoutStarted, StartCheckoutCommand

SETTINGS = Settings.for_tests(
    accessgate_env="test",
    secret_key="unit-test-secret-key-0123456789",
    telegram_bot_username="gate_bot",
    mobislon_postback_url="https://tracker.example/index.php?cnv_id={clickid}&cnv_status={status}",
)


@dataclass
class App:
    """The container and its observable adapters."""

    core: Core
    clock: SettableClock
    gateway: MemoryPaymentGateway

    @property
    def store(self) -> MemoryStore:
        return self.core.uow().store  # type: ignore[no-any-return]

    @property
    def mailer(self) -> RecordingMailer:
        return self.core.mailer()  # type: ignore[no-any-return]

    async def checkout(
        self,
        plan: str = "one_time_basic",
        email: str = "Buyer@Example.com",
        clickid: str | None = "clk-1",
    ) -> CheckoutStarted:
        mode = "one_time" if plan == "one_time_basic" else "subscription"
        command = StartCheckoutCommand(
            mode=mode, plan=plan, email=email, clickid=clickid, locale="ru"
        )
        return await self.core.start_checkout().execute(command)

    async def deliver(self, event: WireEvent) -> list[EventOutcome]:
        delivery = self.gateway.webhook(event)
        events = self.gateway.verify_delivery(delivery.body, delivery.headers)
        return await self.core.handle_payment_events().execute(events)  # type: ignore[no-any-return]

    async def pay(self, session_id: str) -> EventOutcome:
        return (await self.deliver(self.gateway.completion(session_id)))[0]

    def link_token(self, link: str) -> str:
        return link.rsplit("start=", 1)[1]


@pytest.fixture
def app() -> App:
    clock = SettableClock()
    gateway = MemoryPaymentGateway(secret=b"webhook-secret", clock=clock)
    core = create_memory_container(SETTINGS, clock=clock, gateway=gateway)
    return App(core=core, clock=clock, gateway=gateway)
