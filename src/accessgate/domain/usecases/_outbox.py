"""Writing outbox messages inside a use case's unit of work (shared by use cases)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from accessgate.domain.model.outbox import OutboxMessage, RetryPolicy
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.unit_of_work import UnitOfWork

# What a use case asks to send: the channel (a core ``Channel`` or
# ``target:<name>``), the dedupe key and the payload.
Side = tuple[str, str, dict[str, str]]


def due_now(
    side: Side, *, now: datetime, tokens: TokenFactory, retry: RetryPolicy
) -> OutboxMessage:
    """The outbox message for ``side``, due at ``now``."""
    channel, dedupe_key, payload = side
    return OutboxMessage(
        id=tokens.new_id("msg"),
        channel=channel,
        dedupe_key=dedupe_key,
        payload=payload,
        created_at=now,
        next_attempt_at=now,
        max_attempts=retry.max_attempts,
    )


async def enqueue(
    uow: UnitOfWork,
    *,
    channel: str,
    dedupe_key: str,
    payload: dict[str, str],
    now: datetime,
    tokens: TokenFactory,
    retry: RetryPolicy,
) -> bool:
    """Add a message due now; ``False`` if its dedupe key was written before."""
    message = due_now((channel, dedupe_key, payload), now=now, tokens=tokens, retry=retry)
    return await uow.outbox.add(message)


async def enqueue_all(
    uow: UnitOfWork,
    sides: Iterable[Side],
    *,
    now: datetime,
    tokens: TokenFactory,
    retry: RetryPolicy,
) -> None:
    """Add several messages due now in one write; keys written before are skipped."""
    messages = [due_now(side, now=now, tokens=tokens, retry=retry) for side in sides]
    await uow.outbox.add_all(messages)
