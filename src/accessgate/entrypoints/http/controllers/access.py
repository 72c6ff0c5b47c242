"""``/api/access``: one-time activation of access with a token."""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from accessgate.domain.model.errors import ErrorCode
from accessgate.domain.usecases.activate_access import (
    ActivateAccess,
    ActivateAccessCommand,
    ActivationResult,
)
from accessgate.entrypoints.http.guards import strict_body
from accessgate.entrypoints.http.openapi import PUBLIC, errors
from accessgate.entrypoints.http.schemas import ActivateRequest, ActivateResponse

E = ErrorCode
ACTIVATION_ERRORS = (
    E.TOKEN_INVALID,
    E.TOKEN_USED,
    E.TOKEN_EXPIRED,
    E.ACCESS_REVOKED,
    E.ACCESS_EXPIRED,
    E.PAYMENT_NOT_FOUND,
    E.INVALID_STATE_TRANSITION,
)


def activation_response(result: ActivationResult) -> ActivateResponse:
    """The flat answer of an activation."""
    return ActivateResponse(
        access_granted=result.access_granted,
        order_id=result.order_id,
        plan=result.plan,
        access_status=result.access_status,
        valid_until=result.valid_until,
    )


class AccessController(Controller):
    """Access of a Telegram account."""

    path = "/api/access"
    tags = ["access"]  # noqa: RUF012 - Litestar reads class attributes
    guards = [strict_body]  # noqa: RUF012

    @post(
        "/activate",
        operation_id="activateAccess",
        status_code=200,
        responses=errors(*PUBLIC, *ACTIVATION_ERRORS),
    )
    async def activate(
        self, data: JSONBody[ActivateRequest], activate_access: NamedDependency[ActivateAccess]
    ) -> ActivateResponse:
        """Bind the order's access to a Telegram account with its one-time token."""
        result = await activate_access.execute(
            ActivateAccessCommand(
                activation_token=data.activation_token, telegram_user_id=data.telegram_user_id
            )
        )
        return activation_response(result)
