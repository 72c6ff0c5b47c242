"""Group commit on PostgreSQL: payment events that arrive together share one transaction.

A fulfilment on its own is four round trips (``BEGIN``; record the event and lock
its order; the writes; ``COMMIT``), and on a small machine each costs the server
more CPU than the work it carries. Units of work whose first statement records a
payment event (every event use case starts that way) therefore join a
:class:`CommitGroup`: one pooled connection, one transaction, one ``COMMIT``.

* **Recorded and checked on its own.** The records of the members waiting
  together go in one statement (a multi-row ``INSERT ... ON CONFLICT DO NOTHING``
  that locks each new event's order with its access); each member learns whether
  its own event is new and gets its own rows. Its use case runs as it always does.
* **Written together.** A member's writes are held until it commits; the group
  sends the writes of all its members as combined statements, then commits once.
* **Failing alone.** A member that fails before writing anything (an unknown
  order, another amount) leaves: its record is deleted in the group's
  transaction and the others commit; so is the record of a member cancelled
  while the statement recording it ran. A member that fails after its writes
  were sent, or any database error, fails the whole group: nothing of it
  commits and every member gets ``StorageError`` (the providers deliver again).
* **No two members touch one row.** A member whose event or claimed order is
  already in an unfinished group waits for that group to finish first, as it
  would wait for the row lock; a member that locks an order another member holds
  fails with ``StorageError``.

Exactly-once still rests on the database: the primary key of the event record
and the row locks, across groups, processes and replicas.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from accessgate.adapters.sqlalchemy.connections import (
    PostgresConnection,
    PostgresSource,
    take_turn,
)
from accessgate.adapters.sqlalchemy.locked import (
    ORDER_ACCESS,
    ORDER_ACCESS_COLUMNS,
    ORDER_ACCESS_NAMES,
)
from accessgate.adapters.sqlalchemy.statements import (
    POSTGRESQL,
    Row,
    Statement,
    recordset,
    rows_json,
)
from accessgate.adapters.sqlalchemy.tables import payment_events
from accessgate.adapters.sqlalchemy.writes import Write, send
from accessgate.domain.model.errors import StorageError

# Members per group: past a few dozen a group only makes its members wait longer.
MAX_MEMBERS = 32

EventKey = tuple[str, str]
T = TypeVar("T")

_FORGET_RECORD = Statement(
    "DELETE FROM payment_events WHERE provider = :provider AND event_id = :event_id"
)


_EVENT_COLUMNS = tuple(c.name for c in payment_events.columns)
_EVENT_NAMES = ", ".join(_EVENT_COLUMNS)
# The namespace of accessgate's advisory locks (any constant; see below).
ADVISORY_NAMESPACE = 0x61676174
# Record the events waiting together (one array per column) and lock each new
# event's order with its access; one shape whatever the number of events.
#
# A group never waits for another group: two groups (in two processes) that each
# hold some orders and wait for one the other holds would deadlock. So each event
# first takes a transaction-scoped advisory lock on its claimed order without
# waiting; an event whose order another transaction has is not admitted, and its
# unit of work leaves the group to run alone, where waiting is safe.
#
# One row per event: ``admitted``, ``recorded`` (new, not a duplicate) and, for a
# recorded event whose claimed order exists, the order and access (``o_``/``a_``).
RECORD_AND_LOCK = Statement(
    f"WITH incoming AS (SELECT i.* FROM {recordset(payment_events, 'i')}), "
    "admitted AS (SELECT * FROM incoming "
    f"WHERE pg_try_advisory_xact_lock({ADVISORY_NAMESPACE}, hashtext(order_id))), "
    f"recorded AS (INSERT INTO payment_events ({_EVENT_NAMES}) SELECT * FROM admitted "
    "ON CONFLICT DO NOTHING RETURNING provider, event_id, order_id), "
    f"locked AS (SELECT {ORDER_ACCESS} "
    "FROM orders JOIN accesses ON accesses.order_id = orders.id "
    "WHERE orders.id IN (SELECT order_id FROM recorded) FOR UPDATE OF orders, accesses) "
    "SELECT incoming.provider AS r_provider, incoming.event_id AS r_event_id, "
    "admitted.event_id IS NOT NULL AS admitted, recorded.event_id IS NOT NULL AS recorded, "
    "locked.* FROM incoming "
    "LEFT JOIN admitted ON admitted.provider = incoming.provider "
    "AND admitted.event_id = incoming.event_id "
    "LEFT JOIN recorded ON recorded.provider = incoming.provider "
    "AND recorded.event_id = incoming.event_id "
    "LEFT JOIN locked ON locked.o_id = recorded.order_id",
    (None, None, None, None, *ORDER_ACCESS_COLUMNS),
    ("r_provider", "r_event_id", "admitted", "recorded", *ORDER_ACCESS_NAMES),
)


def _fail(answers: list[asyncio.Future[Row]], error: BaseException) -> None:
    """Give ``error`` to the answers still awaited (cancel them if it is a cancellation)."""
    for answer in answers:
        if answer.done():
            continue
        if isinstance(error, Exception):
            answer.set_exception(error)
        else:
            answer.cancel()


class GroupMember:
    """One unit of work's share of a :class:`CommitGroup` (its driver connection)."""

    __slots__ = ("done", "group", "key", "order_id", "recorded", "wrote")

    def __init__(self, group: CommitGroup, key: EventKey, order_id: str) -> None:
        self.group = group
        self.key = key
        self.order_id = order_id
        self.wrote = False  # something of this member was sent besides its record
        self.recorded = False  # its record was inserted (it was no duplicate)
        self.done = False

    async def record(self, row: Row) -> Row:
        """Record this member's event (with the others waiting); the answer row.

        ``admitted`` is false when another transaction holds the claimed order
        (nothing was written: leave the group and record alone); ``recorded`` is
        true for a new event (then ``o_``/``a_`` hold its locked order and
        access, or ``None`` when the claimed order does not exist), false for a
        duplicate.
        """
        return await self.group.record(self, row)

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """A read on the group's connection."""
        return await self.group.run(lambda c: c.fetch(statement, params))

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:
        """A write on the group's connection, now (the member can no longer leave alone)."""
        self.wrote = True
        return await self.group.run(lambda c: c.execute(statement, params))

    async def begin(self, *, read_only: bool) -> None:
        """The group's transaction is begun by its first statement."""

    async def commit(self) -> None:
        """Units of work commit through :meth:`commit_with`."""
        raise RuntimeError("a group member commits with its writes (commit_with)")

    async def rollback(self) -> None:
        """Leave the group (see :meth:`leave`)."""
        await self.leave()

    def claim(self, order_id: str) -> None:
        """Note that this member locked ``order_id``; fail if another member holds it."""
        self.group.claim(self, order_id)

    async def commit_with(self, writes: list[Write]) -> None:
        """Hand ``writes`` over and wait until the group has committed them."""
        await self.group.hand_over(self, writes)

    async def leave(self) -> None:
        """Leave without committing: the record is forgotten, or the group fails."""
        if not self.done:
            await self.group.leave(self)


