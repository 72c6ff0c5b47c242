"""The bot's core (botcore): the real aiogram Dispatcher fed Update objects.

The bot talks to the local Bot API stand-in (tests/bot/telegram_api.py) and to the
access service through the in-process AccessClient over a memory container.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message, Update

from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.telegram_link import verify_telegram_id
from accessgate.entrypoints.bot import create_bot_dispatcher
from accessgate.ports.access_client import AccessInfo
from tests.bot.telegram_api import TOKEN, TelegramApiStandIn, telegram_api
from tests.unit.conftest import SETTINGS, App
from tests.unit.conftest import app as app  # the fixture

SECRET = SETTINGS.service.secret_key.encode()
BUYER = 5_000_001
OTHER = 5_000_002
EMAIL = "buyer@example.com"
PAY_BUTTON = {"ru": "Оплатить доступ", "en": "Pay for access"}


@pytest.fixture(scope="module")
def stand_in() -> Iterator[TelegramApiStandIn]:
    with telegram_api() as api:
        yield api


@pytest.fixture
async def bot(stand_in: TelegramApiStandIn) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(stand_in.base_url))
    bot = Bot(TOKEN, session=session)
    try:
        yield bot
    finally:
        await session.close()


class Chat:
    """Feeds one user's messages to the dispatcher and reads the bot's answers."""

    def __init__(self, api: TelegramApiStandIn, dp: Dispatcher, bot: Bot) -> None:
        self.api, self.dp, self.bot = api, dp, bot
        self._ids = iter(range(1, 10_000))

    async def say(self, user_id: int, text: str, language_code: str = "en") -> dict[str, Any]:
        """Send ``text`` as ``user_id``; the one message the bot answered."""
        before = len(self.api.sent(user_id))
        raw = {
            "update_id": next(self._ids),
            **self.api.message_update(user_id, text, language_code=language_code),
        }
        await self.dp.feed_update(self.bot, Update.model_validate(raw, context={"bot": self.bot}))
        answers = self.api.sent(user_id)[before:]
        assert len(answers) == 1, answers
        return answers[0]


def chat_for(app: App, api: TelegramApiStandIn, bot: Bot, routers: tuple[Router, ...] = ()) -> Chat:
    return Chat(api, create_bot_dispatcher(app.core, extra_routers=routers), bot)


async def paid_token(app: App, plan: str = "one_time_basic", email: str = EMAIL) -> str:
    started = await app.checkout(plan=plan, email=email)
    await app.pay(started.session_id)
    status = await app.core.session_status().execute(started.session_id)
    assert status.activation_link is not None
    return app.link_token(status.activation_link)


def button(answer: dict[str, Any]) -> dict[str, Any]:
    rows = answer["reply_markup"]["inline_keyboard"]
    assert len(rows) == 1
    assert len(rows[0]) == 1
    return rows[0][0]  # type: ignore[no-any-return]


def assert_pay_wall(answer: dict[str, Any], user_id: int, locale: str) -> None:
    pay = button(answer)
    assert pay["text"] == PAY_BUTTON[locale]
    url = urlsplit(pay["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == SETTINGS.pay_url
    query = parse_qs(url.query)
    assert verify_telegram_id(SECRET, query["tg"][0], query["tg_sig"][0]) == user_id
    assert verify_telegram_id(SECRET, str(user_id + 1), query["tg_sig"][0]) is None


def shop_router() -> Router:
    router = Router(name="shop")

    @router.message(F.text == "menu")
    async def menu(message: Message, access_info: AccessInfo) -> None:
        await message.answer(f"shop menu for {access_info.plan}")

    return router


# --- activation by deep link ---------------------------------------------------


async def test_deep_link_activates_then_is_idempotent_and_refuses_another_account(
    app: App, stand_in: TelegramApiStandIn, bot: Bot
) -> None:
    token = await paid_token(app)
    chat = chat_for(app, stand_in, bot, (shop_router(),))
    # Before: the shop's router is behind the wall.
    assert_pay_wall(await chat.say(BUYER, "menu"), BUYER, "en")
    activated = await chat.say(BUYER, f"/start {token}")
    # The order was placed in Russian: the bot answers in the order's language.
    assert activated["text"].startswith("Доступ активирован") or "activated" in activated["text"]
    assert "reply_markup" not in activated
    again = await chat.say(BUYER, f"/start {token}")
    assert again["text"] != activated["text"]
    assert (await chat.say(BUYER, "menu"))["text"] == "shop menu for one_time_basic"
    refused = await chat.say(OTHER, f"/start {token}")
    assert "/restore" in refused["text"]
    assert app.store.tables.accesses  # noqa: the buyer's access is untouched
    info = await app.core.access_client().status(BUYER)
    assert info.active
    assert info.state == "active"
    assert not (await app.core.access_client().status(OTHER)).active


async def test_each_activation_outcome_has_its_own_message(
    app: App, stand_in: TelegramApiStandIn, bot: Bot
) -> None:
    chat = chat_for(app, stand_in, bot)
    token = await paid_token(app)
    texts = {
        "activated": (await chat.say(BUYER, f"/start {token}", "en"))["text"],
        "again": (await chat.say(BUYER, f"/start {token}", "en"))["text"],
        "other": (await chat.say(OTHER, f"/start {token}", "en"))["text"],
        "unknown": (await chat.say(OTHER, "/start notarealtoken123", "en"))["text"],
    }
    expired_token = await paid_token(app, email="late@example.com")
    app.clock.advance(timedelta(days=400))
    texts["expired"] = (await chat.say(OTHER + 1, f"/start {expired_token}", "en"))["text"]
    assert len(set(texts.values())) == 4  # unknown and expired share "expired or not valid"
    assert texts["unknown"] == texts["expired"]
    assert "/restore" in texts["unknown"]
    assert "/restore" in texts["other"]


async def test_subscription_activation_names_plan_and_end_date(
    app: App, stand_in: TelegramApiStandIn, bot: Bot
) -> None:
    token = await paid_token(app, plan="sub_monthly")
    chat = chat_for(app, stand_in, bot)
    text = (await chat.say(BUYER, f"/start {token}"))["text"]
    info = await app.core.access_client().status(BUYER)
    assert info.valid_until is not None
    assert info.plan_title
    assert info.plan_title in text
    assert str(info.valid_until.year) in text
    status = (await chat.say(BUYER, "/start"))["text"]
    assert str(info.valid_until.year) in status
    assert "reply_markup" not in status


# --- the pay wall ----------------------------------------------------------------


@pytest.mark.parametrize("locale", ["ru", "uk", "be", "kk", "en", "de"])
async def test_pay_wall_for_a_user_without_access(
    app: App, stand_in: TelegramApiStandIn, bot: Bot, locale: str
) -> None:
    chat = chat_for(app, stand_in, bot, (shop_router(),))
    answer = await chat.say(BUYER, "menu", locale)
    assert_pay_wall(answer, BUYER, "ru" if locale in {"ru", "uk", "be", "kk"} else "en")
    alone = await chat.say(BUYER, "/start", locale)
    assert_pay_wall(alone, BUYER, "ru" if locale in {"ru", "uk", "be", "kk"} else "en")


@pytest.mark.parametrize(
    "status",
    [AccessStatus.PENDING, AccessStatus.TOKEN_ISSUED, AccessStatus.EXPIRED, AccessStatus.REVOKED],
)
async def test_pay_wall_for_every_inactive_status(
    app: App, stand_in: TelegramApiStandIn, bot: Bot, status: AccessStatus
) -> None:
    token = await paid_token(app)
    chat = chat_for(app, stand_in, bot, (shop_router(),))
    await chat.say(BUYER, f"/start {token}")
    tables = app.store.tables
    order_id, access = next(iter(tables.accesses.items()))
    tables.accesses[order_id] = msgspec.structs.replace(access, status=status)
    chat = chat_for(app, stand_in, bot, (shop_router(),))  # a fresh cache
    answer = await chat.say(BUYER, "menu", "en")
    # The order was placed in Russian: the wall speaks the order's language.
    assert_pay_wall(answer, BUYER, "ru")


async def test_commands_pass_the_wall(app: App, stand_in: TelegramApiStandIn, bot: Bot) -> None:
    chat = chat_for(app, stand_in, bot)
    assert "/restore" in (await chat.say(BUYER, "/help"))["text"]
    assert "reply_markup" not in await chat.say(BUYER, "/cancel")
    assert "reply_markup" not in await chat.say(BUYER, "/restore")
    assert "reply_markup" not in await chat.say(BUYER, "/cancel")


async def test_status_is_cached_and_dropped_on_activation(
    app: App, stand_in: TelegramApiStandIn, bot: Bot
) -> None:
    lookups: list[int] = []
    client = app.core.access_client()
    original = client.status

    async def counting(user_id: int) -> AccessInfo:
        lookups.append(user_id)
        return await original(user_id)

    client.status = counting  # type: ignore[method-assign]
    chat = chat_for(app, stand_in, bot, (shop_router(),))
    for _ in range(3):
        await chat.say(BUYER, "menu")
    assert lookups == [BUYER]
    token = await paid_token(app)
    await chat.say(BUYER, f"/start {token}")
    assert (await chat.say(BUYER, "menu"))["text"] == "shop menu for one_time_basic"


# --- restore ---------------------------------------------------------------------


async def restore_code(app: App) -> str:
    await app.core.deliver_outbox().execute()
    codes = [m.context["code"] for m in app.mailer.sent if m.template == "restore_code"]
    assert codes
    return str(codes[-1])


async def test_restore_conversation_grants_this_account(
    app: App, stand_in: TelegramApiStandIn, bot: Bot
) -> None:
    await paid_token(app)
    chat = chat_for(app, stand_in, bot, (shop_router(),))
    await chat.say(OTHER, "/restore")
    known = (await chat.say(OTHER, EMAIL))["text"]
    wrong = (await chat.say(OTHER, "000000"))["text"]
    assert EMAIL not in wrong
    assert "reply_markup" not in wrong
    code = await restore_code(app)
    restored = await chat.say(OTHER, code)
    assert "reply_markup" not in restored
    assert (await chat.say(OTHER, "menu"))["text"] == "shop menu for one_time_basic"
    # An unknown email gets the very same answer.
    await chat.say(OTHER + 7, "/restore")
    assert (await chat.say(OTHER + 7, "nobody@example.com"))["text"] == known
    wrong_unknown = (await chat.say(OTHER + 7, "123456"))["text"]
    assert wrong_unknown == wrong
    assert "nobody@example.com" not in wrong_unknown
    assert "leave" not in (await chat.say(OTHER + 7, "/cancel"))["text"]
    assert_pay_wall(await chat.say(OTHER + 7, "menu"), OTHER + 7, "en")
