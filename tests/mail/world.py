"""The core wired over memory adapters, with the Mailer under test plugged into the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.adapters.memory.tokens import DeterministicTokenFactory
from accessgate.adapters.memory.unit_of_work import MemoryStore, MemoryUnitOfWorkFactory
from accessgate.domain.model.catalogue import Period, Plan, PlanCatalog
from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.outbox import Channel, OutboxMessage, RetryPolicy
from accessgate.domain.model.values import Locale, Mode, Money, PlanCode
from accessgate.domain.usecases.confirm_restore import ConfirmRestore
from accessgate.domain.usecases.deliver_outbox import DeliverOutbox
from accessgate.domain.usecases.fulfill_payment import FulfillPayment
from accessgate.domain.usecases.request_restore import RequestRestore
from accessgate.domain.usecases.start_checkout import (
    CheckoutStarted,
    StartCheckout,
    StartCheckoutCommand,
)
from accessgate.domain.usecases.subscribers import standard_subscribers
from accessgate.ports.mailer import Mailer
from accessgate.ports.payment_providers import PaymentProviders

KEY = b"k" * 32
CATALOG = PlanCatalog(
    plans=(
        Plan(code=PlanCode.ONE_TIME_BASIC, mode=Mode.ONE_TIME, prices=(Money.of(1900, "USD"),)),
        Plan(
            code=PlanCode.SUB_MONTHLY,
            mode=Mode.SUBSCRIPTION,
            prices=(Money.of(900, "USD"),),
            period=Period.days(30),
        ),
    )
)
RETRY = RetryPolicy()
CREDENTIALS = CredentialPolicy()
LINKS = LinkBuilder(public_base_url="https://shop.example", bot_username="shop_bot")


@dataclass
class World:
    """One shop: a store, a clock and the use cases the mail tests drive."""

    store: MemoryStore = field(default_factory=MemoryStore)
    clock: SettableClock = field(default_factory=SettableClock)
    tokens: DeterministicTokenFactory = field(
        default_factory=lambda: DeterministicTokenFactory(0.5)
    )
    codec: TokenCodec = field(default_factory=lambda: TokenCodec(KEY))

    def __post_init__(self) -> None:
        # The emails are written by the event subscribers, as the container wires them.
        self.uow = MemoryUnitOfWorkFactory(
            self.store, subscribers=standard_subscribers(tokens=self.tokens, retry=RETRY)
        )
        self.gateway = MemoryPaymentGateway(secret=b"whsec", clock=self.clock)

    def deliverer(self, mailer: Mailer) -> DeliverOutbox:
        """A fresh DeliverOutbox over the same store (a new worker process)."""
        return DeliverOutbox(
            uow=MemoryUnitOfWorkFactory(self.store),
            clock=self.clock,
            tokens=self.tokens,
            codec=TokenCodec(KEY),
            links=LINKS,
            mailer=mailer,
            sinks={},
            retry=RETRY,
            credentials=CREDENTIALS,
        )

    def request_restore(self) -> RequestRestore:
        return RequestRestore(
            uow=self.uow,
            clock=self.clock,
            tokens=self.tokens,
            codec=self.codec,
            credentials=CREDENTIALS,
        )

    def confirm_restore(self) -> ConfirmRestore:
        return ConfirmRestore(
            uow=self.uow,
            clock=self.clock,
            tokens=self.tokens,
            codec=self.codec,
            credentials=CREDENTIALS,
            links=LINKS,
        )

    async def paid_order(self, email: str, locale: Locale = Locale.EN) -> str:
        """Check out and fulfil an order; its access email is then in the outbox."""
        started = await self.unpaid_order(email, locale)
        delivery = self.gateway.webhook(self.gateway.completion(started.session_id))
        [event] = self.gateway.verify_delivery(delivery.body, delivery.headers)
        fulfil = FulfillPayment(
            uow=self.uow,
            clock=self.clock,
            tokens=self.tokens,
            codec=self.codec,
            catalog=CATALOG,
            credentials=CREDENTIALS,
        )
        await fulfil.execute(event)
        return started.order_id

    async def unpaid_order(self, email: str, locale: Locale = Locale.EN) -> CheckoutStarted:
        """Check out without paying."""
        checkout = StartCheckout(
            uow=self.uow,
            providers=PaymentProviders([self.gateway]),
            catalog=CATALOG,
            clock=self.clock,
            tokens=self.tokens,
        )
        return await checkout.execute(
            StartCheckoutCommand(
                mode="one_time", plan="one_time_basic", email=email, locale=locale.value
            )
        )

    async def outbox(self) -> list[OutboxMessage]:
        async with self.uow() as uow:
            return [m for m in await uow.outbox.list(limit=1000) if m.channel is Channel.EMAIL]

    async def current_link(self, order_id: str) -> str:
        async with self.uow() as uow:
            token = await uow.tokens.get_current(order_id)
        assert token is not None
        return LINKS.activation_link(self.codec.activation_token(token.seed))
