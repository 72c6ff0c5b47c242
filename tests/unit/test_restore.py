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
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.usecases.activate_access import ActivateAccessCommand
from accessgate.domain.usecases.confirm_restore import ConfirmRestoreCommand
from tests.unit.conftest import App

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
    assert await app.core.request_restore().execute("stranger@example.com") is None
    assert await request_code(app, "stranger@example.com") is None
    assert "stranger@example.com" not in app.store.tables.otps


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
