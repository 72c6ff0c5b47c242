"""A transactional in-memory unit of work.

Units of work over one :class:`MemoryStore` run one at a time (a store-wide
lock), which makes them serialisable: ``for_update`` needs no row locks. A unit
of work works on a copy of the tables; ``commit`` publishes the copy.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self

import msgspec

from accessgate.domain.model.access import Access
from accessgate.domain.model.credentials import ActivationToken, OtpChallenge
from accessgate.domain.model.errors import StorageError
from accessgate.domain.model.events import DomainEvent
from accessgate.domain.model.order import Order
from accessgate.domain.model.outbox import OutboxMessage, OutboxStatus
from accessgate.domain.model.payment_event import PaymentEventRecord
from accessgate.domain.model.status import AccessStatus, PaymentStatus
from accessgate.ports.unit_of_work import Subscribers


@dataclass(frozen=True)
class Tables:
    """One consistent state of every table (copied per unit of work)."""

    orders: dict[str, Order] = field(default_factory=dict)
    accesses: dict[str, Access] = field(default_factory=dict)
    tokens: dict[str, ActivationToken] = field(default_factory=dict)
    otps: dict[str, OtpChallenge] = field(default_factory=dict)
    payment_events: dict[tuple[str, str], PaymentEventRecord] = field(default_factory=dict)
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)

    def copy(self) -> Tables:
        """A copy whose dicts can change without touching this one (rows are immutable)."""
        return replace(
            self, **{name: dict(getattr(self, name)) for name in self.__dataclass_fields__}
        )


class MemoryStore:
    """The committed state of an in-memory storage, shared by its units of work."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.commits = 0
        self.lock = asyncio.Lock()


class _Repo:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _t(self) -> Tables:
        return self._uow.tables


class MemoryOrderRepository(_Repo):
    """Orders in memory."""

    async def add(self, order: Order) -> None:
        """Store a new order (id and session id unique)."""
        if order.id in self._t.orders or await self.get_by_session_id(order.provider_session_id):
            raise StorageError("duplicate order")
        self._t.orders[order.id] = order

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        """The order with this id."""
        return self._t.orders.get(order_id)

    def _find(self, attribute: str, value: str) -> Order | None:
        return next((o for o in self._t.orders.values() if getattr(o, attribute) == value), None)

    async def get_by_session_id(self, session_id: str, *, for_update: bool = False) -> Order | None:
        """The order of a checkout session."""
        return self._find("provider_session_id", session_id)

    async def get_by_subscription_id(
        self, subscription_id: str, *, for_update: bool = False
    ) -> Order | None:
        """The order of a subscription."""
        return self._find("provider_subscription_id", subscription_id)

    async def get_by_payment_id(self, payment_id: str, *, for_update: bool = False) -> Order | None:
        """The order of a payment."""
        return self._find("provider_payment_id", payment_id)

    async def list_by_email(self, email: str) -> list[Order]:
        """The orders of an email, newest first."""
        found = [o for o in self._t.orders.values() if o.email == email]
        return sorted(found, key=lambda o: (o.created_at, o.id), reverse=True)

    async def list_unpaid_since(
        self, since: datetime, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Order]:
        """Unpaid orders created at or after ``since``, by (created_at, id), past ``after``."""
        found = sorted(
            (
                o
                for o in self._t.orders.values()
                if o.payment_status is PaymentStatus.UNPAID
                and o.created_at >= since
                and (after is None or (o.created_at, o.id) > after)
            ),
            key=lambda o: (o.created_at, o.id),
        )
        return found[:limit]

    async def update(self, order: Order) -> None:
        """Store an order's new state."""
        if order.id not in self._t.orders:
            raise StorageError("order not found")
        self._t.orders[order.id] = order


