"""The bot wired from the container: in-process AccessClient, signed pay URL, DEFAULT_LOCALE."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Dispatcher, Router
from aiogram.fsm.storage.base import BaseStorage

from accessgate.config import Settings
from accessgate.container import Core
from accessgate.domain.model.telegram_link import PayUrlSigner
from accessgate.entrypoints.bot.dispatcher import create_dispatcher
from accessgate.ports.access_client import AccessClient


def pay_url_signer(settings: Settings) -> PayUrlSigner:
    """``BOT_PAY_URL`` (else ``${APP_PUBLIC_BASE_URL}/pay``) carrying the user's signed id."""
    return PayUrlSigner(settings.pay_url, settings.service.secret_key.encode())


def create_bot_dispatcher(
    container: Core,
    *,
    extra_routers: Sequence[Router] = (),
    access: AccessClient | None = None,
    storage: BaseStorage | None = None,
) -> Dispatcher:
    """``create_dispatcher`` with the container's services (``access`` replaces the in-process client)."""
    settings: Settings = container.settings()
    return create_dispatcher(
        access=access if access is not None else container.access_client(),
        pay_url=pay_url_signer(settings),
        default_locale=settings.service.default_locale,
        extra_routers=extra_routers,
        storage=storage,
    )
