"""The Telegram bot (aiogram 3): deep-link activation, the pay wall, restore, status and help.

Public API::

    create_dispatcher(
        *,
        access: AccessClient,                   # the access service (in-process or HTTP adapter)
        pay_url: Callable[[int], str],          # the signed pay URL for a Telegram user id
        default_locale: str = "en",             # DEFAULT_LOCALE, when neither order nor Telegram tells
        extra_routers: Sequence[Router] = (),   # the shop's own routers, behind the pay wall
        status_cache_seconds: float = 5.0,      # how long one status lookup is reused per user
        storage: BaseStorage | None = None,     # FSM storage of /restore (memory by default)
    ) -> Dispatcher

    create_bot_dispatcher(container, extra_routers=())  # the same, wired from the container
                                                         # (in-process AccessClient, signed BOT_PAY_URL)

Nothing is built at import time: every router, middleware and cache is made by the call.
"""

from __future__ import annotations

from accessgate.entrypoints.bot.dispatcher import create_dispatcher
from accessgate.entrypoints.bot.wiring import create_bot_dispatcher

__all__ = ["create_bot_dispatcher", "create_dispatcher"]
