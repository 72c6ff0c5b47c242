"""The in-process AccessClient: the bot calls the use cases of the same process."""

from __future__ import annotations

from accessgate.domain.model.errors import (
    AccessExpired,
    AccessRevoked,
    OtpExpired,
    OtpInvalid,
    PaymentNotFound,
    TokenExpired,
    TokenInvalid,
    TokenUsed,
    TooManyAttempts,
    UserNotFound,
    ValidationError,
)
from accessgate.domain.usecases.activate_access import ActivateAccess, ActivateAccessCommand
from accessgate.domain.usecases.confirm_restore import ConfirmRestore, ConfirmRestoreCommand
from accessgate.domain.usecases.request_restore import RequestRestore
from accessgate.domain.usecases.telegram_access import DescribeTelegramAccess
from accessgate.ports.access_client import (
    AccessInfo,
    ActivationOutcome,
    ActivationReply,
    RestoreOutcome,
    RestoreReply,
)


class InProcessAccessClient:
    """AccessClient over the use cases (one process runs the HTTP service and the bot)."""

    def __init__(
        self,
        *,
        describe: DescribeTelegramAccess,
        activate: ActivateAccess,
        request_restore: RequestRestore,
        confirm_restore: ConfirmRestore,
    ) -> None:
        self._describe = describe
        self._activate = activate
        self._request_restore = request_restore
        self._confirm_restore = confirm_restore

    async def status(self, telegram_user_id: int) -> AccessInfo:
        """Where ``telegram_user_id`` stands."""
        return await self._describe.execute(telegram_user_id)

    async def activate(self, token: str, telegram_user_id: int) -> ActivationReply:
        """Activate ``token`` for ``telegram_user_id``; a refusal is an outcome, not an error."""
        before = await self._describe.execute(telegram_user_id)
        try:
            result = await self._activate.execute(
                ActivateAccessCommand(activation_token=token, telegram_user_id=telegram_user_id)
            )
        except TokenUsed:
            return ActivationReply(outcome=ActivationOutcome.USED_BY_ANOTHER)
        except TokenExpired:
            return ActivationReply(outcome=ActivationOutcome.EXPIRED)
        except (TokenInvalid, PaymentNotFound, ValidationError):
            return ActivationReply(outcome=ActivationOutcome.INVALID)
        except (AccessExpired, AccessRevoked):
            return ActivationReply(outcome=ActivationOutcome.NOT_ACTIVE)
        after = await self._describe.execute(telegram_user_id)
        if not result.access_granted:
            return ActivationReply(outcome=ActivationOutcome.NOT_ACTIVE, access=after)
        again = before.active and before.order_id == result.order_id
        outcome = ActivationOutcome.ALREADY_ACTIVE if again else ActivationOutcome.ACTIVATED
        return ActivationReply(outcome=outcome, access=after)

    async def request_restore(self, email: str) -> bool:
        """Ask for a code; False only for a malformed email."""
        try:
            await self._request_restore.execute(email)
        except ValidationError:
            return False
        return True

    async def confirm_restore(self, email: str, otp: str, telegram_user_id: int) -> RestoreReply:
        """Check the code and grant the access of ``email`` to ``telegram_user_id``."""
        try:
            await self._confirm_restore.execute(
                ConfirmRestoreCommand(email=email, otp=otp, telegram_user_id=telegram_user_id)
            )
        except OtpExpired:
            return RestoreReply(outcome=RestoreOutcome.EXPIRED_CODE)
        except TooManyAttempts:
            return RestoreReply(outcome=RestoreOutcome.TOO_MANY_ATTEMPTS)
        except OtpInvalid:
            return RestoreReply(outcome=RestoreOutcome.INVALID_CODE)
        except ValidationError:
            return RestoreReply(outcome=RestoreOutcome.INVALID_EMAIL)
        except (UserNotFound, PaymentNotFound, AccessExpired, AccessRevoked):
            return RestoreReply(outcome=RestoreOutcome.NOTHING_TO_RESTORE)
        info = await self._describe.execute(telegram_user_id)
        return RestoreReply(outcome=RestoreOutcome.RESTORED, access=info)
