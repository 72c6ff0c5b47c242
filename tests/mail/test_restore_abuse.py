"""Abuse of restore by email code, on the use cases over memory adapters.

The codes are read from the console mailer, as a buyer reads them from the email.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import timedelta

import pytest

from accessgate.adapters.console.mailer import ConsoleMailer
from accessgate.adapters.smtp.renderer import TemplateRenderer
from accessgate.domain.model.errors import OtpInvalid, TooManyAttempts
from accessgate.domain.model.outbox import EmailTemplate
from accessgate.domain.model.values import Locale
from accessgate.domain.usecases.confirm_restore import ConfirmRestoreCommand
from tests.mail.world import CREDENTIALS, World

BUYER = "buyer@example.org"
STRANGER = "nobody@example.org"


async def restore_emails(world: World, mailer: ConsoleMailer) -> list[str]:
    """Run the outbox and return the codes of every restore email sent so far."""
    await world.deliverer(mailer).execute()
    codes = []
    for sent in mailer.sent:
        if sent.message.template is EmailTemplate.RESTORE_CODE:
            found = re.search(r"\b(\d{6})\b", sent.rendered.text)
            assert found is not None
            codes.append(found.group(1))
    return codes


async def answer(call: Awaitable[object]) -> object:
    """What a use case returned (RequestRestore's answer is None for every email)."""
    return await call


def confirm(world: World, code: str) -> ConfirmRestoreCommand:
    return ConfirmRestoreCommand(email=BUYER, otp=code, telegram_user_id=777)


async def test_brute_force_stops_after_five_attempts() -> None:
    world = World()
    mailer = ConsoleMailer(TemplateRenderer())
    await world.paid_order(BUYER)
    await world.request_restore().execute(BUYER)
    [code] = await restore_emails(world, mailer)
    wrong = [f"{(int(code) + n) % 10**6:06d}" for n in range(1, 8)]
    confirm_restore = world.confirm_restore()

    for n, guess in enumerate(wrong[:4], start=1):
        with pytest.raises(OtpInvalid) as caught:
            await confirm_restore.execute(confirm(world, guess))
        assert caught.value.details["attempts_left"] == CREDENTIALS.otp_max_attempts - n
    with pytest.raises(TooManyAttempts):
        await confirm_restore.execute(confirm(world, wrong[4]))
    for guess in (wrong[5], code):  # burnt: even the right code no longer works
        with pytest.raises(TooManyAttempts):
            await confirm_restore.execute(confirm(world, guess))

    world.clock.advance(CREDENTIALS.otp_cooldown)
    await world.request_restore().execute(BUYER)  # the owner asks for a new code
    codes = await restore_emails(world, mailer)
    assert len(codes) == 2
    result = await confirm_restore.execute(confirm(world, codes[1]))
    assert result.access_granted


async def test_request_flooding_of_one_email_sends_one_email_per_cooldown() -> None:
    world = World()
    mailer = ConsoleMailer(TemplateRenderer())
    await world.paid_order(BUYER)
    request = world.request_restore()
    step = CREDENTIALS.otp_cooldown / 50
    for _ in range(40):  # 40 requests inside one cooldown window
        assert await answer(request.execute(BUYER)) is None
        world.clock.advance(step)
    assert len(await restore_emails(world, mailer)) == 1

    world.clock.advance(CREDENTIALS.otp_cooldown)
    for _ in range(10):
        await request.execute(BUYER)
    codes = await restore_emails(world, mailer)
    assert len(codes) == 2
    with pytest.raises(OtpInvalid):  # the newer code replaced the older one
        await world.confirm_restore().execute(confirm(world, codes[0]))


async def test_known_and_unknown_emails_get_the_same_answer_and_the_same_writes() -> None:
    """The request does the same work for any address; only the delivery tells them apart."""
    world = World()
    await world.paid_order(BUYER)
    request = world.request_restore()
    commits, outbox = world.store.commits, len(world.store.tables.outbox)

    unknown = await answer(request.execute(STRANGER))
    assert world.store.commits == commits + 1
    assert len(world.store.tables.outbox) == outbox + 1
    known = await answer(request.execute(BUYER))
    assert known is unknown is None
    assert world.store.commits == commits + 2
    assert len(world.store.tables.outbox) == outbox + 2

    mailer = ConsoleMailer(TemplateRenderer())
    assert len(await restore_emails(world, mailer)) == 1  # the stranger is sent nothing
    restore = [m for m in mailer.sent if m.message.template is EmailTemplate.RESTORE_CODE]
    assert [m.message.to for m in restore] == [BUYER]

    for _ in range(10):  # flooding an address: one code per cooldown, at most the daily cap
        world.clock.advance(timedelta(minutes=5))
        await request.execute(STRANGER.upper())
    outbox_rows = world.store.tables.outbox.values()
    stranger_rows = [m for m in outbox_rows if m.payload.get("email") == STRANGER]
    assert len(stranger_rows) == CREDENTIALS.otp_max_codes_per_window
    assert len(await restore_emails(world, mailer)) == 1


async def test_an_unpaid_order_is_treated_like_an_unknown_email() -> None:
    world = World()
    await world.paid_order(BUYER)
    await world.unpaid_order("unpaid@example.org")
    commits = world.store.commits
    assert await answer(world.request_restore().execute("unpaid@example.org")) is None
    assert world.store.commits == commits + 1
    assert await answer(world.request_restore().execute(" BUYER@Example.org ")) is None
    assert world.store.commits == commits + 2
    mailer = ConsoleMailer(TemplateRenderer())
    assert len(await restore_emails(world, mailer)) == 1
    restore = [m for m in mailer.sent if m.message.template is EmailTemplate.RESTORE_CODE]
    assert [m.message.to for m in restore] == [BUYER]


@pytest.mark.parametrize(
    ("locale", "subject", "lifetime"),
    [
        (Locale.EN, "Your access restore code", "valid for 10 minutes"),
        (Locale.RU, "Код для восстановления доступа", "Код действует 10 мин."),
    ],
)
async def test_the_restore_email_has_the_code_and_its_lifetime_in_the_orders_language(
    locale: Locale, subject: str, lifetime: str
) -> None:
    world = World()
    mailer = ConsoleMailer(TemplateRenderer())
    await world.paid_order(BUYER, locale)
    await world.request_restore().execute(BUYER)
    [code] = await restore_emails(world, mailer)
    sent = mailer.sent[-1]
    assert sent.rendered.subject == subject
    assert sent.message.context == {"code": code, "ttl_minutes": "10"}
    for body in (sent.rendered.text, sent.rendered.html):
        assert code in body
        assert lifetime in " ".join(body.split())
    result = await world.confirm_restore().execute(confirm(world, code))
    assert result.status == "restored"
