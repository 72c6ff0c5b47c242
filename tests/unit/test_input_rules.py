"""The domain's own input rules: single-line values, bounded keys, payment-only events.

The HTTP edge checks the same; these rules hold for every entrypoint (the pay
form, the bot, the CLI) because the use cases check them.
"""

from __future__ import annotations

import pytest

from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.outbox import MAX_DEDUPE_KEY, Channel, mobislon_dedupe_key
from accessgate.domain.model.values import MAX_CLICKID, Email, header_text, single_line
from accessgate.domain.usecases.relay_tracking_event import TrackingCommand
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from tests.unit.conftest import App

CONTROLS = ["\x00", "\t", "\n", "\r", "\x1f", "\x7f", "\x85"]


def test_mobislon_keys_are_bounded_and_one_per_pair() -> None:
    long_key = mobislon_dedupe_key("ж" * 100_000, "transition_to_payment")
    assert len(long_key) <= MAX_DEDUPE_KEY
    assert mobislon_dedupe_key("c", "pay_success") == mobislon_dedupe_key("c", "pay_success")
    assert mobislon_dedupe_key("c", "pay_success") != mobislon_dedupe_key("d", "pay_success")
    assert mobislon_dedupe_key("c", "pay_success") != mobislon_dedupe_key("c", "start_quiz")


@pytest.mark.parametrize("char", CONTROLS)
def test_single_line_values_refuse_every_control_character(char: str) -> None:
    with pytest.raises(ValidationError) as caught:
        single_line(f"a{char}b", "clickid")
    assert caught.value.details == {"field": "clickid"}
    with pytest.raises(ValidationError):
        Email.parse(f"bu{char}yer@example.com")
    assert header_text(f" agent{char}/1 ", 512) == "agent /1"


def test_header_text_is_cut_to_its_column() -> None:
    assert header_text("u" * 2000, 512) == "u" * 512
    assert header_text("\x00\x01", 512) is None


@pytest.mark.parametrize("field", ["clickid", "telegram_chat_id", "fbclid", "locale", "plan"])
async def test_checkout_refuses_a_control_character_in_what_the_buyer_sent(
    app: App, field: str
) -> None:
    values = {"mode": "one_time", "plan": "one_time_basic", "email": "b@example.com"}
    command = StartCheckoutCommand(**(values | {field: "x\x00y"}))  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        await app.core.start_checkout().execute(command)
    assert caught.value.details["field"] == field
    assert app.store.tables.orders == {}


async def test_checkout_refuses_a_clickid_longer_than_the_provider_keeps(app: App) -> None:
    assert (await app.checkout(clickid="c" * MAX_CLICKID)).order_id
    with pytest.raises(ValidationError) as caught:
        await app.checkout(clickid="c" * (MAX_CLICKID + 1))
    assert caught.value.details["field"] == "clickid"


async def test_checkout_records_headers_cleaned_never_refused(app: App) -> None:
    command = StartCheckoutCommand(
        mode="one_time",
        plan="one_time_basic",
        email="b@example.com",
        client_ip="203.0.113.9\n",
        user_agent="agent\x00/1" + "u" * 1000,
    )
    started = await app.core.start_checkout().execute(command)
    order = app.store.tables.orders[started.order_id]
    assert order.client_ip == "203.0.113.9"
    assert order.user_agent == ("agent /1" + "u" * 1000)[:512]


@pytest.mark.parametrize(
    ("channel", "status"),
    [
        (Channel.MOBISLON, "pay_success"),
        (Channel.MOBISLON, " pay_success"),
        (Channel.META, "Purchase"),
        (Channel.META, "PURCHASE "),
    ],
)
async def test_the_relay_refuses_the_events_that_count_a_payment(
    app: App, channel: Channel, status: str
) -> None:
    relay = app.core.relay_tracking_event()
    with pytest.raises(ValidationError) as caught:
        await relay.execute(TrackingCommand(channel=channel, status=status, clickid="c"))
    assert caught.value.details["field"] == "status"
    assert app.store.tables.outbox == {}


async def test_the_paid_order_still_writes_pay_success_under_the_hashed_key(app: App) -> None:
    clickid = "ж" * MAX_CLICKID
    started = await app.checkout(clickid=clickid)
    await app.pay(started.session_id)
    [postback] = [m for m in app.store.tables.outbox.values() if m.channel is Channel.MOBISLON]
    assert postback.payload["clickid"] == clickid
    assert postback.dedupe_key == mobislon_dedupe_key(clickid, "pay_success")
