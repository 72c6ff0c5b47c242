"""Writing outbox messages inside a use case's unit of work (shared by use cases)."""

from __future__ import annotations

from datetime import datetime

from accessgate.domain.model.outbox import Channel, OutboxMessage, RetryPolicy
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.unit_of_work import UnitOfWork


async def enqueue(
    uow: UnitOfWork,
    *,
    channel: Channel,
    dedupe_key: str,
    payload: dict[str, str],
    now: datetime,
    tokens: TokenFactory,
    retry: RetryPolicy,
) -> bool:
    """Add a message due now; ``False`` if its dedupe key was written before."""
    message = OutboxMessage(
        id=tokens.new_id("msg"),
        channel=channel,
        dedupe_key=dedupe_key,
        payload=payload,
        created_at=now,
        next_attempt_at=now,
        max_attempts=retry.max_attempts,
    )
    return await uow.outbox.add(message)
