"""Status and help: ``/help`` lists the commands, ``/status`` shows the access, ``/cancel`` leaves."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from accessgate.entrypoints.bot import texts
from accessgate.entrypoints.bot.services import BotServices
from accessgate.entrypoints.bot.start import status
from accessgate.support.i18n import translate


def help_router() -> Router:
    """The router of ``/help``, ``/status`` and ``/cancel`` (all pass the pay wall)."""
    router = Router(name="accessgate.help")
    router.message.register(show_help, Command("help"))
    router.message.register(status, Command("status"))
    router.message.register(cancel, Command("cancel"))
    return router


async def show_help(message: Message, services: BotServices) -> None:
    """List the commands."""
    await message.answer(texts.help_text(services.locale(message.from_user)))


async def cancel(message: Message, state: FSMContext, services: BotServices) -> None:
    """Leave the current conversation (the restore), if any."""
    locale = services.locale(message.from_user)
    if await state.get_state() is None:
        await message.answer(translate(locale, "There is nothing to cancel."))
        return
    await state.clear()
    await message.answer(translate(locale, "Cancelled."))
