"""The UnitOfWork port and its repositories.

Transaction semantics, which every adapter honours (a contract test suite runs
against each):

* A unit of work is an async context manager. Leaving it without ``commit()``
  rolls back; nothing written inside is visible to other units of work before
  the commit.
* ``for_update=True`` locks the row read until the unit of work ends, so two
  concurrent units of work that load the same row for update are serialised.
* Uniqueness is enforced by the storage, never by process memory: ``add``
  methods that can meet a duplicate return ``False`` instead of raising.
* A lost connection or any driver failure raises ``StorageError``.
* A write whose answer is not returned (``add`` of a new row, ``update``) may be
  sent later, at the latest with the next read of the unit of work or its
  commit: its error (a conflict, a missing row) may surface there. Reads always
  see the unit of work's own writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from accessgate.domain.model.access import Access
from accessgate.domain.model.credentials import ActivationToken, OtpChallenge
from accessgate.domain.model.events import DomainEvent
from accessgate.domain.model.order import Order
from accessgate.domain.model.outbox import OutboxMessage, OutboxStatus
from accessgate.domain.model.payment_event import PaymentEventRecord


class OrderRepository(Protocol):
    """Orders, unique by id and by provider session id."""

    async def add(self, order: Order) -> None:
        """Store a new order."""
        ...

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        """The order with this id, or ``None``."""
        ...

    async def get_by_session_id(self, session_id: str, *, for_update: bool = False) -> Order | None:
        """The order of a provider checkout session, or ``None``."""
        ...

    async def get_by_subscription_id(
        self, subscription_id: str, *, for_update: bool = False
    ) -> Order | None:
        """The order of a provider subscription, or ``None``."""
        ...

    async def get_by_payment_id(self, payment_id: str, *, for_update: bool = False) -> Order | None:
        """The order of a provider payment (charge, payment intent), or ``None``."""
        ...

    async def list_by_email(self, email: str) -> list[Order]:
        """The orders of a normalised email, newest first."""
        ...

    async def list_unpaid_since(
        self, since: datetime, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Order]:
        """Up to ``limit`` unpaid orders created at or after ``since``, oldest first.

        Ordered by (``created_at``, ``id``); ``after`` is the (``created_at``,
        ``id``) of the last order of the previous batch, so batches never
        overlap (keyset pagination). Nothing is locked.
        """
        ...

    async def update(self, order: Order) -> None:
        """Store the new state of an existing order."""
        ...


class AccessRepository(Protocol):
    """The access of each order (one per order)."""

    async def add(self, access: Access) -> None:
        """Store the access of a new order."""
        ...

    async def get(self, order_id: str, *, for_update: bool = False) -> Access | None:
        """The access of an order, or ``None``."""
        ...

    async def list_by_telegram_user(self, telegram_user_id: int) -> list[Access]:
        """Every access bound to a Telegram account, most recently changed first."""
        ...

    async def count_in_effect(self, now: datetime) -> int:
        """How many accesses are issued or active and not lapsed at ``now`` (one COUNT)."""
        ...

    async def list_lapsed(self, now: datetime, limit: int) -> list[Access]:
        """Up to ``limit`` issued or active accesses whose period (and grace) ended by ``now``.

        The rows are locked for update; rows another transaction holds are
        skipped (``FOR UPDATE SKIP LOCKED`` where the storage has it), so
        several workers expiring at once never take the same access.
        """
        ...

    async def update(self, access: Access) -> None:
        """Store the new state of an existing access."""
        ...


class TokenRepository(Protocol):
    """Activation tokens, unique by hash."""

    async def add(self, token: ActivationToken) -> None:
        """Store a new token."""
        ...

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> ActivationToken | None:
        """The token with this hash, or ``None``."""
        ...

    async def get_current(self, order_id: str) -> ActivationToken | None:
        """The order's token that is not revoked, or ``None``."""
        ...

    async def update(self, token: ActivationToken) -> None:
        """Store the new state of an existing token."""
        ...


class OtpRepository(Protocol):
    """Restore challenges: at most one per email."""

    async def get(self, email: str, *, for_update: bool = False) -> OtpChallenge | None:
        """The challenge of an email, or ``None``."""
        ...

    async def replace(self, challenge: OtpChallenge) -> None:
        """Store a challenge, replacing the email's previous one."""
        ...

    async def get_by_id(self, challenge_id: str) -> OtpChallenge | None:
        """The challenge with this id, or ``None`` (it was replaced)."""
        ...

    async def update(self, challenge: OtpChallenge) -> None:
        """Store the new state of an existing challenge."""
        ...


class PaymentEventRepository(Protocol):
    """The record of applied provider events, unique by (provider, event id)."""

    async def add(self, record: PaymentEventRecord) -> bool:
        """Record an event; ``False`` if it was recorded before (a duplicate).

        One statement that inserts unless the key exists: use cases call it
        first, so a duplicate delivery stops before any other lookup or lock.
        """
        ...

    async def update(self, record: PaymentEventRecord) -> None:
        """Store the order and outcome of an event recorded in this unit of work."""
        ...

    async def get(self, provider: str, event_id: str) -> PaymentEventRecord | None:
        """The record of an event, or ``None``."""
        ...


