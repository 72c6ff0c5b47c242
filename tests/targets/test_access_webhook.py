"""Issue 13: the access webhook, end to end on SQLite and PostgreSQL.

A shop's backend on 127.0.0.1 verifies every request with its own Standard
Webhooks code and fails 30% of them (seeded). Payments are delivered several
times; a refund twice; the expiry job runs twice. Each access change reaches
the shop exactly once (by ``webhook-id``), and no change is sent under two ids.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from accessgate.adapters.access_webhook import AccessWebhookTarget, webhook_body
from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.memory.tokens import DeterministicTokenFactory
from accessgate.container import create_memory_container
from accessgate.domain.model.access import Access
from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.order import Order
from accessgate.domain.model.outbox import OutboxStatus, RetryPolicy
from accessgate.domain.model.payment_event import EventOutcome, PaymentEvent, PaymentEventKind
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.values import Locale, Mode, Money, PlanCode
from accessgate.domain.usecases.apply_subscription_event import ApplySubscriptionEvent
from accessgate.domain.usecases.deliver_outbox import DeliverOutbox
from accessgate.domain.usecases.expire_accesses import ExpireAccesses
from accessgate.domain.usecases.fulfill_payment import FulfillPayment
from accessgate.domain.usecases.handle_payment_events import HandlePaymentEvents
from accessgate.domain.usecases.subscribers import standard_subscribers
from accessgate.ports.access_target import AccessChange, AccessChangeType
from accessgate.ports.unit_of_work import UnitOfWorkFactory
from tests.relays.servers import StubServer
from tests.storage.conftest import SQL_BACKENDS
from tests.storage.helpers import sql_factory
from tests.targets.receiver import BadSignature, ShopBackend, verify

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
K = PaymentEventKind
PRICE = Money.of(900, "USD")


@pytest.fixture
async def receiver() -> AsyncIterator[StubServer]:
    server = StubServer()
    await server.start()
    yield server
    await server.stop()


async def add_order(uow_factory: UnitOfWorkFactory, order_id: str, clock: SettableClock) -> None:
    now = clock.now()
    async with uow_factory() as uow:
        await uow.orders.add(
            Order(
                id=order_id,
                mode=Mode.SUBSCRIPTION,
                plan=PlanCode.SUB_MONTHLY,
                email=f"{order_id}@example.com",
                locale=Locale.EN,
                provider="memory",
                provider_session_id=f"cs_{order_id}",
                amount=PRICE,
                created_at=now,
                updated_at=now,
            )
        )
        await uow.accesses.add(
            Access(order_id=order_id, status=AccessStatus.PENDING, changed_at=now, updated_at=now)
        )
        await uow.commit()


def paid(
    order_id: str, event_id: str, clock: SettableClock, kind: K = K.CHECKOUT_COMPLETED
) -> PaymentEvent:
    return PaymentEvent(
        provider="memory",
        event_id=event_id,
        kind=kind,
        occurred_at=clock.now(),
        session_id=f"cs_{order_id}",
        subscription_id=f"sub_{order_id}",
        amount=PRICE,
        period_end=clock.now() + timedelta(days=30),
    )


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_each_access_change_reaches_a_flaky_shop_once(
    backend: str, tmp_path: Path, schema: str | None, receiver: StubServer
) -> None:
    clock, tokens, retry = (
        SettableClock(),
        DeterministicTokenFactory(0.5),
        RetryPolicy(max_attempts=40),
    )
    shop = ShopBackend(server=receiver, secret=SECRET, now=lambda: int(clock.now().timestamp()))
    target = AccessWebhookTarget(
        url=receiver.base_url + "/hooks/access", secret=SECRET, clock=clock
    )
    catalog = create_memory_container().catalog()
    async with sql_factory(backend, tmp_path=tmp_path, schema=schema) as factory:
        factory.subscribers = standard_subscribers(
            tokens=tokens, retry=retry, targets=["access_webhook"]
        )
        fulfil = FulfillPayment(
            uow=factory,
            clock=clock,
            tokens=tokens,
            codec=TokenCodec(b"k" * 32),
            catalog=catalog,
            credentials=CredentialPolicy(),
        )
        handle = HandlePaymentEvents(
            fulfill=fulfil,
            apply=ApplySubscriptionEvent(uow=factory, clock=clock, grace=timedelta(days=0)),
        )
        expire = ExpireAccesses(uow=factory, clock=clock)
        deliver = DeliverOutbox(
            uow=factory,
            clock=clock,
            tokens=tokens,
            codec=TokenCodec(b"k" * 32),
            links=LinkBuilder(public_base_url="https://shop.example", bot_username="shop_bot"),
            mailer=RecordingMailer(),
            sinks={},
            retry=retry,
            credentials=CredentialPolicy(),
            targets={"access_webhook": target},
        )
        await add_order(factory, "ord_refunded", clock)
        await add_order(factory, "ord_lapsing", clock)

        # Payments delivered again and again (and once more under another event id).
        outcomes: Counter[EventOutcome] = Counter()
        for order_id in ("ord_refunded", "ord_lapsing"):
            completed = paid(order_id, f"evt_{order_id}", clock)
            succeeded = paid(order_id, f"evt_{order_id}_ok", clock, K.PAYMENT_SUCCEEDED)
            for event in (completed, completed, succeeded, completed):
                outcomes.update(await handle.execute([event]))
        assert outcomes == {
            EventOutcome.FULFILLED: 2,
            EventOutcome.DUPLICATE: 4,
            EventOutcome.ALREADY_FULFILLED: 2,
        }
        # A refund, delivered twice.
        clock.advance(timedelta(days=1))
        refund = PaymentEvent(
            provider="memory",
            event_id="re_1",
            kind=K.REFUNDED,
            occurred_at=clock.now(),
            order_id="ord_refunded",
        )
        assert await handle.execute([refund, refund]) == [
            EventOutcome.APPLIED,
            EventOutcome.DUPLICATE,
        ]
        # The other subscription's period runs out; the job runs twice.
        clock.advance(timedelta(days=30))
        assert await expire.execute(limit=10) == 1
        assert await expire.execute(limit=10) == 0

        for _ in range(60):  # bounded: each round waits out the longest backoff
            report = await deliver.execute(limit=10)
            async with factory(read_only=True) as uow:
                pending = await uow.outbox.list(OutboxStatus.PENDING, limit=100)
            if report.claimed == 0 and not pending:
                break
            clock.advance(timedelta(hours=2))
        await target.aclose()

        async with factory(read_only=True) as uow:
            messages = await uow.outbox.list(limit=100)
    webhooks = [m for m in messages if m.channel == "target:access_webhook"]
    assert {m.status for m in webhooks} == {OutboxStatus.DELIVERED}
    assert shop.failures > 0
    assert shop.rejected == 0  # the 30% did fail, every signature held
    assert len(shop.verified) > len(shop.applied)  # some changes were sent more than once...
    changes = Counter(
        (body["type"], body["data"]["order_id"]) for body in shop.applied.values()
    )  # ...but each applied once, by webhook-id, and no change under two ids:
    assert changes == {
        ("access.granted", "ord_refunded"): 1,
        ("access.granted", "ord_lapsing"): 1,
        ("access.revoked", "ord_refunded"): 1,
        ("access.expired", "ord_lapsing"): 1,
    }
    revoked = next(b for b in shop.applied.values() if b["type"] == "access.revoked")
    assert revoked["data"]["reason"] == "refunded"
    assert revoked["data"]["status"] == "revoked"
    assert "email" not in revoked["data"]  # personal data only when asked for
    expired = next(b for b in shop.applied.values() if b["type"] == "access.expired")
    assert expired["data"]["reason"] == "period_ended"
    assert expired["data"]["plan"] == "sub_monthly"


def _change() -> AccessChange:
    from datetime import UTC, datetime

    return AccessChange(
        id="msg_1",
        type=AccessChangeType.GRANTED,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        order_id="ord_1",
        plan="sub_monthly",
        mode="subscription",
        status="token_issued",
        email="buyer@example.com",
    )


def test_the_signature_is_the_specifications_and_a_tampered_body_fails() -> None:
    from accessgate.adapters.access_webhook import WebhookSecret, sign

    body = webhook_body(_change())
    headers = sign(WebhookSecret(SECRET), "msg_1", 1_767_225_600, body)
    assert headers["webhook-signature"].startswith("v1,")
    assert verify(SECRET, headers, body, 1_767_225_600)["type"] == "access.granted"
    with pytest.raises(BadSignature):
        verify(SECRET, headers, body.replace(b"sub_monthly", b"sub_yearly_"), 1_767_225_600)
    with pytest.raises(BadSignature):
        verify(SECRET, headers, body, 1_767_225_600 + 301)  # stale
    assert b"buyer@example.com" not in body
    assert b"buyer@example.com" in webhook_body(_change(), include_email=True)


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_",
        "abc" + SECRET[6:],
        "whsec_not*base64",
        "whsec_" + base64.b64encode(b"short").decode(),
    ],
)
def test_a_malformed_secret_is_refused(secret: str) -> None:
    from accessgate.adapters.access_webhook import WebhookSecret

    with pytest.raises(ValueError, match="secret"):
        WebhookSecret(secret)


async def test_a_4xx_fails_for_good_and_408_429_5xx_are_retried(receiver: StubServer) -> None:
    from aiohttp import web

    from accessgate.domain.model.errors import DeliveryFailed

    statuses = iter([400, 408, 429, 500, 302, 200])

    async def answer(_: object) -> web.StreamResponse:
        return web.Response(status=next(statuses))

    receiver.responder = answer
    target = AccessWebhookTarget(url=receiver.base_url, secret=SECRET, clock=SettableClock())
    retryable = []
    for _ in range(5):
        with pytest.raises(DeliveryFailed) as failed:
            await target.apply(_change())
        retryable.append(failed.value.retryable)
        assert SECRET not in failed.value.reason
    await target.apply(_change())
    await target.aclose()
    assert retryable == [False, True, True, True, True]
    assert len({r.headers.get("webhook-id") for r in receiver.received}) == 1  # stable id