class MemoryAccessRepository(_Repo):
    """Accesses in memory."""

    async def add(self, access: Access) -> None:
        """Store a new access (one per order)."""
        if access.order_id in self._t.accesses:
            raise StorageError("duplicate access")
        self._t.accesses[access.order_id] = access

    async def get(self, order_id: str, *, for_update: bool = False) -> Access | None:
        """The access of an order."""
        return self._t.accesses.get(order_id)

    async def list_by_telegram_user(self, telegram_user_id: int) -> list[Access]:
        """Accesses bound to a Telegram account, most recently changed first."""
        found = [a for a in self._t.accesses.values() if a.telegram_user_id == telegram_user_id]
        return sorted(found, key=lambda a: a.updated_at, reverse=True)

    async def count_in_effect(self, now: datetime) -> int:
        """Accesses issued or active and not lapsed at ``now``."""
        live = (AccessStatus.TOKEN_ISSUED, AccessStatus.ACTIVE)
        return sum(1 for a in self._t.accesses.values() if a.effective_status(now) in live)

    async def list_lapsed(self, now: datetime, limit: int) -> builtins.list[Access]:
        """Issued or active accesses whose period (and grace) ended, the earliest first."""
        live = (AccessStatus.TOKEN_ISSUED, AccessStatus.ACTIVE)
        lapsed = [
            a
            for a in self._t.accesses.values()
            if a.status in live and a.effective_status(now) is AccessStatus.EXPIRED
        ]
        return sorted(lapsed, key=lambda a: (a.ends_at() or now, a.order_id))[:limit]

    async def update(self, access: Access) -> None:
        """Store an access's new state."""
        if access.order_id not in self._t.accesses:
            raise StorageError("access not found")
        self._t.accesses[access.order_id] = access


class MemoryTokenRepository(_Repo):
    """Activation tokens in memory."""

    async def add(self, token: ActivationToken) -> None:
        """Store a new token (hash unique)."""
        if token.token_hash in self._t.tokens:
            raise StorageError("duplicate token")
        self._t.tokens[token.token_hash] = token

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> ActivationToken | None:
        """The token with this hash."""
        return self._t.tokens.get(token_hash)

    async def get_current(self, order_id: str) -> ActivationToken | None:
        """The order's token that is not revoked."""
        live = [t for t in self._t.tokens.values() if t.order_id == order_id and not t.revoked_at]
        return max(live, key=lambda t: t.created_at, default=None)

    async def update(self, token: ActivationToken) -> None:
        """Store a token's new state."""
        if token.token_hash not in self._t.tokens:
            raise StorageError("token not found")
        self._t.tokens[token.token_hash] = token


class MemoryOtpRepository(_Repo):
    """Restore challenges in memory, one per email."""

    async def get(self, email: str, *, for_update: bool = False) -> OtpChallenge | None:
        """The challenge of an email."""
        return self._t.otps.get(email)

    async def get_by_id(self, challenge_id: str) -> OtpChallenge | None:
        """The challenge with this id, unless replaced."""
        return next((c for c in self._t.otps.values() if c.id == challenge_id), None)

    async def replace(self, challenge: OtpChallenge) -> None:
        """Store a challenge in place of the email's previous one."""
        self._t.otps[challenge.email] = challenge

    async def update(self, challenge: OtpChallenge) -> None:
        """Store a challenge's new state."""
        current = self._t.otps.get(challenge.email)
        if current is None or current.id != challenge.id:
            raise StorageError("challenge not found")
        self._t.otps[challenge.email] = challenge


class MemoryPaymentEventRepository(_Repo):
    """Applied provider events in memory."""

    async def add(self, record: PaymentEventRecord) -> bool:
        """Record an event; ``False`` for a duplicate."""
        key = (record.provider, record.event_id)
        if key in self._t.payment_events:
            return False
        self._t.payment_events[key] = record
        return True

    async def get(self, provider: str, event_id: str) -> PaymentEventRecord | None:
        """The record of an event."""
        return self._t.payment_events.get((provider, event_id))

    async def update(self, record: PaymentEventRecord) -> None:
        """Store the order and outcome of a recorded event."""
        key = (record.provider, record.event_id)
        if key not in self._t.payment_events:
            raise StorageError("payment event not found")
        self._t.payment_events[key] = record


