"""What the bot's handlers receive as workflow data: the services, the cache, the language."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, User

from accessgate.ports.access_client import AccessClient, AccessInfo
from accessgate.support.i18n import translate

# Telegram language codes answered in Russian; every other one gets English.
RUSSIAN_SPEAKING = frozenset({"ru", "uk", "be", "kk"})
CACHE_LIMIT = 10_000


def telegram_locale(language_code: str | None, default_locale: str) -> str:
    """``ru`` for ru/uk/be/kk, ``en`` for any other code, ``default_locale`` without one."""
    if not language_code:
        return default_locale
    primary = language_code.strip().lower().replace("_", "-").partition("-")[0]
    return "ru" if primary in RUSSIAN_SPEAKING else "en"


class StatusCache:
    """The access of each user, kept ``ttl`` seconds in this process (at most one lookup then).

    ``drop`` forgets a user (after an activation or a restore in this process).
    """

    def __init__(
        self,
        access: AccessClient,
        ttl: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        limit: int = CACHE_LIMIT,
    ) -> None:
        self._access = access
        self._ttl = ttl
        self._now = monotonic
        self._limit = limit
        self._entries: OrderedDict[int, tuple[float, AccessInfo]] = OrderedDict()

    async def get(self, telegram_user_id: int) -> AccessInfo:
        """The cached access of the user, or one fresh lookup."""
        now = self._now()
        entry = self._entries.get(telegram_user_id)
        if entry is not None and now - entry[0] < self._ttl:
            return entry[1]
        info = await self._access.status(telegram_user_id)
        self._entries[telegram_user_id] = (self._now(), info)
        self._entries.move_to_end(telegram_user_id)
        while len(self._entries) > self._limit:
            self._entries.popitem(last=False)
        return info

    def drop(self, telegram_user_id: int) -> None:
        """Forget the user's access (the next update looks it up again)."""
        self._entries.pop(telegram_user_id, None)


@dataclass(frozen=True, kw_only=True)
class BotServices:
    """The bot's services, handed to every handler as the workflow data ``services``."""

    access: AccessClient
    cache: StatusCache
    pay_url: Callable[[int], str]
    default_locale: str = "en"
    extra: dict[str, object] = field(default_factory=dict)

    def locale(self, user: User | None, info: AccessInfo | None = None) -> str:
        """The order's language when known, else the user's Telegram language, else the default."""
        if info is not None and info.locale:
            return info.locale
        return telegram_locale(user.language_code if user else None, self.default_locale)

    def pay_keyboard(self, locale: str, telegram_user_id: int) -> InlineKeyboardMarkup:
        """The one-button keyboard: ``Pay for access`` to the user's signed pay URL."""
        button = InlineKeyboardButton(
            text=translate(locale, "Pay for access"), url=self.pay_url(telegram_user_id)
        )
        return InlineKeyboardMarkup(inline_keyboard=[[button]])
