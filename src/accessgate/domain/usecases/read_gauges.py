"""ReadGauges: what the service holds right now, for metrics and health checks."""

from __future__ import annotations

import msgspec

from accessgate.domain.model.outbox import OutboxStatus
from accessgate.ports.clock import Clock
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class Gauges(msgspec.Struct, frozen=True, kw_only=True):
    """Counts read from storage at one moment.

    ``active_subscriptions``: accesses issued or active whose period (plus any
    grace) has not ended; ``outbox_backlog`` / ``outbox_failed``: pending and
    failed outbox messages by channel.
    """

    active_subscriptions: int
    outbox_backlog: dict[str, int]
    outbox_failed: dict[str, int]

    @property
    def backlog(self) -> int:
        """Pending outbox messages over every channel."""
        return sum(self.outbox_backlog.values())


class ReadGauges:
    """Read the gauges in one read-only unit of work.

    Rules:
        * Two queries: one COUNT over accesses, one grouped COUNT over the
          outbox; nothing is changed and no row is locked.
        * A storage failure propagates (``StorageError``).
    """

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self) -> Gauges:
        """The gauges now."""
        async with self._uow(read_only=True) as uow:
            active = await uow.accesses.count_in_effect(self._clock.now())
            counts = await uow.outbox.count_open()
        backlog: dict[str, int] = {}
        failed: dict[str, int] = {}
        for (channel, status), count in counts.items():
            target = backlog if status is OutboxStatus.PENDING else failed
            target[channel] = target.get(channel, 0) + count
        return Gauges(active_subscriptions=active, outbox_backlog=backlog, outbox_failed=failed)
