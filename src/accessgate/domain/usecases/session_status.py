"""GetSessionStatus: where a checkout stands, for the buyer's success page."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime, timedelta

import msgspec

from accessgate.domain.model.credentials import TokenCodec
from accessgate.domain.model.errors import DomainError, PaymentNotFound
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.status import AccessStatus, FulfillmentStatus, PaymentStatus
from accessgate.domain.usecases.fulfill_payment import FulfillPayment
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import Capability, status_poll
from accessgate.ports.payment_providers import PaymentProviders
from accessgate.ports.unit_of_work import UnitOfWorkFactory

LINK_STATES = frozenset({AccessStatus.TOKEN_ISSUED, AccessStatus.ACTIVE})
DEFAULT_LOOKUP_INTERVAL = timedelta(seconds=5)
MAX_REMEMBERED_SESSIONS = 10_000


class LookupThrottle:
    """At most one provider lookup per checkout session per ``interval`` (this process).

    The success page and ``session-status`` may be hit as often as a client
    likes; each hit of an unpaid order would otherwise be one provider API call.
    Sessions are remembered by a SHA-256 digest of their id (no session id is
    kept), at most ``max_entries`` of them; the oldest are forgotten first, and
    entries past ``interval`` are dropped as new ones come. A clock that went
    backwards allows a lookup.
    """

    def __init__(
        self,
        clock: Clock,
        interval: timedelta = DEFAULT_LOOKUP_INTERVAL,
        max_entries: int = MAX_REMEMBERED_SESSIONS,
    ) -> None:
        self._clock = clock
        self._interval = interval
        self._max_entries = max(1, max_entries)
        self._last: OrderedDict[bytes, datetime] = OrderedDict()

    def __len__(self) -> int:
        return len(self._last)

    def allow(self, session_id: str) -> bool:
        """Whether ``session_id`` may be looked up now; if so, the lookup is counted."""
        now = self._clock.now()
        key = hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).digest()[:16]
        last = self._last.get(key)
        if last is not None and last <= now < last + self._interval:
            return False
        self._last[key] = now
        self._last.move_to_end(key)
        self._forget(now)
        return True

    def _forget(self, now: datetime) -> None:
        while self._last:
            key, last = next(iter(self._last.items()))
            if len(self._last) <= self._max_entries and last <= now < last + self._interval:
                break
            del self._last[key]


class SessionStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The seed 002 answer of ``GET /api/payment/session-status``."""

    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    access_status: AccessStatus
    activation_link: str | None = None


class GetSessionStatus:
    """Report a checkout session's payment, fulfilment and access.

    Rules:
        * An unknown session is PAYMENT_NOT_FOUND.
        * Dual fulfilment: while the order is unpaid, the order's own provider
          (when it is live and declares ``status_poll``) is asked how
          the session stands and a paid session is fulfilled through the same
          idempotent FulfillPayment, so a buyer back before the webhook still
          gets the link. A provider failure here only means "still pending".
        * The provider is asked at most once per session per ``lookup_interval``
          (see :class:`LookupThrottle`); in between, the stored state answers.
        * ``activation_link`` is present while the order's current token exists
          and access is ``token_issued`` or ``active``.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        providers: PaymentProviders,
        fulfill: FulfillPayment,
        clock: Clock,
        codec: TokenCodec,
        links: LinkBuilder,
        lookup_interval: timedelta = DEFAULT_LOOKUP_INTERVAL,
    ) -> None:
        self._uow = uow
        self._providers = providers
        self._fulfill = fulfill
        self._clock = clock
        self._codec = codec
        self._links = links
        self._throttle = LookupThrottle(clock, lookup_interval)

    async def execute(self, session_id: str) -> SessionStatus:
        """The status of ``session_id``."""
        status, provider = await self._read(session_id)
        gateway = self._providers.find(provider)
        if (
            status.payment_status is PaymentStatus.UNPAID
            and gateway is not None
            and Capability.STATUS_POLL in gateway.capabilities
            and self._throttle.allow(session_id)
        ):
            try:
                event = await status_poll(gateway).fetch_checkout(session_id)
                if event is not None:
                    await self._fulfill.execute(event)
                    status, _ = await self._read(session_id)
            except DomainError:
                pass  # the webhook will settle it; the buyer sees "pending"
        return status

    async def _read(self, session_id: str) -> tuple[SessionStatus, str]:
        async with self._uow(read_only=True) as uow:
            order = await uow.orders.get_by_session_id(session_id)
            if order is None:
                raise PaymentNotFound()
            access = await uow.accesses.get(order.id)
            token = await uow.tokens.get_current(order.id)
        access_status = (
            access.effective_status(self._clock.now()) if access else AccessStatus.PENDING
        )
        link = None
        if token is not None and access_status in LINK_STATES:
            link = self._links.activation_link(self._codec.activation_token(token.seed))
        status = SessionStatus(
            payment_status=order.payment_status,
            fulfillment_status=order.fulfillment_status,
            access_status=access_status,
            activation_link=link,
        )
        return status, order.provider
