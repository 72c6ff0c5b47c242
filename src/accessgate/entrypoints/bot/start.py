"""Start and activation: ``/start <token>`` activates, ``/start`` alone shows the status."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message

from accessgate.entrypoints.bot import texts
from accessgate.entrypoints.bot.services import BotServices
from accessgate.ports.access_client import ActivationOutcome


def start_router() -> Router:
    """The router of ``/start`` (with and without a deep-link token)."""
    router = Router(name="accessgate.start")
    router.message.register(activate, CommandStart(deep_link=True))
    router.message.register(status, CommandStart())
    return router


async def activate(message: Message, command: CommandObject, services: BotServices) -> None:
    """Activate the token of the deep link for this account, one message per outcome."""
    user = message.from_user
    if user is None:
        return
    token = (command.args or "").strip()
    reply = await services.access.activate(token, user.id)
    services.cache.drop(user.id)
    locale = services.locale(user, reply.access)
    if reply.outcome is ActivationOutcome.ACTIVATED and reply.access is not None:
        await message.answer(texts.activated_text(locale, reply.access))
    elif reply.outcome is ActivationOutcome.ALREADY_ACTIVE and reply.access is not None:
        await message.answer(texts.already_active_text(locale, reply.access))
    elif reply.outcome is ActivationOutcome.USED_BY_ANOTHER:
        await message.answer(texts.used_by_another_text(locale))
    elif reply.outcome is ActivationOutcome.NOT_ACTIVE:
        await message.answer(
            texts.not_active_text(locale), reply_markup=services.pay_keyboard(locale, user.id)
        )
    else:
        await message.answer(texts.expired_text(locale))


async def status(message: Message, services: BotServices) -> None:
    """Show where the user stands: active until a date, or not paid with the pay button."""
    user = message.from_user
    if user is None:
        return
    info = await services.cache.get(user.id)
    locale = services.locale(user, info)
    if info.active:
        await message.answer(texts.active_text(locale, info))
    else:
        await message.answer(
            texts.pay_wall_text(locale), reply_markup=services.pay_keyboard(locale, user.id)
        )
