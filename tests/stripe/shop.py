"""The domain use cases wired over memory storage and the Stripe gateway (test helper)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.tokens import DeterministicTokenFactory
from accessgate.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from accessgate.adapters.stripe import StripeGateway
from accessgate.domain.model.access import Access
from accessgate.domain.model.catalogue import Period, Plan, PlanCatalog
from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.order import Order
from accessgate.domain.model.outbox import RetryPolicy
from accessgate.domain.model.payment_event import EventOutcome
from accessgate.domain.model.values import Mode, Money, PlanCode
from accessgate.domain.usecases.apply_subscription_event import ApplySubscriptionEvent
from accessgate.domain.usecases.fulfill_payment import FulfillPayment
from accessgate.domain.usecases.handle_payment_events import HandlePaymentEvents
from accessgate.domain.usecases.session_status import GetSessionStatus
from accessgate.domain.usecases.start_checkout import (
    CheckoutStarted,
    StartCheckout,
    StartCheckoutCommand,
)
from accessgate.domain.usecases.subscribers import standard_subscribers
from accessgate.ports.payment_providers import PaymentProviders
from tests.stripe import stripe_events as se

GRACE = timedelta(days=3)
CATALOG = PlanCatalog(
    (
        Plan(code=PlanCode.ONE_TIME_BASIC, mode=Mode.ONE_TIME, prices=(Money.of(2000, "usd"),)),
        Plan(
            code=PlanCode.SUB_MONTHLY,
            mode=Mode.SUBSCRIPTION,
            prices=(Money.of(1000, "usd"),),
            period=Period.days(30),
        ),
    )
)


@dataclass
class Shop:
    gateway: StripeGateway
    clock: SettableClock
    run: int = 0  # distinct runs get distinct order ids (and so idempotency keys)

    def __post_init__(self) -> None:
        self.tokens = DeterministicTokenFactory()
        self.uow = MemoryUnitOfWorkFactory(
            subscribers=standard_subscribers(tokens=self.tokens, retry=RetryPolicy())
        )
        for _ in range(self.run * 1000):
            self.tokens.new_id("skip")
        self.codec = TokenCodec(b"k" * 32)
        self.fulfill = FulfillPayment(
            uow=self.uow,
            clock=self.clock,
            tokens=self.tokens,
            codec=self.codec,
            catalog=CATALOG,
            credentials=CredentialPolicy(),
        )
        self.apply = ApplySubscriptionEvent(uow=self.uow, clock=self.clock, grace=GRACE)
        self.handle = HandlePaymentEvents(fulfill=self.fulfill, apply=self.apply)
        self.start = StartCheckout(
            uow=self.uow,
            providers=PaymentProviders([self.gateway]),
            catalog=CATALOG,
            clock=self.clock,
            tokens=self.tokens,
        )
        self.status = GetSessionStatus(
            uow=self.uow,
            providers=PaymentProviders([self.gateway]),
            fulfill=self.fulfill,
            clock=self.clock,
            codec=self.codec,
            links=LinkBuilder(public_base_url="https://shop.example", bot_username="shop_bot"),
        )

    async def buy(self, mode: str, plan: str) -> CheckoutStarted:
        return await self.start.execute(
            StartCheckoutCommand(
                mode=mode, plan=plan, email="Buyer@Example.com", clickid="clk-1", locale="ru"
            )
        )

    async def deliver(self, body: bytes) -> list[EventOutcome]:
        """One webhook delivery as the HTTP endpoint makes it: verify, then apply."""
        events = self.gateway.verify_delivery(body, se.sign(body, self.clock.now()))
        return await self.handle.execute(events)

    async def state(self, order_id: str) -> tuple[Order, Access]:
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            access = await uow.accesses.get(order_id)
        assert order is not None
        assert access is not None
        return order, access

    def token_count(self, order_id: str) -> int:
        return sum(1 for t in self.uow.store.tables.tokens.values() if t.order_id == order_id)


def body(type_: str, obj: dict[str, Any], created: Any) -> bytes:
    return se.body_of(se.event(type_, obj, created))
