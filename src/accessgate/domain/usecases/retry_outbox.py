"""RetryOutboxMessages: an operator replays messages that failed for good."""

from __future__ import annotations

from accessgate.domain.model.outbox import OutboxMessage, OutboxStatus
from accessgate.ports.clock import Clock
from accessgate.ports.unit_of_work import UnitOfWorkFactory

MAX_BATCH = 1000


class RetryOutboxMessages:
    """Put failed messages back in the queue, due now with a fresh attempt budget.

    Rules:
        * Only ``failed`` messages are replayed; a delivered, discarded or still
          pending message named by id is left alone (a delivered one is never
          sent twice), and an unknown id is skipped.
        * ``None`` replays every failed message (up to 1,000 per call).
        * One transaction; returns how many messages were replayed.
    """

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, message_ids: list[str] | None = None) -> int:
        """Replay the failed messages named (or all); the number replayed."""
        now = self._clock.now()
        async with self._uow() as uow:
            if message_ids is None:
                candidates = await uow.outbox.list(OutboxStatus.FAILED, MAX_BATCH)
            else:
                found = [await uow.outbox.get(i) for i in dict.fromkeys(message_ids)]
                candidates = [m for m in found if m is not None]
            failed: list[OutboxMessage] = [m for m in candidates if m.status is OutboxStatus.FAILED]
            for message in failed:
                await uow.outbox.update(message.retried(now))
            await uow.commit()
        return len(failed)