class MemoryOutboxRepository(_Repo):
    """Outbox messages in memory."""

    async def add(self, message: OutboxMessage) -> bool:
        """Store a message; ``False`` if its dedupe key exists."""
        if any(m.dedupe_key == message.dedupe_key for m in self._t.outbox.values()):
            return False
        self._t.outbox[message.id] = message
        return True

    async def add_all(self, messages: Sequence[OutboxMessage]) -> None:
        """Store messages, skipping those whose dedupe key exists."""
        for message in messages:
            await self.add(message)

    async def get(self, message_id: str) -> OutboxMessage | None:
        """The message with this id."""
        return self._t.outbox.get(message_id)

    async def claim_due(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> builtins.list[OutboxMessage]:
        """Claim due, unleased pending messages, oldest due first."""
        due = sorted(
            (
                m
                for m in self._t.outbox.values()
                if m.status is OutboxStatus.PENDING
                and m.next_attempt_at <= now
                and (m.locked_until is None or m.locked_until <= now)
            ),
            key=lambda m: (m.next_attempt_at, m.created_at, m.id),
        )[:limit]
        claimed = [msgspec.structs.replace(m, locked_until=lease_until) for m in due]
        for message in claimed:
            self._t.outbox[message.id] = message
        return claimed

    async def list(
        self, status: OutboxStatus | None = None, limit: int = 100
    ) -> builtins.list[OutboxMessage]:
        """Messages, oldest first."""
        found = [m for m in self._t.outbox.values() if status is None or m.status is status]
        return sorted(found, key=lambda m: (m.created_at, m.id))[:limit]

    async def update(self, message: OutboxMessage) -> None:
        """Store a message's new state."""
        if message.id not in self._t.outbox:
            raise StorageError("outbox message not found")
        self._t.outbox[message.id] = message

    async def count_open(self) -> dict[tuple[str, OutboxStatus], int]:
        """Pending and failed messages per (channel, status)."""
        counts: dict[tuple[str, OutboxStatus], int] = {}
        for m in self._t.outbox.values():
            if m.status in (OutboxStatus.PENDING, OutboxStatus.FAILED):
                key = (str(m.channel), m.status)
                counts[key] = counts.get(key, 0) + 1
        return counts


class MemoryUnitOfWork:
    """One serialised transaction over a :class:`MemoryStore`.

    Attributes:
        committed: whether ``commit`` was called (observable in tests).

    """

    def __init__(
        self,
        store: MemoryStore,
        *,
        read_only: bool = False,
        subscribers: Subscribers | None = None,
    ) -> None:
        self._store = store
        self._read_only = read_only
        self._subscribers = subscribers or Subscribers()
        self._events: builtins.list[DomainEvent] = []
        self._tables: Tables | None = None
        self.committed = False
        self.orders = MemoryOrderRepository(self)
        self.accesses = MemoryAccessRepository(self)
        self.tokens = MemoryTokenRepository(self)
        self.otps = MemoryOtpRepository(self)
        self.payment_events = MemoryPaymentEventRepository(self)
        self.outbox = MemoryOutboxRepository(self)

    @property
    def tables(self) -> Tables:
        """The working copy; only inside ``async with``."""
        if self._tables is None:
            raise RuntimeError("use the unit of work inside 'async with'")
        return self._tables

    def record(self, event: DomainEvent) -> None:
        """Note an event; ``commit`` dispatches it to the subscribers first."""
        if self._tables is None:
            raise RuntimeError("use the unit of work inside 'async with'")
        self._events.append(event)

    async def __aenter__(self) -> Self:
        await self._store.lock.acquire()
        self._tables = self._store.tables.copy()
        self._events = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tables = None
        self._events = []
        self._store.lock.release()

    async def commit(self) -> None:
        """Publish the working copy."""
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self._subscribers.dispatch(self, self._events)
        self._store.tables = self.tables.copy()
        self._store.commits += 1
        self.committed = True

    async def rollback(self) -> None:
        """Drop every write and every recorded event since the last commit."""
        self._tables = self._store.tables.copy()
        self._events = []


class MemoryUnitOfWorkFactory:
    """Makes units of work over one store (a new empty store by default)."""

    def __init__(
        self, store: MemoryStore | None = None, *, subscribers: Subscribers | None = None
    ) -> None:
        self.store = store or MemoryStore()
        self.subscribers = subscribers or Subscribers()

    def __call__(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        """A new unit of work (``read_only``: ``commit`` raises)."""
        return MemoryUnitOfWork(self.store, read_only=read_only, subscribers=self.subscribers)

    async def check(self) -> None:
        """Memory always answers."""
