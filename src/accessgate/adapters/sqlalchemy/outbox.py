"""The outbox (driver-level SQL), claimable by several workers at once."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from accessgate.adapters.sqlalchemy import rows
from accessgate.adapters.sqlalchemy.base import SqlRepository
from accessgate.adapters.sqlalchemy.statements import Statement, column_list
from accessgate.adapters.sqlalchemy.tables import outbox
from accessgate.domain.model.outbox import OutboxMessage, OutboxStatus

_COLUMNS = column_list(outbox)
_OPEN_COUNTS = Statement(
    "SELECT outbox.channel, outbox.status, count(*) AS n FROM outbox "
    f"WHERE outbox.status IN ('{OutboxStatus.PENDING.value}', '{OutboxStatus.FAILED.value}') "
    "GROUP BY outbox.channel, outbox.status",
    names=("channel", "status", "n"),
)
# ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``: on
# PostgreSQL rows another worker is claiming are skipped, not waited for; on
# SQLite the unit of work already holds the single write lock.
_CLAIM_DUE = Statement(
    "UPDATE outbox SET locked_until = :lease_until WHERE outbox.id IN ("
    "SELECT outbox.id FROM outbox "
    f"WHERE outbox.status = '{OutboxStatus.PENDING.value}' AND outbox.next_attempt_at <= :now "
    "AND (outbox.locked_until IS NULL OR outbox.locked_until <= :now) "
    "ORDER BY outbox.next_attempt_at, outbox.created_at, outbox.id LIMIT :limit "
    f"FOR UPDATE SKIP LOCKED) RETURNING {column_list(outbox, qualified=False)}",
    outbox.columns,
)
_LIST = Statement(
    f"SELECT {_COLUMNS} FROM outbox ORDER BY outbox.created_at, outbox.id LIMIT :limit",
    outbox.columns,
)
_LIST_OF_STATUS = Statement(
    f"SELECT {_COLUMNS} FROM outbox WHERE outbox.status = :status "
    "ORDER BY outbox.created_at, outbox.id LIMIT :limit",
    outbox.columns,
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
        row = await self._one_by(outbox, "id", message_id)
        return None if row is None else rows.to_outbox(row)

    async def claim_due(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> builtins.list[OutboxMessage]:
        """Claim up to ``limit`` due, unleased pending messages in one statement.

        ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``:
        on PostgreSQL rows another worker is claiming are skipped, not waited
        for; on SQLite the unit of work already holds the single write lock.
        """
        found = await self._all(
            _CLAIM_DUE, {"now": now, "limit": limit, "lease_until": lease_until}
        )
        claimed = [rows.to_outbox(row) for row in found]
        return sorted(claimed, key=_due_order)

    async def list(
        self, status: OutboxStatus | None = None, limit: int = 100
    ) -> builtins.list[OutboxMessage]:
        """Messages, oldest first, optionally of one status."""
        if status is None:
            found = await self._all(_LIST, {"limit": limit})
        else:
            found = await self._all(_LIST_OF_STATUS, {"status": status.value, "limit": limit})
        return [rows.to_outbox(row) for row in found]

    async def update(self, message: OutboxMessage) -> None:
        """Store the new state of an existing message."""
        await self._update(outbox, rows.outbox_row(message), "id")

    async def count_open(self) -> dict[tuple[str, OutboxStatus], int]:
        """Pending and failed messages per (channel, status): one grouped COUNT."""
        return {
            (row["channel"], OutboxStatus(row["status"])): int(row["n"])
            for row in await self._all(_OPEN_COUNTS)
        }
