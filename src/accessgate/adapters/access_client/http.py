"""The HTTP AccessClient: the bot runs as its own service and calls seed 002's ``/api/bot/*``.

Every call carries ``X-Internal-Token`` (``INTERNAL_API_TOKEN``) and is bounded
by timeouts. An error answer (the service's error envelope) is turned back into
the domain error of its code, so the refusals come out exactly as the
in-process adapter reports them; an unreachable service, a timeout or an answer
that is no envelope is :class:`ServiceUnavailable`. The token never appears in
an error or a log line.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx

from accessgate.domain.model.errors import (
    AccessExpired,
    AccessRevoked,
    DomainError,
    ErrorCode,
    Gone,
    OtpExpired,
    OtpInvalid,
    PaymentNotFound,
    RateLimitExceeded,
    ServiceUnavailable,
    TokenExpired,
    TokenInvalid,
    TokenUsed,
    TooManyAttempts,
    Unauthorized,
    UserNotFound,
    ValidationError,
)
from accessgate.ports.access_client import (
    AccessInfo,
    AccessState,
    ActivationOutcome,
    ActivationReply,
    RestoreOutcome,
    RestoreReply,
)

logger = logging.getLogger("accessgate.bot.access_client")

HEADER = "X-Internal-Token"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
ERRORS: dict[str, type[DomainError]] = {
    ErrorCode.VALIDATION_ERROR: ValidationError,
    ErrorCode.UNAUTHORIZED: Unauthorized,
    ErrorCode.PAYMENT_NOT_FOUND: PaymentNotFound,
    ErrorCode.USER_NOT_FOUND: UserNotFound,
    ErrorCode.TOKEN_INVALID: TokenInvalid,
    ErrorCode.TOKEN_USED: TokenUsed,
    ErrorCode.TOKEN_EXPIRED: TokenExpired,
    ErrorCode.ACCESS_REVOKED: AccessRevoked,
    ErrorCode.ACCESS_EXPIRED: AccessExpired,
    ErrorCode.OTP_INVALID: OtpInvalid,
    ErrorCode.OTP_EXPIRED: OtpExpired,
    ErrorCode.TOO_MANY_ATTEMPTS: TooManyAttempts,
    ErrorCode.GONE: Gone,
    ErrorCode.RATE_LIMIT_EXCEEDED: RateLimitExceeded,
    ErrorCode.SERVICE_UNAVAILABLE: ServiceUnavailable,
}


def domain_error(response: httpx.Response) -> DomainError:
    """The domain error of an error answer (its envelope's code), or ServiceUnavailable."""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return ServiceUnavailable(f"The access service answered HTTP {response.status_code}")
    kind = ERRORS.get(code)
    if kind is None:
        return ServiceUnavailable(f"The access service answered {code}")
    return kind(message)


def _state(value: object) -> AccessState:
    try:
        return AccessState(str(value)) if value else AccessState.NONE
    except ValueError:
        return AccessState.NONE


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class HttpAccessClient:
    """AccessClient over ``POST {base_url}/api/bot/...`` with ``X-Internal-Token``.

    Args:
        base_url: the accessgate service (``BOT_ACCESS_API_URL``).
        internal_token: ``INTERNAL_API_TOKEN`` of that service.
        timeout: the bound of every call.
        transport: an httpx transport (tests); the network by default.

    """

    def __init__(
        self,
        base_url: str,
        internal_token: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={HEADER: internal_token},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client.post(path, json=body)
        except httpx.HTTPError as error:
            raise ServiceUnavailable(
                f"The access service is unreachable ({type(error).__name__})"
            ) from None
        if response.status_code != 200:
            raise domain_error(response)
        try:
            data = response.json()
        except ValueError:
            raise ServiceUnavailable("The access service answered no JSON") from None
        if not isinstance(data, dict):
            raise ServiceUnavailable("The access service answered an unexpected body")
        return data

    async def status(self, telegram_user_id: int) -> AccessInfo:
        """Where ``telegram_user_id`` stands (``/api/bot/access/status``)."""
        data = await self._post("/api/bot/access/status", {"telegram_user_id": telegram_user_id})
        state = _state(data.get("access_status"))
        return AccessInfo(
            active=bool(data.get("is_paid")) and state is AccessState.ACTIVE,
            state=state,
            order_id=data.get("order_id"),
            plan=data.get("plan"),
        )

    async def activate(self, token: str, telegram_user_id: int) -> ActivationReply:
        """Activate ``token`` for ``telegram_user_id`` (``/api/bot/access/activate``)."""
        before = await self.status(telegram_user_id)
        try:
            data = await self._post(
                "/api/bot/access/activate",
                {"activation_token": token, "telegram_user_id": telegram_user_id},
            )
        except TokenUsed:
            return ActivationReply(outcome=ActivationOutcome.USED_BY_ANOTHER)
        except TokenExpired:
            return ActivationReply(outcome=ActivationOutcome.EXPIRED)
        except (TokenInvalid, PaymentNotFound, ValidationError):
            return ActivationReply(outcome=ActivationOutcome.INVALID)
        except (AccessExpired, AccessRevoked):
            return ActivationReply(outcome=ActivationOutcome.NOT_ACTIVE)
        state = _state(data.get("access_status"))
        access = AccessInfo(
            active=bool(data.get("access_granted")) and state is AccessState.ACTIVE,
            state=state,
            order_id=data.get("order_id"),
            plan=data.get("plan"),
            valid_until=_when(data.get("valid_until")),
        )
        if not access.active:
            return ActivationReply(outcome=ActivationOutcome.NOT_ACTIVE, access=access)
        again = before.active and before.order_id == access.order_id
        outcome = ActivationOutcome.ALREADY_ACTIVE if again else ActivationOutcome.ACTIVATED
        return ActivationReply(outcome=outcome, access=access)

    async def request_restore(self, email: str) -> bool:
        """Ask for a code (``/api/bot/restore/request``); False only for a malformed email."""
        try:
            await self._post("/api/bot/restore/request", {"email": email})
        except ValidationError:
            return False
        except RateLimitExceeded:
            # The same answer as for any address: the limit reveals nothing either.
            logger.warning("restore requests of one address are rate limited by the service")
        return True

    async def confirm_restore(self, email: str, otp: str, telegram_user_id: int) -> RestoreReply:
        """Check the code and grant the access to ``telegram_user_id`` (``/api/bot/restore/confirm``)."""
        body = {"email": email, "otp": otp, "telegram_user_id": telegram_user_id}
        try:
            await self._post("/api/bot/restore/confirm", body)
        except OtpExpired:
            return RestoreReply(outcome=RestoreOutcome.EXPIRED_CODE)
        except (TooManyAttempts, RateLimitExceeded):
            return RestoreReply(outcome=RestoreOutcome.TOO_MANY_ATTEMPTS)
        except OtpInvalid:
            return RestoreReply(outcome=RestoreOutcome.INVALID_CODE)
        except ValidationError:
            return RestoreReply(outcome=RestoreOutcome.INVALID_EMAIL)
        except (UserNotFound, PaymentNotFound, AccessExpired, AccessRevoked):
            return RestoreReply(outcome=RestoreOutcome.NOTHING_TO_RESTORE)
        info = await self.status(telegram_user_id)
        return RestoreReply(outcome=RestoreOutcome.RESTORED, access=info)
