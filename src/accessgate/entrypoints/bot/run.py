"""Running the bot: the Bot and its session, polling, the webhook route, the commands.

* ``TELEGRAM_API_BASE`` points aiogram at another Bot API server
  (``TelegramAPIServer.from_base``); Telegram's by default.
* Robust sending: a 429 waits ``retry_after`` and retries (:class:`RetryAfterMiddleware`,
  bounded); a user who blocked the bot (403) is logged once per chat and the
  update counts as handled (:class:`BlockedUsers`); a Bot API outage is ridden
  out by aiogram's polling backoff.
* ``BOT_MODE=webhook``: :func:`webhook_route` is the ``POST /tg/webhook/<secret>``
  route that ``accessgate serve`` adds to the HTTP app; it checks the
  ``X-Telegram-Bot-Api-Secret-Token`` header of every update.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import ExceptionTypeFilter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import BotCommand, ErrorEvent
from litestar import Request, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from accessgate.config import ConfigError, Settings
from accessgate.domain.model.errors import InvalidSignature, Unauthorized, ValidationError
from accessgate.support.i18n import translate

logger = logging.getLogger("accessgate.bot")
T = TypeVar("T")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
WEBHOOK_PATH = "/tg/webhook"
LOCALES = ("en", "ru")
# The commands registered with setMyCommands (English msgids, translated per language).
COMMANDS = (
    ("start", "activate access or show your status"),
    ("restore", "restore access with your email"),
    ("help", "this help"),
    ("cancel", "cancel the current step"),
)
MAX_RETRIES = 3
MAX_RETRY_AFTER = 60.0
BLOCKED_MEMORY = 10_000


def require_token(settings: Settings) -> str:
    """``TELEGRAM_BOT_TOKEN``, or ConfigError naming it."""
    token = settings.bot.telegram_bot_token
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is required to run the bot")
    return token


def api_server(settings: Settings) -> TelegramAPIServer:
    """The Bot API server: ``TELEGRAM_API_BASE``, else Telegram's."""
    base = settings.bot.telegram_api_base
    return TelegramAPIServer.from_base(base) if base else PRODUCTION


