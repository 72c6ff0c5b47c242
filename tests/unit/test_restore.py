from datetime import timedelta

import msgspec
import pytest

from accessgate.domain.model.errors import (
    OtpExpired,
    OtpInvalid,
    TokenInvalid,
    TooManyAttempts,
    UserNotFound,
)
from accessgate.domain.model.outbox import OutboxStatus
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.usecases.activate_access import ActivateAccessCommand
from accessgate.domain.usecases.confirm_restore import ConfirmRestoreCommand
from accessgate.domain.usecases.request_restore import RequestRestore
from tests.unit.conftest import App
from tests.unit.recording_uow import RecordingUnitOfWorkFactory

EMAIL = "buyer@example.com"


async def bought(app: App) -> str:
    started = await app.checkout(email=EMAIL)
    await app.pay(started.session_id)
    return started.order_id


async def request_code(app: App, email: str = EMAIL) -> str | None:
    await app.core.request_restore().execute(email)
    await app.core.deliver_outbox().execute()
    codes = [m.context["code"] for m in app.mailer.sent if m.template == "restore_code"]
    return codes[-1] if codes else None


async def confirm(app: App, code: str, user: int | None = None, email: str = EMAIL):  # type: ignore[no-untyped-def]
    command = ConfirmRestoreCommand(email=email, otp=code, telegram_user_id=user)
    return await app.core.confirm_restore().execute(command)


async def test_code_is_six_digits_stored_as_keyed_hash(app: App) -> None:
    await bought(app)
    code = await request_code(app)
    assert code is not None
    assert len(code) == 6
    assert code.isdigit()
    challenge = app.store.tables.otps[EMAIL]
    dump = msgspec.json.encode([challenge, *app.store.tables.outbox.values()])
    assert code.encode() not in dump
    assert challenge.attempts_left == 5
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=10)


async def test_code_email_uses_the_order_locale(app: App) -> None:
    await bought(app)
    await request_code(app)
    assert app.mailer.sent[-1].locale == "ru"
    assert app.mailer.sent[-1].context["ttl_minutes"] == "10"


async def test_unknown_email_gets_the_same_answer_and_nothing_is_sent(app: App) -> None:
    await bought(app)
    await app.core.deliver_outbox().execute()
    sent_before = len(app.mailer.sent)
    assert await app.core.request_restore().execute("stranger@example.com") is None
    assert await request_code(app, "stranger@example.com") is None
    assert len(app.mailer.sent) == sent_before
    # The same writes as for a buyer: a challenge and one outbox message, discarded
    # by the delivery, which finds no restorable order.
    assert "stranger@example.com" in app.store.tables.otps
    [message] = [m for m in app.store.tables.outbox.values() if "restore" in m.dedupe_key]
    assert message.status is OutboxStatus.DISCARDED


async def test_code_expires_after_ten_minutes(app: App) -> None:
    await bought(app)
    code = await request_code(app)
    assert code
    app.clock.advance(timedelta(minutes=10))
    with pytest.raises(OtpExpired):
        await confirm(app, code)


async def test_five_wrong_attempts_burn_the_code(app: App) -> None:
    await bought(app)
    code = await request_code(app)
    assert code
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(OtpInvalid):
            await confirm(app, wrong)
    with pytest.raises(TooManyAttempts):
        await confirm(app, wrong)
    with pytest.raises(TooManyAttempts):
        await confirm(app, code)


async def test_new_request_replaces_the_old_code_after_the_cooldown(app: App) -> None:
    await bought(app)
    first = await request_code(app)
    assert await request_code(app) == first  # within the cooldown: nothing new sent
    assert len(app.mailer.sent) == 2  # access email + one code
    app.clock.advance(timedelta(seconds=61))
    second = await request_code(app)
    assert second is not None
    assert len(app.mailer.sent) == 3
    if first != second:
        assert first
        with pytest.raises(OtpInvalid):
            await confirm(app, first)
    result = await confirm(app, second)
    assert result.status == "restored"


async def test_confirm_rotates_the_token_and_activates_at_once(app: App) -> None:
    order_id = await bought(app)
    status = await app.core.session_status().execute(
        app.store.tables.orders[order_id].provider_session_id
    )
    assert status.activation_link
    old_token = app.link_token(status.activation_link)
    code = await request_code(app)
    assert code
    result = await confirm(app, code, user=777)
    assert result.access_granted
    assert result.order_id == order_id
    assert app.store.tables.accesses[order_id].status is AccessStatus.ACTIVE
    assert app.store.tables.accesses[order_id].telegram_user_id == 777
    with pytest.raises(TokenInvalid):
        await app.core.activate_access().execute(
            ActivateAccessCommand(activation_token=old_token, telegram_user_id=777)
        )
    new_token = app.link_token(result.activation_link)
    again = await app.core.activate_access().execute(
        ActivateAccessCommand(activation_token=new_token, telegram_user_id=777)
    )
    assert again.access_granted
    with pytest.raises(OtpInvalid):
        await confirm(app, code)  # consumed