class CommitGroup:
    """Units of work sharing one transaction on one pooled connection."""

    def __init__(
        self,
        source: GroupCommitSource,
        connection: PostgresConnection,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        self._source = source
        self._connection = connection
        self._gate = gate  # the turn its connection took, given back at the end
        self._lock = asyncio.Lock()  # one statement at a time on the connection
        self._waiting: list[tuple[GroupMember, Row, asyncio.Future[Row]]] = []
        self._writes: list[Write] = []
        self._failure: StorageError | None = None
        self._outcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._claims: dict[str, GroupMember] = {}
        self._finishing: asyncio.Task[None] | None = None
        self._recorder: asyncio.Future[None] | None = None
        self.members: list[GroupMember] = []
        self.active = 0
        self.accepting = True
        self.finished = asyncio.Event()

    def add(self, key: EventKey, order_id: str) -> GroupMember:
        """A new member recording ``key`` for ``order_id``."""
        member = GroupMember(self, key, order_id)
        self.members.append(member)
        self._claims[order_id] = member
        self.active += 1
        if len(self.members) >= MAX_MEMBERS:
            self.accepting = False
        self._source.hold(self, key, order_id)
        return member

    def claim(self, member: GroupMember, order_id: str) -> None:
        """``member`` locked ``order_id``: refuse an order another member holds."""
        holder = self._source.holder_of(order_id)
        claimant = self._claims.get(order_id, member)
        if (holder is not None and holder is not self) or claimant is not member:
            raise StorageError("The order is being changed by another request", reason="Busy")
        self._claims[order_id] = member
        self._source.hold(self, None, order_id)

    async def run(self, action: Callable[[PostgresConnection], Awaitable[T]]) -> T:
        """Run one statement of a member on the shared connection."""
        if self._failure is not None:
            raise self._failure
        async with self._lock:
            return await action(self._connection)

    async def record(self, member: GroupMember, row: Row) -> Row:
        """This member's answer, from the next statement that records the events waiting."""
        if self._failure is not None:
            raise self._failure
        answer: asyncio.Future[Row] = asyncio.get_running_loop().create_future()
        self._waiting.append((member, row, answer))
        if self._recorder is None:
            # Its own task, started once the requests ready now have joined: members
            # wait for their answer alone, not in line for the connection's lock.
            self._recorder = asyncio.ensure_future(self._record_waiting())
        return await answer

    async def _record_waiting(self) -> None:
        """Send the waiting records, a statement at a time, until none waits."""
        try:
            async with self._lock:
                while self._waiting and self._failure is None:
                    batch, self._waiting = self._waiting, []
                    try:
                        await self._send_records(batch)
                    except BaseException as error:
                        # The transaction is lost with the statement: nothing more of it runs.
                        self._failure = StorageError(reason="GroupRecordFailed")
                        _fail([answer for _, _, answer in batch], error)
                        if not isinstance(error, Exception):
                            raise
        finally:
            self._recorder = None
            if self._failure is not None:
                waiting, self._waiting = self._waiting, []
                _fail([answer for _, _, answer in waiting], self._failure)

    async def _send_records(
        self, batch: list[tuple[GroupMember, Row, asyncio.Future[Row]]]
    ) -> None:
        found = await self._connection.fetch(RECORD_AND_LOCK, rows_json([r for _, r, _ in batch]))
        answers = {(row["r_provider"], row["r_event_id"]): row for row in found}
        for member, _, answer in batch:
            row = answers[member.key]
            member.recorded = bool(row["recorded"])
            if member.done:  # its unit left (cancelled) while the statement ran
                if member.recorded:
                    self._forget(member)
            elif not answer.done():
                answer.set_result(row)

    def _forget(self, member: GroupMember) -> None:
        """Delete ``member``'s record in the group's transaction (it applied nothing)."""
        provider, event_id = member.key
        params = {"provider": provider, "event_id": event_id}
        self._writes.append(Write(_FORGET_RECORD, params, None))

    async def hand_over(self, member: GroupMember, writes: list[Write]) -> None:
        """``member`` commits ``writes``; wait for the group's ``COMMIT``."""
        self.accepting = False
        self._writes.extend(writes)
        await self._member_done(member)
        await asyncio.shield(self._outcome)

    async def leave(self, member: GroupMember) -> None:
        """``member`` ends without committing: its record (if new) is forgotten.

        A member that wrote more than its record cannot be taken out alone: the
        whole group fails.
        """
        if member.wrote:
            self._failure = StorageError(reason="GroupMemberFailed")
        elif member.recorded:
            self._forget(member)
        else:  # a record not sent yet stays unsent; one on the way is forgotten on arrival
            self._waiting = [entry for entry in self._waiting if entry[0] is not member]
        await self._member_done(member)

    async def _member_done(self, member: GroupMember) -> None:
        member.done = True
        self.active -= 1
        if self.active == 0:
            self.accepting = False
            # Its own task: a member cancelled now must not cut the others' commit short.
            self._finishing = asyncio.ensure_future(self._finish())
            await asyncio.shield(self._finishing)

    async def _finish(self) -> None:
        try:
            async with self._lock:
                if self._failure is not None:
                    raise self._failure
                await send(self._connection, POSTGRESQL, self._writes)
                await self._connection.commit()
            self._outcome.set_result(None)
        except BaseException as error:
            failure = error if isinstance(error, StorageError) else StorageError(reason="Group")
            self._failure = failure
            self._outcome.set_exception(failure)
            self._outcome.exception()  # a group nobody waits for fails quietly
        finally:
            try:
                await self._source.release(self._connection)
            finally:
                if self._gate is not None:
                    self._gate.release()
                self._source.forget(self)
                self.finished.set()


class GroupCommitSource(PostgresSource):
    """PostgreSQL connections, plus commit groups for units that record payment events."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._open: CommitGroup | None = None
        self._creating = asyncio.Lock()
        self._keys: dict[EventKey, CommitGroup] = {}
        self._orders: dict[str, CommitGroup] = {}
        self.groups_finished = 0
        self.largest_group = 0

    async def join(
        self,
        key: EventKey,
        order_id: str,
        gate: asyncio.Semaphore | None = None,
        wait_timeout: float = 30.0,
    ) -> GroupMember:
        """A place in an open group for the event ``key`` claiming ``order_id``.

        Waits while an unfinished group holds the same event or order. A new
        group takes a turn of ``gate`` for its connection (its members take
        none) and gives it back when it finishes.
        """
        while True:
            busy = self._keys.get(key) or self._orders.get(order_id)
            if busy is not None:
                await busy.finished.wait()
                continue
            group = self._open
            if group is not None and group.accepting:
                return group.add(key, order_id)
            async with self._creating:
                if self._open is None or not self._open.accepting:
                    self._open = await self._new_group(gate, wait_timeout)

    async def _new_group(self, gate: asyncio.Semaphore | None, wait_timeout: float) -> CommitGroup:
        if gate is not None:
            await take_turn(gate, wait_timeout)
        try:
            connection = await self.acquire(read_only=False)
            assert isinstance(connection, PostgresConnection)
            await connection.begin(read_only=False)
        except BaseException:
            if gate is not None:
                gate.release()
            raise
        return CommitGroup(self, connection, gate)

    def hold(self, group: CommitGroup, key: EventKey | None, order_id: str) -> None:
        """``group`` holds ``key`` and ``order_id`` until it finishes."""
        if key is not None:
            self._keys[key] = group
        self._orders[order_id] = group

    def holder_of(self, order_id: str) -> CommitGroup | None:
        """The unfinished group holding ``order_id``, if any."""
        return self._orders.get(order_id)

    def forget(self, group: CommitGroup) -> None:
        """``group`` finished: its events and orders are free."""
        if self._open is group:
            self._open = None
        self.groups_finished += 1
        self.largest_group = max(self.largest_group, len(group.members))
        for key in [key for key, holder in self._keys.items() if holder is group]:
            del self._keys[key]
        for order_id in [order for order, holder in self._orders.items() if holder is group]:
            del self._orders[order_id]