class RetryAfterMiddleware(BaseRequestMiddleware):
    """On a 429, wait ``retry_after`` seconds (at most ``max_wait``) and retry, ``retries`` times."""

    def __init__(self, retries: int = MAX_RETRIES, max_wait: float = MAX_RETRY_AFTER) -> None:
        self.retries = retries
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Make the request, waiting out flood control."""
        for attempt in range(self.retries + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self.retries:
                    raise
                wait = min(float(error.retry_after), self.max_wait)
                logger.warning(
                    "Bot API flood control on %s: retrying in %.0f s", type(method).__name__, wait
                )
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


class BlockedUsers:
    """The errors handler of a 403 (the user blocked the bot): logged once per chat, then quiet."""

    def __init__(self, limit: int = BLOCKED_MEMORY) -> None:
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._limit = limit

    async def handle(self, event: ErrorEvent) -> bool:
        """Log the first 403 of a chat; the update counts as handled."""
        update = event.update
        chat = update.event.chat if hasattr(update.event, "chat") else None
        user = getattr(update.event, "from_user", None)
        chat_id = int(getattr(chat, "id", None) or getattr(user, "id", 0) or 0)
        if chat_id not in self._seen:
            self._seen[chat_id] = None
            while len(self._seen) > self._limit:
                self._seen.popitem(last=False)
            logger.info("the user of chat %d blocked the bot; no more messages are sent", chat_id)
        return True


def create_bot(settings: Settings) -> Bot:
    """The Bot of ``TELEGRAM_BOT_TOKEN`` on ``TELEGRAM_API_BASE``, retrying after a 429."""
    session = AiohttpSession(api=api_server(settings))
    session.middleware(RetryAfterMiddleware())
    return Bot(require_token(settings), session=session)


def make_robust(dispatcher: Dispatcher) -> Dispatcher:
    """Register the 403 handler on ``dispatcher`` (a blocked user never crashes it)."""
    # A bound method: aiogram awaits coroutine functions, not objects with an async __call__.
    dispatcher.errors.register(BlockedUsers().handle, ExceptionTypeFilter(TelegramForbiddenError))
    return dispatcher


async def set_commands(bot: Bot) -> None:
    """Register the commands with setMyCommands: the default list (English), ru and en."""
    for language in (None, *LOCALES):
        locale = language or "en"
        commands = [BotCommand(command=c, description=translate(locale, d)) for c, d in COMMANDS]
        await bot.set_my_commands(commands, language_code=language)


def webhook_url(settings: Settings) -> str:
    """``${APP_PUBLIC_BASE_URL}/tg/webhook/<TELEGRAM_WEBHOOK_SECRET>``; ConfigError without a secret."""
    secret = settings.bot.telegram_webhook_secret
    if not secret:
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET is required for the webhook")
    return f"{settings.service.app_public_base_url.rstrip('/')}{WEBHOOK_PATH}/{secret}"


async def register_webhook(settings: Settings, bot: Bot) -> str:
    """``setWebhook`` to :func:`webhook_url` with ``secret_token``, and the commands; returns the URL."""
    url = webhook_url(settings)
    await bot.set_webhook(url, secret_token=settings.bot.telegram_webhook_secret)
    await set_commands(bot)
    return url


def _same(given: str | None, expected: bytes) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), expected)


def webhook_route(secret: str, bot: Bot, dispatcher: Dispatcher) -> HTTPRouteHandler:
    """``POST /tg/webhook/<secret>``: updates from Telegram, the secret header checked on each.

    A missing header answers 401, a wrong one (or a wrong path secret) 403, both
    in the error envelope and without processing the update. An update that
    fails in a handler is logged and acknowledged (Telegram would resend it
    for ever otherwise).
    """
    expected = secret.encode()

    @post(
        f"{WEBHOOK_PATH}/{{path_secret:str}}",
        status_code=200,
        include_in_schema=False,
        operation_id="telegramWebhook",
    )
    async def telegram_webhook(
        request: Request[Any, Any, Any], path_secret: FromPath[str]
    ) -> dict[str, Any]:
        """Feed one Telegram update to the dispatcher."""
        header = request.headers.get(SECRET_HEADER)
        if header is None:
            raise Unauthorized("Missing Telegram secret token")
        if not (_same(header, expected) and _same(path_secret, expected)):
            raise InvalidSignature("Invalid Telegram secret token")
        try:
            update = await request.json()
        except Exception:  # any undecodable body is the client's error
            raise ValidationError("The update is not JSON") from None
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise ValidationError("The update is not a Telegram update")
        try:
            await dispatcher.feed_raw_update(bot, update)
        except Exception:
            logger.exception("a Telegram update failed in a handler")
        return {}

    return telegram_webhook


START_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


async def _when_reachable(call: Callable[[], Awaitable[T]]) -> T:
    """``call()``, retried with a capped backoff while the Bot API is down."""
    for attempt in itertools.count():
        try:
            return await call()
        except (TelegramNetworkError, TelegramServerError) as error:
            delay = START_BACKOFF_SECONDS[min(attempt, len(START_BACKOFF_SECONDS) - 1)]
            logger.warning(
                "the Bot API is not answering (%s); retrying in %.1f s", type(error).__name__, delay
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover - itertools.count never ends


async def run_polling(
    bot: Bot, dispatcher: Dispatcher, *, handle_signals: bool = True, polling_timeout: int = 10
) -> None:
    """Long polling until stopped: drop a webhook, set the commands, poll (backing off on outages).

    A Bot API that cannot be reached at start-up (network error, 5xx) is waited
    for with the same capped backoff as polling; a rejected token stops at once.
    """
    me = await _when_reachable(bot.get_me)
    logger.info("polling the Bot API as @%s", me.username)
    await _when_reachable(lambda: bot.delete_webhook(drop_pending_updates=False))
    try:
        await set_commands(bot)
    except Exception as error:  # the commands are a nicety, polling is not
        logger.warning("setMyCommands failed: %s", type(error).__name__)
    await dispatcher.start_polling(
        bot, handle_signals=handle_signals, polling_timeout=polling_timeout, close_bot_session=True
    )