async def test_confirm_without_telegram_id_only_rotates(app: App) -> None:
    order_id = await bought(app)
    code = await request_code(app)
    assert code
    result = await confirm(app, code)
    assert not result.access_granted
    assert app.store.tables.accesses[order_id].status is AccessStatus.TOKEN_ISSUED


async def test_confirm_without_a_request_is_invalid(app: App) -> None:
    with pytest.raises(OtpInvalid):
        await confirm(app, "123456")


async def test_refunded_buyer_cannot_restore(app: App) -> None:
    order_id = await bought(app)
    code = await request_code(app)
    assert code
    access = app.store.tables.accesses[order_id]
    app.store.tables.accesses[order_id] = access.revoke(access.changed_at, access.changed_at)
    with pytest.raises(UserNotFound):
        await confirm(app, code)


def recorded_request_restore(app: App) -> tuple[RequestRestore, RecordingUnitOfWorkFactory]:
    """RequestRestore over the app's store, its repository calls recorded."""
    recording = RecordingUnitOfWorkFactory(app.core.uow())
    use_case = RequestRestore(
        uow=recording,
        clock=app.clock,
        tokens=app.core.tokens(),
        codec=app.core.codec(),
        credentials=app.core.credentials(),
    )
    return use_case, recording


async def test_request_does_the_same_statements_and_writes_for_buyer_and_stranger(
    app: App,
) -> None:
    """Issue 12 item 3: no timing difference, shown structurally (no clock measured)."""
    await bought(app)
    use_case, recording = recorded_request_restore(app)
    outbox_before = len(app.store.tables.outbox)
    await use_case.execute(EMAIL)
    buyer_calls = list(recording.calls)
    recording.calls.clear()
    await use_case.execute("stranger@example.com")
    assert recording.calls == buyer_calls
    # The restore email is written by the RestoreRequested subscriber inside the commit.
    assert buyer_calls == [
        "begin",
        "otps.get",
        "otps.replace",
        "record.RestoreRequested",
        "commit",
        "end",
    ]
    assert len(app.store.tables.outbox) == outbox_before + 2
    assert set(app.store.tables.otps) == {EMAIL, "stranger@example.com"}


async def test_wrong_code_answers_the_same_for_buyer_and_stranger(app: App) -> None:
    """Issue 12 item 3: ``attempts_left`` no longer tells a buyer from a stranger."""
    await bought(app)
    for email in (EMAIL, "stranger@example.com"):
        await app.core.request_restore().execute(email)
    answers = []
    for email in (EMAIL, "stranger@example.com"):
        challenge = app.store.tables.otps[email]
        right = app.core.codec().otp_code(challenge.seed)
        wrong = "000000" if right != "000000" else "111111"
        with pytest.raises(OtpInvalid) as caught:
            await confirm(app, wrong, email=email)
        answers.append((caught.value.code, caught.value.message, caught.value.details))
    assert answers[0] == answers[1]
    assert answers[0][2] == {"attempts_left": 4}


async def codes_sent(app: App) -> int:
    await app.core.deliver_outbox().execute()
    return sum(1 for m in app.mailer.sent if m.template == "restore_code")


async def test_codes_per_address_are_capped_per_day(app: App) -> None:
    """Issue 12 item 12: at most RESTORE_MAX_CODES_PER_DAY (5) codes a day per address."""
    await bought(app)
    cap = app.core.credentials().otp_max_codes_per_window
    assert cap == 5
    for n in range(cap):
        await app.core.request_restore().execute(EMAIL)
        await app.core.request_restore().execute("stranger@example.com")
        assert await codes_sent(app) == n + 1
        app.clock.advance(timedelta(seconds=61))
    outbox = len(app.store.tables.outbox)
    challenge = app.store.tables.otps[EMAIL]
    for _ in range(3):  # over the cap: the same answer, no new code, no email
        assert await app.core.request_restore().execute(EMAIL) is None
        await app.core.request_restore().execute("stranger@example.com")
        app.clock.advance(timedelta(hours=1))
    assert app.store.tables.otps[EMAIL] == challenge
    assert len(app.store.tables.outbox) == outbox
    assert await codes_sent(app) == cap
    app.clock.advance(timedelta(hours=21))  # a day after the first code: a new window
    await app.core.request_restore().execute(EMAIL)
    assert await codes_sent(app) == cap + 1
    assert app.store.tables.otps[EMAIL].codes_in_window == 1


async def test_the_cap_bounds_the_guesses_per_day(app: App) -> None:
    """5 codes x 5 attempts: at most 25 guesses a day against one address (was ~7,000)."""
    await bought(app)
    spent: dict[str, int] = {}
    for _ in range(20):
        await app.core.request_restore().execute(EMAIL)
        challenge = app.store.tables.otps[EMAIL]
        right = app.core.codec().otp_code(challenge.seed)
        wrong = "000000" if right != "000000" else "111111"
        for _ in range(10):
            with pytest.raises((OtpInvalid, TooManyAttempts)):
                await confirm(app, wrong)
        burnt = app.store.tables.otps[EMAIL]
        spent[burnt.id] = app.core.credentials().otp_max_attempts - burnt.attempts_left
        app.clock.advance(timedelta(seconds=61))
    assert len(spent) == 5
    assert sum(spent.values()) == 25
