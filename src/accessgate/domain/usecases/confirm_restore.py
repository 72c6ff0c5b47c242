"""ConfirmRestore: check a restore code, rotate the token, optionally activate."""

from __future__ import annotations

import re

import msgspec

from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.errors import (
    OtpExpired,
    OtpInvalid,
    PaymentNotFound,
    TooManyAttempts,
    UserNotFound,
)
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.values import Email, telegram_user_id
from accessgate.domain.usecases.activate_access import record_activation
from accessgate.domain.usecases.request_restore import restorable_order
from accessgate.ports.clock import Clock
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.unit_of_work import UnitOfWorkFactory

CODE_SHAPE = re.compile(r"^\d{6}$")


class ConfirmRestoreCommand(msgspec.Struct, frozen=True, kw_only=True):
    """A code typed by the buyer, and optionally the account to activate."""

    email: str
    otp: str
    telegram_user_id: int | None = None


class RestoreResult(msgspec.Struct, frozen=True, kw_only=True):
    """The new activation link, and whether access was granted at once."""

    status: str
    activation_link: str
    access_granted: bool
    order_id: str


class ConfirmRestore:
    """Finish a restore.

    Rules:
        * No live code for the email, or a wrong one, is OTP_INVALID; each wrong
          code costs one of the attempts, and the last one burns the code
          (TOO_MANY_ATTEMPTS, also for every later try); past its lifetime it
          is OTP_EXPIRED. Codes are compared in constant time.
        * A right code is consumed, the order's activation token is rotated
          (the old one stops working) and a new link is returned; with a
          ``telegram_user_id`` access is activated for that account at once
          (``AccessActivated`` when it was not bound to that account yet).
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        tokens: TokenFactory,
        codec: TokenCodec,
        credentials: CredentialPolicy,
        links: LinkBuilder,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = tokens
        self._codec = codec
        self._credentials = credentials
        self._links = links

    async def execute(self, command: ConfirmRestoreCommand) -> RestoreResult:
        """Confirm, or raise the error the rules name."""
        email = Email.parse(command.email).value
        user = (
            None if command.telegram_user_id is None else telegram_user_id(command.telegram_user_id)
        )
        now = self._clock.now()
        async with self._uow() as uow:
            challenge = await uow.otps.get(email, for_update=True)
            if challenge is None or challenge.consumed_at is not None:
                raise OtpInvalid()
            if challenge.attempts_left <= 0:
                raise TooManyAttempts()
            if now >= challenge.expires_at:
                raise OtpExpired()
            code = command.otp.strip()
            if not (CODE_SHAPE.match(code) and self._codec.otp_matches(challenge, code)):
                challenge = challenge.failed_attempt()
                await uow.otps.update(challenge)
                await uow.commit()
                if challenge.attempts_left == 0:
                    raise TooManyAttempts()
                raise OtpInvalid(attempts_left=challenge.attempts_left)
            await uow.otps.update(challenge.consume(now))
            order = await restorable_order(uow, email)
            if order is None:
                await uow.commit()
                raise UserNotFound()
            access = await uow.accesses.get(order.id, for_update=True)
            if access is None:
                raise PaymentNotFound()
            current = await uow.tokens.get_current(order.id)
            if current is not None:
                await uow.tokens.update(current.revoke(now))
            token, fresh = self._codec.issue_token(
                order_id=order.id,
                seed=self._tokens.new_seed(),
                now=now,
                ttl=self._credentials.activation_token_ttl,
            )
            granted = False
            if user is not None:
                before, access = access, access.activate(user, now)
                fresh = fresh.use(user, now)
                await uow.accesses.update(access)
                record_activation(uow, order, before, access, now)
                granted = access.is_usable(now)
            await uow.tokens.add(fresh)
            await uow.commit()
        return RestoreResult(
            status="restored",
            activation_link=self._links.activation_link(token),
            access_granted=granted,
            order_id=order.id,
        )
