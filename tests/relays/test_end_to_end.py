"""End to end at use-case level: a funnel, a paid webhook delivered 12 times, the trackers."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import timedelta

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway, WireEvent
from accessgate.adapters.memory.tokens import DeterministicTokenFactory
from accessgate.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from accessgate.adapters.meta import MetaConversionsSink
from accessgate.adapters.mobislon import MobislonPostbackSink
from accessgate.domain.model.catalogue import Plan, PlanCatalog
from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.outbox import Channel, OutboxStatus, RetryPolicy
from accessgate.domain.model.payment_event import EventOutcome, PaymentEventKind
from accessgate.domain.model.values import Mode, Money, PlanCode
from accessgate.domain.usecases.fulfill_payment import FulfillPayment
from accessgate.domain.usecases.relay_tracking_event import RelayTrackingEvent, TrackingCommand
from accessgate.domain.usecases.start_checkout import StartCheckout, StartCheckoutCommand
from accessgate.domain.usecases.subscribers import standard_subscribers
from accessgate.ports.payment_providers import PaymentProviders
from tests.relays.conftest import BINOM, PIXEL, TOKEN, deliver_outbox
from tests.relays.servers import StubServer, Tracker

FUNNEL = ["start_quiz", *(f"block{n}_completed" for n in range(1, 8)), "transition_to_payment"]
REPEATED = ["start_quiz", "start_quiz", "block4_completed", "transition_to_payment"]
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"
CATALOG = PlanCatalog(
    (
        Plan(
            code=PlanCode.ONE_TIME_BASIC,
            mode=Mode.ONE_TIME,
            prices=(Money(amount=1900, currency="USD"),),
        ),
    )
)


async def test_funnel_and_a_webhook_delivered_12_times(tracker: Tracker, graph: StubServer) -> None:
    tokens, retry = DeterministicTokenFactory(), RetryPolicy()
    channels = frozenset({Channel.EMAIL, Channel.MOBISLON, Channel.META})
    subscribers = standard_subscribers(tokens=tokens, retry=retry, channels=channels)
    uow, clock = MemoryUnitOfWorkFactory(subscribers=subscribers), SettableClock()
    gateway = MemoryPaymentGateway(secret=b"webhook-secret", clock=clock)
    relay = RelayTrackingEvent(uow=uow, clock=clock, tokens=tokens, retry=retry, channels=channels)
    checkout = StartCheckout(
        uow=uow,
        providers=PaymentProviders([gateway]),
        catalog=CATALOG,
        clock=clock,
        tokens=tokens,
    )
    fulfil = FulfillPayment(
        uow=uow,
        clock=clock,
        tokens=tokens,
        codec=TokenCodec(b"k" * 32),
        catalog=CATALOG,
        credentials=CredentialPolicy(),
    )
    mailer = RecordingMailer()
    sinks = {
        Channel.MOBISLON: MobislonPostbackSink(tracker.server.base_url + BINOM),
        Channel.META: MetaConversionsSink(
            pixel_id=PIXEL, access_token=TOKEN, clock=clock, api_base=graph.base_url
        ),
    }
    worker = deliver_outbox(uow, clock, tokens, sinks, retry, mailer=mailer)

    async def step(status: str) -> str:
        command = TrackingCommand(channel=Channel.MOBISLON, status=status, clickid="clk-e2e")
        return (await relay.execute(command)).status

    # The funnel: every step once, some sent again by the browser, the worker running between.
    assert [await step(s) for s in FUNNEL] == ["queued"] * len(FUNNEL)
    meta_view = TrackingCommand(
        channel=Channel.META,
        status="ViewContent",
        fbclid="IwAR_e2E",
        client_ip="198.51.100.4",
        user_agent=UA,
    )
    assert (await relay.execute(meta_view)).status == "queued"
    await worker.execute()
    assert [await step(s) for s in REPEATED] == ["duplicate"] * len(REPEATED)

    # The buyer pays; the provider delivers the webhook 12 times (8 repeats, 4 other ids).
    started = await checkout.execute(
        StartCheckoutCommand(
            mode="one_time",
            plan="one_time_basic",
            email="Buyer@Example.com",
            clickid="clk-e2e",
            fbclid="IwAR_e2E",
            client_ip="198.51.100.4",
            user_agent=UA,
        )
    )
    completion = gateway.completion(started.session_id, event_id="evt_paid")
    others = [
        WireEvent(
            id=f"evt_other_{n}",
            type=PaymentEventKind.PAYMENT_SUCCEEDED,
            created=completion.created,
            session_id=started.session_id,
            amount=completion.amount,
            currency=completion.currency,
        )
        for n in range(4)
    ]
    outcomes: Counter[EventOutcome] = Counter()
    for wire in [completion] * 8 + others:
        delivery = gateway.webhook(wire)
        for event in gateway.verify_delivery(delivery.body, delivery.headers):
            outcomes[await fulfil.execute(event)] += 1
        await worker.execute()
        clock.advance(timedelta(seconds=30))
    assert outcomes == {
        EventOutcome.FULFILLED: 1,
        EventOutcome.DUPLICATE: 7,
        EventOutcome.ALREADY_FULFILLED: 4,
    }
    with pytest.raises(ValidationError):  # pay_success comes only from the verified payment
        await step("pay_success")
    for _ in range(3):  # bounded: drain what is left
        await worker.execute()

    assert all(m.status is OutboxStatus.DELIVERED for m in uow.store.tables.outbox.values())
    assert tracker.counted == Counter({("clk-e2e", s): 1 for s in [*FUNNEL, "pay_success"]})
    assert len(tracker.server.received) == len(FUNNEL) + 1
    assert len(mailer.sent) == 1

    sent = [e for r in graph.received for e in r.json["data"]]
    assert [e["event_name"] for e in sent] == ["ViewContent", "Purchase"]
    purchase = sent[1]
    assert purchase["event_id"] == f"purchase_{started.order_id}"
    assert purchase["custom_data"] == {"value": 19.0, "currency": "USD"}
    assert purchase["user_data"] == {
        "fbc": f"fb.1.{purchase['event_time'] * 1000}.IwAR_e2E",
        "client_ip_address": "198.51.100.4",
        "client_user_agent": UA,
        "em": [hashlib.sha256(b"buyer@example.com").hexdigest()],
    }
