"""Restore (aiogram FSM): email -> code by email -> code -> access granted to this account."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from accessgate.entrypoints.bot import texts
from accessgate.entrypoints.bot.services import BotServices
from accessgate.ports.access_client import RestoreOutcome
from accessgate.support.i18n import translate

MAX_INPUT = 320


class RestoreFlow(StatesGroup):
    """The steps of the restore conversation."""

    email = State()
    code = State()


def restore_router() -> Router:
    """The router of ``/restore`` and its steps (they pass the pay wall)."""
    router = Router(name="accessgate.restore")
    router.message.register(start_restore, Command("restore"))
    plain_text = F.text & ~F.text.startswith("/")
    router.message.register(take_email, RestoreFlow.email, plain_text)
    router.message.register(take_code, RestoreFlow.code, plain_text)
    router.message.register(need_text, RestoreFlow.email)
    router.message.register(need_text, RestoreFlow.code)
    return router


async def start_restore(message: Message, state: FSMContext, services: BotServices) -> None:
    """Ask for the email the access was paid with."""
    await state.set_state(RestoreFlow.email)
    await message.answer(
        translate(
            services.locale(message.from_user),
            "Send the email you paid with, and we will send a code to it. /cancel to stop.",
        )
    )


async def take_email(message: Message, state: FSMContext, services: BotServices) -> None:
    """Request a code; the answer is the same whether the email is known or not."""
    locale = services.locale(message.from_user)
    email = (message.text or "").strip()[:MAX_INPUT]
    if not await services.access.request_restore(email):
        await message.answer(
            translate(
                locale, "That does not look like an email address. Send it again, or /cancel."
            )
        )
        return
    await state.update_data(email=email)
    await state.set_state(RestoreFlow.code)
    await message.answer(
        translate(
            locale,
            "If this email has a purchase, a 6-digit code is on its way to it. "
            "Send the code here, or /cancel.",
        )
    )


async def take_code(message: Message, state: FSMContext, services: BotServices) -> None:
    """Confirm the code and grant the access to this account."""
    user = message.from_user
    if user is None:
        return
    locale = services.locale(user)
    email = str((await state.get_data()).get("email", ""))
    code = (message.text or "").strip()[:MAX_INPUT]
    reply = await services.access.confirm_restore(email, code, user.id)
    services.cache.drop(user.id)
    if reply.outcome is RestoreOutcome.RESTORED:
        await state.clear()
        info = reply.access
        locale = services.locale(user, info)
        text = translate(locale, "Access restored to this account.")
        if info is not None and info.active:
            text += " " + texts.active_text(locale, info)
        await message.answer(text)
    elif reply.outcome is RestoreOutcome.INVALID_CODE:
        await message.answer(
            translate(locale, "This code is not right. Check it and send it again, or /cancel.")
        )
    else:
        await state.clear()
        await message.answer(
            translate(locale, "This code can no longer be used. Send /restore to get a new one.")
        )


async def need_text(message: Message, services: BotServices) -> None:
    """A restore step got something other than text."""
    await message.answer(
        translate(services.locale(message.from_user), "Please send text, or /cancel to stop.")
    )
