"""``/api/auth/restore``: restore access by a one-time code sent by email."""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from accessgate.domain.model.errors import ErrorCode
from accessgate.domain.usecases.confirm_restore import ConfirmRestore, ConfirmRestoreCommand
from accessgate.domain.usecases.request_restore import RequestRestore
from accessgate.entrypoints.http.guards import strict_body, strict_rate_limit
from accessgate.entrypoints.http.openapi import PUBLIC, errors
from accessgate.entrypoints.http.schemas import (
    EmailRequest,
    RestoreConfirmRequest,
    RestoreConfirmResponse,
    RestoreRequested,
)

E = ErrorCode
CONFIRM_ERRORS = (
    E.OTP_INVALID,
    E.OTP_EXPIRED,
    E.TOO_MANY_ATTEMPTS,
    E.USER_NOT_FOUND,
    E.PAYMENT_NOT_FOUND,
    E.ACCESS_REVOKED,
    E.INVALID_STATE_TRANSITION,
)


async def confirmed(
    confirm_restore: ConfirmRestore, command: ConfirmRestoreCommand
) -> RestoreConfirmResponse:
    """Run ConfirmRestore and shape its answer (the public and the bot endpoint alike)."""
    result = await confirm_restore.execute(command)
    return RestoreConfirmResponse(
        status=result.status,
        activation_link=result.activation_link,
        access_granted=result.access_granted,
    )


class RestoreController(Controller):
    """Email restore of a lost activation link."""

    path = "/api/auth/restore"
    tags = ["restore"]  # noqa: RUF012 - Litestar reads class attributes
    guards = [strict_rate_limit, strict_body]  # noqa: RUF012

    @post("/request", operation_id="requestRestore", status_code=200, responses=errors(*PUBLIC))
    async def request_code(
        self, data: JSONBody[EmailRequest], request_restore: NamedDependency[RequestRestore]
    ) -> RestoreRequested:
        """Email a code if the address has a paid order; the answer is the same for any address."""
        await request_restore.execute(data.email)
        return RestoreRequested(status="otp_delivery_sent")

    @post(
        "/confirm",
        operation_id="confirmRestore",
        status_code=200,
        responses=errors(*PUBLIC, *CONFIRM_ERRORS),
    )
    async def confirm(
        self,
        data: JSONBody[RestoreConfirmRequest],
        confirm_restore: NamedDependency[ConfirmRestore],
    ) -> RestoreConfirmResponse:
        """Check the code, rotate the activation token; with ``telegram_user_id`` activate at once."""
        command = ConfirmRestoreCommand(
            email=data.email, otp=data.otp, telegram_user_id=data.telegram_user_id
        )
        return await confirmed(confirm_restore, command)