class OutboxRepository(Protocol):
    """Outbox messages, unique by dedupe key."""

    async def add(self, message: OutboxMessage) -> bool:
        """Store a message; ``False`` if one with its dedupe key exists."""
        ...

    async def add_all(self, messages: Sequence[OutboxMessage]) -> None:
        """Store several messages in one write, skipping those whose dedupe key exists."""
        ...

    async def get(self, message_id: str) -> OutboxMessage | None:
        """The message with this id, or ``None``."""
        ...

    async def claim_due(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> list[OutboxMessage]:
        """Claim up to ``limit`` pending messages due at ``now`` and not leased.

        Claimed messages get ``locked_until = lease_until`` so that no other
        worker claims them until the lease runs out; several workers may claim
        at once without ever claiming the same message.
        """
        ...

    async def list(
        self, status: OutboxStatus | None = None, limit: int = 100
    ) -> list[OutboxMessage]:
        """Messages, oldest first, optionally of one status."""
        ...

    async def update(self, message: OutboxMessage) -> None:
        """Store the new state of an existing message."""
        ...

    async def count_open(self) -> dict[tuple[str, OutboxStatus], int]:
        """Pending and failed messages per (channel, status), in one grouped COUNT."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository."""

    @property
    def orders(self) -> OrderRepository:
        """Orders."""
        ...

    @property
    def accesses(self) -> AccessRepository:
        """Accesses."""
        ...

    @property
    def tokens(self) -> TokenRepository:
        """Activation tokens."""
        ...

    @property
    def otps(self) -> OtpRepository:
        """Restore challenges."""
        ...

    @property
    def payment_events(self) -> PaymentEventRepository:
        """Applied provider events."""
        ...

    @property
    def outbox(self) -> OutboxRepository:
        """Outbox messages."""
        ...

    def record(self, event: DomainEvent) -> None:
        """Note that ``event`` happened in this transaction.

        ``commit`` hands the recorded events to the subscribers first (see
        :class:`Subscribers`); ``rollback`` and leaving without a commit drop them.
        """
        ...

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed, and release the connection."""
        ...

    async def commit(self) -> None:
        """Dispatch the recorded events, then make every write durable and visible.

        The subscribers run inside the transaction, before it commits: the
        outbox messages they answer are written with the change that caused
        them, and a subscriber that raises keeps the whole unit of work from
        committing.
        """
        ...

    async def rollback(self) -> None:
        """Discard every write since the last commit."""
        ...


class UnitOfWorkFactory(Protocol):
    """Makes units of work over one storage."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A new, not yet entered unit of work.

        ``read_only=True`` promises that the unit of work only reads: it takes
        no write lock where the storage has one (SQLite readers then run beside
        the writer), and ``commit`` raises ``RuntimeError``.
        """
        ...

    async def check(self) -> None:
        """Raise ``StorageError`` unless the storage answers (health checks)."""
        ...


E_contra = TypeVar("E_contra", bound=DomainEvent, contravariant=True)

# At most this many events (recorded ones and those subscribers record in
# turn) are dispatched per commit: a subscriber loop fails loudly.
MAX_EVENTS_PER_COMMIT = 1000


class EventSubscriber(Protocol[E_contra]):
    """Reacts to one type of domain event inside the unit of work that recorded it."""

    async def __call__(self, uow: UnitOfWork, event: E_contra) -> Sequence[OutboxMessage]:
        """The outbox messages ``event`` causes (may be none).

        The subscriber may read and write through ``uow`` and record further
        events; it must not commit. The messages of every subscriber are
        written together in one statement, skipping dedupe keys written before.
        """
        ...


class Subscribers:
    """Which subscribers hear which domain events (filled by the composition root).

    A subscriber registered for a type hears its subclasses too
    (``AccessEvent`` hears every access change). Subscribers run in the order
    they were registered; events in the order they were recorded.
    """

    def __init__(self) -> None:
        self._by_type: dict[type[DomainEvent], list[EventSubscriber[Any]]] = {}
        self._resolved: dict[type[DomainEvent], tuple[EventSubscriber[Any], ...]] = {}

    def on(self, event_type: type[E_contra], subscriber: EventSubscriber[E_contra]) -> None:
        """Call ``subscriber`` for every event of ``event_type`` (or a subclass)."""
        self._by_type.setdefault(event_type, []).append(subscriber)
        self._resolved.clear()

    def of(self, event_type: type[DomainEvent]) -> tuple[EventSubscriber[Any], ...]:
        """The subscribers that hear events of ``event_type``."""
        found = self._resolved.get(event_type)
        if found is None:
            found = tuple(
                subscriber
                for cls in reversed(event_type.__mro__)
                for subscriber in self._by_type.get(cls, ())
            )
            self._resolved[event_type] = found
        return found

    async def dispatch(self, uow: UnitOfWork, pending: list[DomainEvent]) -> None:
        """Hand every event of ``pending`` (consumed, growing as subscribers record) over.

        Unit-of-work adapters call this at the start of ``commit``; the
        subscribers' messages are written with one ``outbox.add_all``.
        """
        messages: list[OutboxMessage] = []
        dispatched = 0
        while pending:
            dispatched += 1
            if dispatched > MAX_EVENTS_PER_COMMIT:
                raise RuntimeError("too many domain events in one unit of work (a loop?)")
            event = pending.pop(0)
            for subscriber in self.of(type(event)):
                messages.extend(await subscriber(uow, event))
        if messages:
            await uow.outbox.add_all(messages)
