"""``/api/bot``: the internal API of the bot, behind ``X-Internal-Token``.

Only the restore endpoints are rate limited (per email: the bot is one client
for all its users).
"""

from __future__ import annotations

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from accessgate.domain.model.errors import ErrorCode
from accessgate.domain.usecases.access_status import GetAccessStatus
from accessgate.domain.usecases.activate_access import ActivateAccess, ActivateAccessCommand
from accessgate.domain.usecases.confirm_restore import ConfirmRestore, ConfirmRestoreCommand
from accessgate.domain.usecases.open_account_portal import OpenAccountPortal
from accessgate.domain.usecases.request_restore import RequestRestore
from accessgate.entrypoints.http.controllers.access import ACTIVATION_ERRORS, activation_response
from accessgate.entrypoints.http.controllers.restore import CONFIRM_ERRORS, confirmed
from accessgate.entrypoints.http.guards import bot_restore_rate_limit, internal_request
from accessgate.entrypoints.http.openapi import INTERNAL, INTERNAL_SECURITY, errors
from accessgate.entrypoints.http.responses import json_response
from accessgate.entrypoints.http.schemas import (
    AccessStatusResponse,
    ActivateRequest,
    ActivateResponse,
    BotRestoreConfirmRequest,
    EmailRequest,
    PortalResponse,
    RestoreConfirmResponse,
    RestoreRequested,
    TelegramUserRequest,
)


class BotController(Controller):
    """Service-to-service calls of the Telegram bot."""

    path = "/api/bot"
    tags = ["bot"]  # noqa: RUF012 - Litestar reads class attributes
    guards = [internal_request]  # noqa: RUF012
    security = [{INTERNAL_SECURITY: []}]  # noqa: RUF012

    @post(
        "/access/status",
        operation_id="botAccessStatus",
        status_code=200,
        responses=errors(*INTERNAL),
    )
    async def status(
        self, data: JSONBody[TelegramUserRequest], access_status: NamedDependency[GetAccessStatus]
    ) -> Response[AccessStatusResponse]:
        """The access of a Telegram account: paid now or not, and its order."""
        view = await access_status.execute(data.telegram_user_id)
        return json_response(
            AccessStatusResponse(
                is_paid=view.is_paid,
                order_id=view.order_id,
                plan=view.plan,
                access_status=view.access_status,
            )
        )

    @post(
        "/access/activate",
        operation_id="botActivateAccess",
        status_code=200,
        responses=errors(*INTERNAL, *ACTIVATION_ERRORS),
    )
    async def activate(
        self, data: JSONBody[ActivateRequest], activate_access: NamedDependency[ActivateAccess]
    ) -> ActivateResponse:
        """Activate with a deep-link token: ``access_granted`` plus the flat order payload."""
        result = await activate_access.execute(
            ActivateAccessCommand(
                activation_token=data.activation_token, telegram_user_id=data.telegram_user_id
            )
        )
        return activation_response(result)

    @post(
        "/restore/request",
        operation_id="botRequestRestore",
        status_code=200,
        guards=[bot_restore_rate_limit],
        responses=errors(*INTERNAL, ErrorCode.RATE_LIMIT_EXCEEDED),
    )
    async def restore_request(
        self, data: JSONBody[EmailRequest], request_restore: NamedDependency[RequestRestore]
    ) -> RestoreRequested:
        """Email a restore code (same answer for any address)."""
        await request_restore.execute(data.email)
        return RestoreRequested(status="otp_logged")

    @post(
        "/restore/confirm",
        operation_id="botConfirmRestore",
        status_code=200,
        guards=[bot_restore_rate_limit],
        responses=errors(*INTERNAL, *CONFIRM_ERRORS, ErrorCode.RATE_LIMIT_EXCEEDED),
    )
    async def restore_confirm(
        self,
        data: JSONBody[BotRestoreConfirmRequest],
        confirm_restore: NamedDependency[ConfirmRestore],
    ) -> RestoreConfirmResponse:
        """Check the code and activate for the Telegram account at once."""
        command = ConfirmRestoreCommand(
            email=data.email, otp=data.otp, telegram_user_id=data.telegram_user_id
        )
        return await confirmed(confirm_restore, command)

    @post(
        "/customer-portal",
        operation_id="botCustomerPortal",
        status_code=200,
        responses=errors(
            *INTERNAL,
            ErrorCode.USER_NOT_FOUND,
            ErrorCode.PROVIDER_REJECTED,
            ErrorCode.CAPABILITY_NOT_SUPPORTED,
            ErrorCode.SERVICE_UNAVAILABLE,
        ),
    )
    async def customer_portal(
        self,
        data: JSONBody[TelegramUserRequest],
        open_account_portal: NamedDependency[OpenAccountPortal],
    ) -> PortalResponse:
        """The portal link of the account's subscription; the account holds the access."""
        return PortalResponse(portal_url=await open_account_portal.execute(data.telegram_user_id))
