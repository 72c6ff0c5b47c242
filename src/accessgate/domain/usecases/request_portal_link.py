"""RequestPortalLink: email the customer-portal link to the address that asks."""

from __future__ import annotations

from datetime import timedelta

from accessgate.domain.model.credentials import TokenCodec
from accessgate.domain.model.outbox import Channel, EmailTemplate, RetryPolicy
from accessgate.domain.model.values import Email
from accessgate.domain.usecases._outbox import enqueue
from accessgate.ports.clock import Clock
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class RequestPortalLink:
    """Queue the portal email of an address (``CUSTOMER_PORTAL_MODE=email``, the default).

    Rules:
        * The answer and the work are the same for every address: one outbox
          write, no order lookup. The delivery finds the customer; for an
          address without one (or a provider without a portal) it sends nothing.
        * The portal session is opened by the provider when the email is
          delivered, so the link in the email is fresh.
        * At most one email per address per ``interval`` (the outbox key is a
          keyed digest of the address and the time slot): asking again within
          it writes nothing new.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        tokens: TokenFactory,
        codec: TokenCodec,
        retry: RetryPolicy,
        interval: timedelta = timedelta(minutes=10),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = tokens
        self._codec = codec
        self._retry = retry
        self._interval = interval

    async def execute(self, raw_email: str) -> None:
        """Queue the email; raises only ValidationError for a bad email."""
        email = Email.parse(raw_email).value
        now = self._clock.now()
        slot = int(now.timestamp() // self._interval.total_seconds())
        async with self._uow() as uow:
            await enqueue(
                uow,
                channel=Channel.EMAIL,
                dedupe_key=f"email:portal:{self._codec.email_key(email)}:{slot}",
                payload={"template": EmailTemplate.CUSTOMER_PORTAL, "email": email},
                now=now,
                tokens=self._tokens,
                retry=self._retry,
            )
            await uow.commit()
