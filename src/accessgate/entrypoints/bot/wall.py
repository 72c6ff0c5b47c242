"""The pay wall: a middleware that answers every update of a user without active access.

It sits on the router that holds the shop's own routers, after the routers of
``/start``, ``/restore``, ``/help`` and ``/cancel`` (and the restore steps), so
those pass the wall; everything else from a user whose access is not active
(none, pending, token_issued, expired, revoked) gets the pay message and button.
Active users pass through, with their access as the workflow data ``access_info``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from accessgate.entrypoints.bot import texts
from accessgate.entrypoints.bot.services import BotServices

log = logging.getLogger(__name__)

# The observers of a Router that carry user updates (all but ``update`` and ``error``).
SKIPPED_OBSERVERS = frozenset({"update", "error"})

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class PayWallMiddleware(BaseMiddleware):
    """Let active users through; answer the others with the pay button."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """One (cached) status lookup, then pass or answer."""
        user: User | None = data.get("event_from_user")
        services: BotServices = data["services"]
        if user is None or user.is_bot:
            return await handler(event, data)
        info = await services.cache.get(user.id)
        if info.active:
            data["access_info"] = info
            return await handler(event, data)
        locale = services.locale(user, info)
        text = texts.pay_wall_text(locale)
        keyboard = services.pay_keyboard(locale, user.id)
        try:
            if isinstance(event, Message):
                await event.answer(text, reply_markup=keyboard)
            elif isinstance(event, CallbackQuery):
                await event.answer()
                if event.message is not None:
                    await event.bot.send_message(  # type: ignore[union-attr]
                        chat_id=event.message.chat.id, text=text, reply_markup=keyboard
                    )
        except TelegramAPIError as error:
            log.info("pay wall answer not delivered: %s", type(error).__name__)
        return None


def wall_router(extra_routers: Sequence[Router]) -> Router:
    """The pay wall's router: the middleware on every user observer, the shop's routers inside."""
    router = Router(name="accessgate.paywall")
    middleware = PayWallMiddleware()
    for name, observer in router.observers.items():
        if name not in SKIPPED_OBSERVERS:
            observer.outer_middleware(middleware)
    if extra_routers:
        router.include_routers(*extra_routers)
    # Without a handler of its own an unhandled update of an active user stays unhandled;
    # one of an inactive user is answered by the middleware above.
    return router
