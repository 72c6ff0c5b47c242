"""The sandbox gateway: stateless sessions, the shared signature scheme, refusal in production."""

from __future__ import annotations

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.sandbox import SandboxPaymentGateway
from accessgate.adapters.sandbox.gateway import SandboxRefused
from accessgate.config import Settings
from accessgate.container import create_memory_container
from accessgate.domain.model.errors import InvalidSignature, PaymentNotFound
from accessgate.domain.model.payment_event import EventOutcome, PaymentEventKind
from accessgate.domain.model.status import FulfillmentStatus, PaymentStatus
from accessgate.domain.model.values import Locale, Mode, PlanCode
from accessgate.domain.usecases.describe_checkout import DescribeCheckout
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from accessgate.ports.payment_gateway import Capability

BASE = "http://127.0.0.1:8123"


def gateway(clock: SettableClock, secret: bytes = b"sandbox-secret") -> SandboxPaymentGateway:
    return SandboxPaymentGateway(secret=secret, clock=clock, public_base_url=BASE + "/")


def test_refuses_production() -> None:
    with pytest.raises(SandboxRefused):
        SandboxPaymentGateway(
            secret=b"x", clock=SettableClock(), public_base_url=BASE, production=True
        )


async def test_checkout_is_derived_from_the_order_and_survives_a_restart() -> None:
    clock = SettableClock()
    core = create_memory_container(
        Settings.for_tests(accessgate_env="test", secret_key="s" * 32),
        clock=clock,
        gateway=gateway(clock),
    )
    started = await core.start_checkout().execute(
        StartCheckoutCommand(mode="one_time", plan="one_time_basic", email="A@Example.com")
    )
    # The order id alone (not secret) does not give the session id: a keyed tag follows it.
    assert started.session_id.startswith(f"cs_sandbox_{started.order_id}_")
    assert len(started.session_id) > len(f"cs_sandbox_{started.order_id}_") + 20
    other_secret = gateway(clock, secret=b"another-secret").session_id_of(started.order_id)
    assert other_secret != started.session_id
    assert gateway(clock).session_id_of(started.order_id) == started.session_id
    assert started.checkout_url == f"{BASE}/sandbox/checkout/{started.session_id}"
    summary = await DescribeCheckout(uow=core.uow()).execute(started.session_id)
    assert summary.email == "a@example.com"
    assert (summary.plan, summary.mode, summary.locale) == (
        PlanCode.ONE_TIME_BASIC,
        Mode.ONE_TIME,
        Locale.EN,
    )
    assert (summary.amount, summary.currency) == (1900, "USD")
    # A second gateway instance (another process, or after a restart) verifies the event.
    delivery = gateway(clock).signed_event(
        outcome="pay",
        session_id=summary.session_id,
        order_id=summary.order_id,
        amount=summary.amount,
        currency=summary.currency,
    )
    events = gateway(clock).verify_delivery(delivery.body, delivery.headers)
    assert [e.kind for e in events] == [PaymentEventKind.CHECKOUT_COMPLETED]
    assert events[0].provider == "sandbox"
    outcomes = await core.handle_payment_events().execute(events)
    assert outcomes == [EventOutcome.FULFILLED]
    status = await core.session_status().execute(started.session_id)
    assert status.payment_status is PaymentStatus.PAID
    assert status.fulfillment_status is FulfillmentStatus.FULFILLED


async def test_decline_fails_the_order() -> None:
    clock = SettableClock()
    gw = gateway(clock)
    core = create_memory_container(
        Settings.for_tests(accessgate_env="test", secret_key="s" * 32), clock=clock, gateway=gw
    )
    started = await core.start_checkout().execute(
        StartCheckoutCommand(mode="subscription", plan="sub_monthly", email="b@example.com")
    )
    delivery = gw.signed_event(
        outcome="decline",
        session_id=started.session_id,
        order_id=started.order_id,
        amount=900,
        currency="USD",
    )
    await core.handle_payment_events().execute(gw.verify_delivery(delivery.body, delivery.headers))
    summary = await DescribeCheckout(uow=core.uow()).execute(started.session_id)
    assert summary.payment_status is PaymentStatus.FAILED


async def test_unknown_session_is_payment_not_found() -> None:
    core = create_memory_container()
    with pytest.raises(PaymentNotFound):
        await DescribeCheckout(uow=core.uow()).execute("cs_sandbox_nope")


def test_other_secret_or_tampered_body_is_refused() -> None:
    clock = SettableClock()
    delivery = gateway(clock).signed_event(
        outcome="pay", session_id="cs_sandbox_o", order_id="o", amount=1, currency="USD"
    )
    with pytest.raises(InvalidSignature):
        gateway(clock, b"other").verify_delivery(delivery.body, delivery.headers)
    with pytest.raises(InvalidSignature):
        gateway(clock).verify_delivery(delivery.body.replace(b'"o"', b'"p"'), delivery.headers)
    with pytest.raises(ValueError, match="outcome"):
        gateway(clock).signed_event(
            outcome="refund", session_id="s", order_id="o", amount=1, currency="USD"
        )


async def test_portal_and_fetch() -> None:
    gw = gateway(SettableClock())
    assert gw.capabilities == {Capability.CUSTOMER_PORTAL}  # reports only by webhook
    assert await gw.customer_portal_url("cus", "ret") == f"{BASE}/sandbox/portal"
    assert gw.webhook_url == f"{BASE}/webhook/sandbox"
