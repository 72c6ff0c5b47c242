"""Use cases built on one unit-of-work factory, for the concurrency tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.adapters.memory.tokens import DeterministicTokenFactory
from accessgate.adapters.memory.tracking import RecordingTrackingSink
from accessgate.domain.model.catalogue import Period, Plan, PlanCatalog
from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.outbox import Channel, RetryPolicy
from accessgate.domain.model.payment_event import PaymentEvent
from accessgate.domain.model.values import Mode, Money, PlanCode
from accessgate.domain.usecases.activate_access import ActivateAccess
from accessgate.domain.usecases.deliver_outbox import DeliverOutbox
from accessgate.domain.usecases.fulfill_payment import FulfillPayment
from accessgate.domain.usecases.start_checkout import StartCheckout, StartCheckoutCommand
from accessgate.domain.usecases.subscribers import standard_subscribers
from accessgate.ports.payment_providers import PaymentProviders
from accessgate.ports.unit_of_work import UnitOfWorkFactory

CATALOG = PlanCatalog(
    (
        Plan(
            code=PlanCode.ONE_TIME_BASIC,
            mode=Mode.ONE_TIME,
            prices=(Money(amount=1990, currency="USD"),),
        ),
        Plan(
            code=PlanCode.SUB_MONTHLY,
            mode=Mode.SUBSCRIPTION,
            prices=(Money(amount=990, currency="USD"),),
            period=Period.days(30),
        ),
    )
)
CODEC = TokenCodec(b"x" * 32)
CHANNELS = frozenset({Channel.EMAIL, Channel.MOBISLON, Channel.META})


@dataclass
class World:
    """Shared clock, ids, gateway and recorders; use cases per factory."""

    clock: SettableClock = field(default_factory=SettableClock)
    tokens: DeterministicTokenFactory = field(default_factory=DeterministicTokenFactory)
    mailer: RecordingMailer = field(default_factory=RecordingMailer)
    sinks: dict[Channel, RecordingTrackingSink] = field(
        default_factory=lambda: {
            Channel.MOBISLON: RecordingTrackingSink(),
            Channel.META: RecordingTrackingSink(),
        }
    )

    def __post_init__(self) -> None:
        self.gateway = MemoryPaymentGateway(secret=b"webhook-secret", clock=self.clock)

    async def paid_event(self, factory: UnitOfWorkFactory) -> PaymentEvent:
        """A new order and the verified event of its payment."""
        started = await StartCheckout(
            uow=factory,
            providers=PaymentProviders([self.gateway]),
            catalog=CATALOG,
            clock=self.clock,
            tokens=self.tokens,
        ).execute(
            StartCheckoutCommand(
                mode="one_time", plan="one_time_basic", email="buyer@example.com", clickid="c1"
            )
        )
        delivery = self.gateway.webhook(self.gateway.completion(started.session_id))
        [event] = self.gateway.verify_delivery(delivery.body, delivery.headers)
        return event

    def fulfil(self, factory: UnitOfWorkFactory) -> FulfillPayment:
        # The side effects are the event subscribers' (as the container wires them).
        factory.subscribers = standard_subscribers(  # type: ignore[attr-defined]
            tokens=self.tokens, retry=RetryPolicy(), channels=CHANNELS
        )
        return FulfillPayment(
            uow=factory,
            clock=self.clock,
            tokens=self.tokens,
            codec=CODEC,
            catalog=CATALOG,
            credentials=CredentialPolicy(),
        )

    def activate(self, factory: UnitOfWorkFactory) -> ActivateAccess:
        return ActivateAccess(uow=factory, clock=self.clock, codec=CODEC)

    def deliver(self, factory: UnitOfWorkFactory) -> DeliverOutbox:
        return DeliverOutbox(
            uow=factory,
            clock=self.clock,
            tokens=self.tokens,
            codec=CODEC,
            links=LinkBuilder(public_base_url="https://shop.example", bot_username="gate_bot"),
            mailer=self.mailer,
            sinks=dict(self.sinks),
            retry=RetryPolicy(),
            credentials=CredentialPolicy(),
        )
