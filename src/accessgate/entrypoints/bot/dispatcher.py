"""The bot's factory: ``create_dispatcher`` builds the routers, the wall and the services."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram import Dispatcher, Router
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage

from accessgate.entrypoints.bot.help import help_router
from accessgate.entrypoints.bot.restore import restore_router
from accessgate.entrypoints.bot.services import BotServices, StatusCache
from accessgate.entrypoints.bot.start import start_router
from accessgate.entrypoints.bot.wall import wall_router
from accessgate.ports.access_client import AccessClient

DEFAULT_STATUS_CACHE_SECONDS = 5.0


def create_dispatcher(
    *,
    access: AccessClient,
    pay_url: Callable[[int], str],
    default_locale: str = "en",
    extra_routers: Sequence[Router] = (),
    status_cache_seconds: float = DEFAULT_STATUS_CACHE_SECONDS,
    storage: BaseStorage | None = None,
) -> Dispatcher:
    """Build the bot's dispatcher.

    Args:
        access: the access service (the in-process or the HTTP AccessClient).
        pay_url: the pay URL for a Telegram user id (signed, see
            ``accessgate.domain.model.telegram_link.PayUrlSigner``).
        default_locale: ``DEFAULT_LOCALE``: the language when neither an order
            nor the user's Telegram language tells (``ru`` or ``en``).
        extra_routers: the shop's own routers; they run behind the pay wall, for
            active users only, who get their access as the workflow data ``access_info``.
        status_cache_seconds: how long one status lookup is reused for a user.
        storage: the FSM storage of the restore conversation (memory by default).

    Routers, in order: start and activation, status and help (with ``/cancel``),
    restore (FSM), then the pay wall holding ``extra_routers``. Handlers get the
    services as the workflow data ``services`` (:class:`BotServices`).
    """
    services = BotServices(
        access=access,
        cache=StatusCache(access, status_cache_seconds),
        pay_url=pay_url,
        default_locale=default_locale,
    )
    dispatcher = Dispatcher(storage=storage or MemoryStorage(), services=services)
    dispatcher.include_routers(
        start_router(), help_router(), restore_router(), wall_router(extra_routers)
    )
    return dispatcher
