"""ListOutbox: show outbox messages to an operator."""

from __future__ import annotations

from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.outbox import OutboxMessage, OutboxStatus
from accessgate.ports.unit_of_work import UnitOfWorkFactory

MAX_LIMIT = 1000


class ListOutbox:
    """List outbox messages, oldest first.

    Rules:
        * ``status`` narrows the list to one status; ``None`` lists every status.
        * ``limit`` is between 1 and 1,000; payloads hold no secret, so the
          messages can be shown as they are.
        * Nothing is changed.
    """

    def __init__(self, *, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(
        self, status: OutboxStatus | None = None, limit: int = 100
    ) -> list[OutboxMessage]:
        """The messages; raises ValidationError for a limit out of range."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        async with self._uow(read_only=True) as uow:
            return await uow.outbox.list(status, limit)
