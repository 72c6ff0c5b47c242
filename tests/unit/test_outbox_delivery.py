from datetime import timedelta

from accessgate.adapters.memory.tracking import RecordingTrackingSink
from accessgate.domain.model.errors import DeliveryFailed
from accessgate.domain.model.outbox import Channel, OutboxStatus, RetryPolicy
from tests.unit.conftest import App


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base=timedelta(seconds=5), cap=timedelta(minutes=10), max_attempts=9)
    assert policy.delay(1, 0.0) == timedelta(seconds=2.5)
    assert policy.delay(1, 0.999) < timedelta(seconds=5)
    assert policy.delay(3, 0.0) == timedelta(seconds=10)
    assert policy.delay(20, 0.999) <= timedelta(minutes=10)
    assert policy.delay(20, 0.0) == timedelta(minutes=5)


async def paid(app: App) -> str:
    started = await app.checkout()
    await app.pay(started.session_id)
    return started.order_id


async def test_delivery_sends_the_access_email_and_the_postback_once(app: App) -> None:
    await paid(app)
    report = await app.core.deliver_outbox().execute()
    assert (report.claimed, report.delivered) == (2, 2)
    assert [m.template for m in app.mailer.sent] == ["access"]
    assert app.mailer.sent[0].context["activation_link"].startswith("https://t.me/gate_bot?start=")
    sink: RecordingTrackingSink = app.core.sinks()[Channel.MOBISLON]
    assert [e.payload["status"] for e in sink.delivered] == ["pay_success"]
    app.clock.advance(timedelta(days=1))
    assert (await app.core.deliver_outbox().execute()).claimed == 0
    assert len(app.mailer.sent) == 1


async def test_failures_are_retried_with_backoff_then_fail_visibly(app: App) -> None:
    await paid(app)
    app.mailer.fail_with = DeliveryFailed("smtp down", retryable=True)
    deliver = app.core.deliver_outbox()
    report = await deliver.execute()
    assert report.retrying == 1
    email = next(m for m in app.store.tables.outbox.values() if m.channel is Channel.EMAIL)
    assert email.status is OutboxStatus.PENDING
    assert email.attempts == 1
    assert email.next_attempt_at > app.clock.now()
    assert (await deliver.execute()).claimed == 0  # not due yet
    for _ in range(20):
        app.clock.advance(timedelta(hours=2))
        await deliver.execute()
    email = app.store.tables.outbox[email.id]
    assert email.status is OutboxStatus.FAILED
    assert email.attempts == RetryPolicy().max_attempts
    assert email.last_error == "smtp down"


async def test_a_recovered_mailer_delivers_exactly_once(app: App) -> None:
    await paid(app)
    app.mailer.fail_with = DeliveryFailed("smtp down")
    deliver = app.core.deliver_outbox()
    await deliver.execute()
    app.mailer.fail_with = None
    for _ in range(5):
        app.clock.advance(timedelta(minutes=5))
        await deliver.execute()
    assert len(app.mailer.sent) == 1


async def test_permanent_failure_is_not_retried(app: App) -> None:
    await paid(app)
    app.mailer.fail_with = DeliveryFailed("address refused", retryable=False)
    report = await app.core.deliver_outbox().execute()
    assert report.failed == 1


async def test_a_claim_is_taken_again_after_its_lease(app: App) -> None:
    """A worker that dies after claiming leaves the message to another after the lease."""
    await paid(app)
    async with app.core.uow()() as uow:
        claimed = await uow.outbox.claim_due(
            app.clock.now(), 10, app.clock.now() + timedelta(minutes=2)
        )
        await uow.commit()
    assert len(claimed) == 2
    assert (await app.core.deliver_outbox().execute()).claimed == 0
    app.clock.advance(timedelta(minutes=3))
    assert (await app.core.deliver_outbox().execute()).delivered == 2


async def test_failed_messages_can_be_replayed(app: App) -> None:
    await paid(app)
    app.mailer.fail_with = DeliveryFailed("refused", retryable=False)
    await app.core.deliver_outbox().execute()
    async with app.core.uow()() as uow:
        [failed] = await uow.outbox.list(OutboxStatus.FAILED)
        await uow.outbox.update(failed.retried(app.clock.now()))
        await uow.commit()
    app.mailer.fail_with = None
    assert (await app.core.deliver_outbox().execute()).delivered == 1
