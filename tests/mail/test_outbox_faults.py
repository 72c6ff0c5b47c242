"""Fault tests through the real outbox: SMTP down, a worker killed after the commit or the claim."""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import timedelta
from typing import Any

from accessgate.adapters.smtp.mailer import SmtpMailer
from accessgate.adapters.smtp.renderer import TemplateRenderer
from accessgate.domain.model.outbox import OutboxStatus
from accessgate.domain.model.values import Locale
from accessgate.domain.usecases.confirm_restore import ConfirmRestoreCommand
from tests.mail.smtp_server import HOST, CountingHandler, black_hole, free_port, parts, smtp_server
from tests.mail.world import RETRY, World

BUYER = "buyer@example.org"
LEASE = timedelta(minutes=2)  # DeliverOutbox's default lease


def smtp(port: int, **options: Any) -> SmtpMailer:
    options.setdefault("timeout", 5)
    return SmtpMailer(
        renderer=TemplateRenderer(),
        sender="shop@example.com",
        host=HOST,
        port=port,
        starttls=False,
        **options,
    )


async def test_server_down_when_due_then_back_delivers_exactly_once() -> None:
    world = World()
    order_id = await world.paid_order(BUYER, Locale.RU)
    port = free_port()  # nothing listens here yet: the SMTP server is down
    worker = world.deliverer(smtp(port))

    previous_delay = timedelta(0)
    for attempt in (1, 2, 3):
        report = await worker.execute()
        assert (report.claimed, report.retrying, report.delivered) == (1, 1, 0)
        [message] = await world.outbox()
        assert message.status is OutboxStatus.PENDING
        assert message.attempts == attempt
        assert message.last_error == "SMTP connection failed: SMTPConnectError"
        delay = message.next_attempt_at - world.clock.now()
        assert delay == RETRY.delay(attempt, 0.5)  # exponential backoff, jitter 0.5
        assert delay > previous_delay
        previous_delay = delay
        assert (await worker.execute()).claimed == 0  # not due again before the backoff
        world.clock.set(message.next_attempt_at)

    handler = CountingHandler()
    with smtp_server(handler, port=port):
        report = await worker.execute()
        assert (report.claimed, report.delivered) == (1, 1)
        for _ in range(3):
            world.clock.advance(timedelta(hours=2))
            assert (await worker.execute()).claimed == 0

    assert handler.count == 1
    [message] = await world.outbox()
    assert message.status is OutboxStatus.DELIVERED
    assert message.attempts == 4
    email = handler.messages[0].message
    assert email["Content-Language"] == "ru"
    text, html = parts(email)
    assert await world.current_link(order_id) in text
    assert "Бессрочный доступ" in html


async def test_a_server_that_stays_down_ends_in_the_visible_failed_state() -> None:
    world = World()
    await world.paid_order(BUYER)
    worker = world.deliverer(smtp(free_port()))
    for _ in range(RETRY.max_attempts + 5):  # bounded
        await worker.execute()
        [message] = await world.outbox()
        if message.status is not OutboxStatus.PENDING:
            break
        world.clock.set(message.next_attempt_at)
    assert message.status is OutboxStatus.FAILED
    assert message.attempts == RETRY.max_attempts
    assert message.last_error is not None


async def test_a_refused_recipient_fails_at_once() -> None:
    world = World()
    await world.paid_order(BUYER)
    handler = CountingHandler(refuse={BUYER: "550 5.1.1 No such user"})
    with smtp_server(handler) as server:
        report = await world.deliverer(smtp(server.port)).execute()
    assert report.failed == 1
    [message] = await world.outbox()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert message.last_error is not None
    assert message.last_error.startswith("SMTP recipient refused: 550")


async def test_stopped_between_commit_and_send_is_delivered_once_after_restart() -> None:
    world = World()
    await world.paid_order(BUYER)  # committed; the process stops before any worker runs
    handler = CountingHandler()
    with smtp_server(handler) as server:
        restarted = world.deliverer(smtp(server.port))  # fresh objects over the same store
        assert (await restarted.execute()).delivered == 1
        again = world.deliverer(smtp(server.port))
        for _ in range(3):
            world.clock.advance(timedelta(minutes=30))
            assert (await again.execute()).claimed == 0
    assert handler.count == 1


async def test_worker_killed_after_claiming_is_redelivered_once_after_the_lease() -> None:
    world = World()
    await world.paid_order(BUYER)
    async with black_hole() as (port, connected):
        dying = world.deliverer(smtp(port, timeout=60))
        task = asyncio.create_task(dying.execute())
        await asyncio.wait_for(connected.wait(), timeout=10)
        task.cancel()  # the process dies in the middle of the send
        with contextlib.suppress(asyncio.CancelledError):
            await task
    [message] = await world.outbox()
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 0
    assert message.locked_until is not None
    assert message.locked_until > world.clock.now()

    handler = CountingHandler()
    with smtp_server(handler) as server:
        restarted = world.deliverer(smtp(server.port))
        assert (await restarted.execute()).claimed == 0  # the dead worker's lease still holds
        world.clock.advance(LEASE + timedelta(seconds=1))
        assert (await restarted.execute()).delivered == 1
        for _ in range(3):
            world.clock.advance(LEASE * 2)
            assert (await restarted.execute()).claimed == 0
    assert handler.count == 1
    [message] = await world.outbox()
    assert message.status is OutboxStatus.DELIVERED


async def test_restore_code_sent_over_smtp_confirms_the_restore() -> None:
    world = World()
    await world.paid_order(BUYER, Locale.EN)
    handler = CountingHandler()
    with smtp_server(handler) as server:
        worker = world.deliverer(smtp(server.port))
        await worker.execute()  # the access email
        await world.request_restore().execute(BUYER)
        assert (await worker.execute()).delivered == 1
    assert handler.count == 2
    restore_email = handler.messages[1].message
    assert restore_email["Subject"] == "Your access restore code"
    text, html = parts(restore_email)
    found = re.search(r"\b(\d{6})\b", text)
    assert found is not None
    code = found.group(1)
    assert code in html
    assert "valid for 10 minutes" in text
    result = await world.confirm_restore().execute(ConfirmRestoreCommand(email=BUYER, otp=code))
    assert result.status == "restored"
