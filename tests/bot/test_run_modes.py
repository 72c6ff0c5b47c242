"""How the bot runs (botio): the webhook route, polling through Bot API faults, settings.

The real aiogram Dispatcher and Bot talk to the local Bot API stand-in
(tests/bot/telegram_api.py); the access service is a memory container.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from litestar.testing import AsyncTestClient

from accessgate.config import ConfigError, load_settings
from accessgate.container import create_memory_container
from accessgate.entrypoints.bot.run import (
    SECRET_HEADER,
    create_bot,
    make_robust,
    register_webhook,
    run_polling,
    webhook_route,
)
from accessgate.entrypoints.bot.wiring import create_bot_dispatcher
from accessgate.entrypoints.http.app import create_app
from tests.bot.telegram_api import TOKEN, TelegramApiStandIn, telegram_api
from tests.http.helpers import assert_envelope, make_settings

SECRET = "webhook-secret_0123456789"
USER = 7_000_001
OTHER = 7_000_002
BLOCKER = 7_000_003


@pytest.fixture
def stand_in() -> Iterator[TelegramApiStandIn]:
    with telegram_api() as api:
        yield api


def bot_settings(api: TelegramApiStandIn, **overrides: Any) -> Any:
    return make_settings(
        telegram_bot_token=TOKEN,
        telegram_api_base=api.base_url,
        telegram_webhook_secret=SECRET,
        **overrides,
    )


@pytest.fixture
async def bot(stand_in: TelegramApiStandIn) -> AsyncIterator[Bot]:
    bot = create_bot(bot_settings(stand_in))
    try:
        yield bot
    finally:
        await bot.session.close()


# --- webhook mode ----------------------------------------------------------------


async def test_webhook_processes_updates_only_with_the_secret_header(
    stand_in: TelegramApiStandIn, bot: Bot
) -> None:
    settings = bot_settings(stand_in, bot_mode="webhook")
    core = create_memory_container(settings)
    dispatcher = make_robust(create_bot_dispatcher(core))
    app = create_app(settings, core, extra_route_handlers=[webhook_route(SECRET, bot, dispatcher)])
    path = f"/tg/webhook/{SECRET}"

    def update(user: int) -> dict[str, Any]:
        return {"update_id": user, **stand_in.message_update(user, "/help")}

    async with AsyncTestClient(app) as client:
        missing = await client.post(path, json=update(USER))
        assert_envelope(missing, 401, "UNAUTHORIZED")
        wrong = await client.post(path, json=update(USER), headers={SECRET_HEADER: "nope"})
        assert_envelope(wrong, 403, "INVALID_SIGNATURE")
        wrong_path = await client.post(
            "/tg/webhook/another-secret", json=update(USER), headers={SECRET_HEADER: SECRET}
        )
        assert_envelope(wrong_path, 403, "INVALID_SIGNATURE")
        assert stand_in.sent(USER) == []  # none of them was processed

        right = await client.post(path, json=update(USER), headers={SECRET_HEADER: SECRET})
        assert right.status_code == 200, right.text
        assert right.json() == {}
        (answer,) = stand_in.sent(USER)
        assert "/restore" in answer["text"]  # the help

        garbage = await client.post(path, content=b"{", headers={SECRET_HEADER: SECRET})
        assert_envelope(garbage, 400, "VALIDATION_ERROR")


async def test_set_webhook_registers_the_public_url_with_the_secret_and_commands(
    stand_in: TelegramApiStandIn, bot: Bot
) -> None:
    settings = bot_settings(stand_in, app_public_base_url="https://shop.example")
    url = await register_webhook(settings, bot)
    assert url == f"https://shop.example/tg/webhook/{SECRET}"
    assert stand_in.webhook == (url, SECRET)
    assert [c["command"] for c in stand_in.commands("ru")] == ["start", "restore", "help", "cancel"]
    assert [c["command"] for c in stand_in.commands("en")] == ["start", "restore", "help", "cancel"]


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"BOT_MODE": "webhook", "TELEGRAM_BOT_TOKEN": TOKEN}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"BOT_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_WEBHOOK_SECRET": "has spaces"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"BOT_ACCESS_API_URL": "http://accessgate:8000"}, "INTERNAL_API_TOKEN"),
        ({"TELEGRAM_API_BASE": "ftp://x"}, "TELEGRAM_API_BASE"),
    ],
)
def test_bot_settings_are_checked_at_start_up(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(environ)
    message = str(error.value)
    assert variable in message
    assert "\n" not in message
    assert TOKEN not in message


# --- polling ---------------------------------------------------------------------


async def _stop(dispatcher: Dispatcher, task: asyncio.Task[None]) -> None:
    await asyncio.wait_for(dispatcher.stop_polling(), 15)
    await asyncio.wait_for(task, 15)


async def wait_until(check: Any, limit: float = 20.0) -> None:
    """Poll ``check()`` every 50 ms until true; fail after ``limit`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_polling_survives_a_bot_api_outage_a_429_and_a_blocked_user(
    stand_in: TelegramApiStandIn, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    settings = bot_settings(stand_in)
    dispatcher = make_robust(create_bot_dispatcher(create_memory_container(settings)))
    # The Bot API is down at start-up, then for a while during polling.
    stand_in.fail_next(2, 500, methods={"getMe"})
    stand_in.fail_next(2, 500, methods={"getUpdates"})
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(
        run_polling(bot, dispatcher, handle_signals=False, polling_timeout=1)
    )
    try:
        stand_in.send_text(USER, "/help")
        await wait_until(lambda: len(stand_in.sent(USER)) == 1)
        assert [c.status for c in stand_in.calls("getMe")][:3] == [500, 500, 200]
        polls = [c.status for c in stand_in.calls("getUpdates")]
        assert polls[:2] == [500, 500]
        assert 200 in polls[2:]  # backed off, then recovered
        assert [c["command"] for c in stand_in.commands("ru")] == [
            "start",
            "restore",
            "help",
            "cancel",
        ]

        stand_in.fail_next(1, 429, retry_after=1, methods={"sendMessage"})
        stand_in.send_text(USER, "/help")
        await wait_until(lambda: len(stand_in.sent(USER)) == 2)
        sends = [c.status for c in stand_in.calls("sendMessage")]
        assert sends[-2:] == [429, 200]  # waited retry_after and sent again

        stand_in.block(BLOCKER)
        stand_in.send_text(BLOCKER, "/help")
        stand_in.send_text(BLOCKER, "/start")
        stand_in.send_text(OTHER, "/help")
        await wait_until(lambda: len(stand_in.sent(OTHER)) == 1)
        await wait_until(
            lambda: len([c for c in stand_in.calls("sendMessage") if c.status == 403]) == 2
        )
        assert not task.done()  # the dispatcher lives on
    finally:
        await _stop(dispatcher, task)
    blocked = [r for r in caplog.records if "blocked the bot" in r.getMessage()]
    assert len(blocked) == 1  # logged once for the chat
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
