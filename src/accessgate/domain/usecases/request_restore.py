"""RequestRestore: send a one-time code to the email of a paid order."""

from __future__ import annotations

from accessgate.domain.model.credentials import CredentialPolicy, OtpChallenge, TokenCodec
from accessgate.domain.model.events import RestoreRequested
from accessgate.domain.model.order import Order
from accessgate.domain.model.status import AccessStatus, FulfillmentStatus
from accessgate.domain.model.values import Email
from accessgate.ports.clock import Clock
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


async def restorable_order(uow: UnitOfWork, email: str) -> Order | None:
    """The newest fulfilled order of ``email`` whose access is not revoked."""
    for order in await uow.orders.list_by_email(email):
        if order.fulfillment_status is not FulfillmentStatus.FULFILLED:
            continue
        access = await uow.accesses.get(order.id)
        if access is not None and access.status is not AccessStatus.REVOKED:
            return order
    return None


class RequestRestore:
    """Start a restore: a six-digit code by email.

    Rules:
        * The answer, the statements and the writes are the same for known and
          unknown emails: every address that asks gets a challenge and one
          outbox message, and no order is looked up here. The email delivery
          looks the buyer up and sends the code only to an email with a
          fulfilled, unrevoked order (in that order's language); for any other
          address it sends nothing.
        * A new code replaces the email's previous one; within the cooldown
          after the last code, a request does nothing.
        * At most ``otp_max_codes_per_window`` codes per address per
          ``otp_window`` (a day); past the cap a request does nothing (same answer).
        * The code is never stored: the challenge keeps its keyed hash and the
          seed the email is rendered from. ``RestoreRequested`` is recorded;
          its subscriber writes the email to the outbox in the same transaction.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        tokens: TokenFactory,
        codec: TokenCodec,
        credentials: CredentialPolicy,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = tokens
        self._codec = codec
        self._credentials = credentials

    async def execute(self, raw_email: str) -> None:
        """Issue a code if the rules allow; raises only ValidationError for a bad email."""
        email = Email.parse(raw_email).value
        now = self._clock.now()
        policy = self._credentials
        async with self._uow() as uow:
            previous = await uow.otps.get(email, for_update=True)
            window_started, issued = now, 0
            if previous is not None:
                if previous.consumed_at is None and now - previous.created_at < policy.otp_cooldown:
                    return
                window_started, issued = previous.window_after(now, policy.otp_window)
            if issued >= policy.otp_max_codes_per_window:
                return
            seed = self._tokens.new_seed()
            challenge = OtpChallenge(
                id=self._tokens.new_id("otp"),
                email=email,
                code_hash=self._codec.hash_otp(email, self._codec.otp_code(seed)),
                seed=seed,
                created_at=now,
                expires_at=now + policy.otp_ttl,
                attempts_left=policy.otp_max_attempts,
                window_started_at=window_started,
                codes_in_window=issued + 1,
            )
            await uow.otps.replace(challenge)
            uow.record(RestoreRequested(at=now, challenge_id=challenge.id, email=email))
            await uow.commit()
