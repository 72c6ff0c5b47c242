"""The outbox on SQLAlchemy Core, claimable by several workers at once."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select

from accessgate.adapters.sqlalchemy import rows
from accessgate.adapters.sqlalchemy.base import SqlRepository
from accessgate.adapters.sqlalchemy.tables import outbox
from accessgate.domain.model.outbox import OutboxMessage, OutboxStatus

_o = outbox.c
_OPEN_STATUSES = (OutboxStatus.PENDING, OutboxStatus.FAILED)
_OPEN_COUNTS = (
    select(_o.channel, _o.status, func.count().label("n"))
    .where(_o.status.in_([s.value for s in _OPEN_STATUSES]))
    .group_by(_o.channel, _o.status)
)


def _due_order(message: OutboxMessage) -> tuple[datetime, datetime, str]:
    return (message.next_attempt_at, message.created_at, message.id)


class SqlOutboxRepository(SqlRepository):
    """Outbox messages; the dedupe key is unique."""

    async def add(self, message: OutboxMessage) -> bool:
        """Store a message; ``False`` if one with its dedupe key (or id) exists."""
        return await self._add_unless_exists(outbox, rows.outbox_row(message))

    async def add_all(self, messages: Sequence[OutboxMessage]) -> None:
        """Store messages in one statement, skipping those whose dedupe key exists."""
        await self._add_all_unless_exist(outbox, [rows.outbox_row(m) for m in messages])

    async def get(self, message_id: str) -> OutboxMessage | None:
        """The message with this id, or ``None``."""
        row = await self._one(select(outbox).where(_o.id == message_id))
        return None if row is None else rows.to_outbox(row)

    async def claim_due(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> builtins.list[OutboxMessage]:
        """Claim up to ``limit`` due, unleased pending messages in one statement.

        ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``:
        on PostgreSQL rows another worker is claiming are skipped, not waited
        for; on SQLite the unit of work already holds the single write lock.
        """
        due = (
            select(_o.id)
            .where(
                _o.status == OutboxStatus.PENDING.value,
                _o.next_attempt_at <= now,
                or_(_o.locked_until.is_(None), _o.locked_until <= now),
            )
            .order_by(_o.next_attempt_at, _o.created_at, _o.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            outbox.update()
            .where(_o.id.in_(due))
            .values(locked_until=lease_until)
            .returning(*outbox.c)
        )
        result = await self._execute(claim)
        claimed = [rows.to_outbox(row) for row in result.mappings().all()]
        return sorted(claimed, key=_due_order)

    async def list(
        self, status: OutboxStatus | None = None, limit: int = 100
    ) -> builtins.list[OutboxMessage]:
        """Messages, oldest first, optionally of one status."""
        query = select(outbox).order_by(_o.created_at, _o.id).limit(limit)
        if status is not None:
            query = query.where(_o.status == status.value)
        return [rows.to_outbox(row) for row in await self._all(query)]

    async def update(self, message: OutboxMessage) -> None:
        """Store the new state of an existing message."""
        await self._update(outbox, rows.outbox_row(message), "id")

    async def count_open(self) -> dict[tuple[str, OutboxStatus], int]:
        """Pending and failed messages per (channel, status): one grouped COUNT."""
        result = await self._execute(_OPEN_COUNTS)
        return {
            (row["channel"], OutboxStatus(row["status"])): int(row["n"])
            for row in result.mappings()
        }
