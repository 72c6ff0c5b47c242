"""The signed pay URL: a purchase from the bot's pay button needs no deep link."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiogram import Bot, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message, Update

from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.telegram_link import (
    signed_pay_url,
    telegram_id_signature,
    verify_telegram_id,
)
from accessgate.entrypoints.bot import create_bot_dispatcher
from tests.bot.telegram_api import TOKEN, TelegramApiStandIn, telegram_api
from tests.pages.site import Site, running_site

BUYER = 6_000_001


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


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with running_site() as running:
        yield running


def test_signature_round_trip_and_refusals() -> None:
    key = b"k" * 32
    url = signed_pay_url("https://shop.example/pay?plan=sub_monthly", key, 42)
    query = parse_qs(urlsplit(url).query)
    assert query["plan"] == ["sub_monthly"]
    assert query["tg"] == ["42"]
    assert verify_telegram_id(key, "42", query["tg_sig"][0]) == 42
    assert verify_telegram_id(key, "43", query["tg_sig"][0]) is None
    assert verify_telegram_id(b"other" * 8, "42", query["tg_sig"][0]) is None
    for raw_id, sig in [
        ("", "x"),
        ("42", ""),
        ("-42", telegram_id_signature(key, 42)),
        ("4a", "00"),
    ]:
        assert verify_telegram_id(key, raw_id, sig) is None


def shop_router() -> Router:
    """The shop's own router (a Router joins one dispatcher only: one per dispatcher)."""
    shop = Router()

    @shop.message(F.text == "menu")
    async def menu(message: Message) -> None:
        await message.answer("shop menu")

    return shop


async def _buy(site: Site, form: dict[str, str]) -> str:
    started = await site.pay_form(email="tg@example.com", plan="one_time_basic", **form)
    assert started.status_code == 303, started.text
    session_id = started.headers["location"].rsplit("/", 1)[1]
    await site.client.post(f"/sandbox/checkout/{session_id}/pay", headers={"Origin": site.base_url})
    for _ in range(200):
        if site.order(session_id).fulfillment_status.value == "fulfilled":
            return session_id
        await asyncio.sleep(0.05)
    raise AssertionError("the order was not fulfilled")


async def _say(
    stand_in: TelegramApiStandIn, dp: Any, bot: Bot, n: int, text: str
) -> dict[str, Any]:
    before = len(stand_in.sent(BUYER))
    raw = {"update_id": n, **stand_in.message_update(BUYER, text)}
    await dp.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))
    answers = stand_in.sent(BUYER)[before:]
    assert len(answers) == 1
    return answers[0]


async def test_a_verified_pay_url_purchase_grants_access_without_a_deep_link(
    site: Site, stand_in: TelegramApiStandIn, bot: Bot
) -> None:
    dp = create_bot_dispatcher(site.core, extra_routers=[shop_router()])
    wall = await _say(stand_in, dp, bot, 1, "menu")
    pay_url = wall["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert pay_url.startswith(f"{site.base_url}/pay?")
    # The pay form carries the signed id on to the checkout.
    form_page = await site.client.get(pay_url)
    query = {k: v[0] for k, v in parse_qs(urlsplit(pay_url).query).items()}
    assert f'value="{query["tg_sig"]}"' in form_page.text
    session_id = await _buy(site, query)
    order = site.order(session_id)
    assert order.telegram_user_id == BUYER
    assert order.telegram_chat_id == str(BUYER)
    access = site.store.tables.accesses[order.id]
    assert access.status is AccessStatus.ACTIVE
    assert access.telegram_user_id == BUYER
    # A fresh dispatcher (no cache): the buyer passes the wall without any /start <token>.
    dp = create_bot_dispatcher(site.core, extra_routers=[shop_router()])
    assert (await _say(stand_in, dp, bot, 2, "menu"))["text"] == "shop menu"


async def test_a_forged_or_unsigned_id_is_not_trusted(site: Site) -> None:
    forged = await _buy(site, {"tg": str(BUYER), "tg_sig": "0" * 64})
    plain = await _buy(site, {"telegram_chat_id": str(BUYER)})
    for session_id in (forged, plain):
        order = site.order(session_id)
        assert order.telegram_user_id is None
        access = site.store.tables.accesses[order.id]
        assert access.status is AccessStatus.TOKEN_ISSUED
        assert access.telegram_user_id is None
    assert site.order(plain).telegram_chat_id == str(BUYER)
