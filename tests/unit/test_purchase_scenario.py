"""The whole purchase on memory adapters, as a buyer and the bot live it."""

import pytest

from accessgate.domain.model.errors import TokenInvalid
from accessgate.domain.model.payment_event import EventOutcome
from accessgate.domain.usecases.activate_access import ActivateAccessCommand
from accessgate.domain.usecases.confirm_restore import ConfirmRestoreCommand
from tests.unit.conftest import App


async def test_checkout_to_restore(app: App) -> None:
    started = await app.checkout(email="Reader@Example.com")
    status = await app.core.session_status().execute(started.session_id)
    assert (status.payment_status, status.access_status, status.activation_link) == (
        "unpaid",
        "pending",
        None,
    )

    event = app.gateway.completion(started.session_id)
    assert await app.deliver(event) == [EventOutcome.FULFILLED]
    assert await app.deliver(event) == [EventOutcome.DUPLICATE]

    status = await app.core.session_status().execute(started.session_id)
    assert (status.payment_status, status.fulfillment_status, status.access_status) == (
        "paid",
        "fulfilled",
        "token_issued",
    )
    assert status.activation_link
    await app.core.deliver_outbox().execute()
    assert app.mailer.sent[0].context["activation_link"] == status.activation_link

    old_token = app.link_token(status.activation_link)
    result = await app.core.activate_access().execute(
        ActivateAccessCommand(activation_token=old_token, telegram_user_id=1001)
    )
    assert result.access_granted
    view = await app.core.access_status().execute(1001)
    assert (view.is_paid, view.access_status) == (True, "active")

    await app.core.request_restore().execute("reader@example.com")
    await app.core.deliver_outbox().execute()
    code = app.mailer.sent[-1].context["code"]
    restored = await app.core.confirm_restore().execute(
        ConfirmRestoreCommand(email="READER@example.com", otp=code)
    )
    with pytest.raises(TokenInvalid):
        await app.core.activate_access().execute(
            ActivateAccessCommand(activation_token=old_token, telegram_user_id=2002)
        )
    new_token = app.link_token(restored.activation_link)
    again = await app.core.activate_access().execute(
        ActivateAccessCommand(activation_token=new_token, telegram_user_id=2002)
    )
    assert again.access_granted
    assert (await app.core.access_status().execute(2002)).is_paid
    assert not (await app.core.access_status().execute(1001)).is_paid
