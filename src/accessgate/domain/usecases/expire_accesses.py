"""ExpireAccesses: accesses whose time ran out become ``expired``, without waiting for a reader."""

from __future__ import annotations

from accessgate.domain.model.events import AccessExpired, ExpiryReason
from accessgate.domain.model.status import AccessStatus
from accessgate.ports.clock import Clock
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class ExpireAccesses:
    """Expire one batch of lapsed accesses.

    Rules:
        * An issued or active access whose period (plus any grace) ended is
          stored as ``expired`` and ``AccessExpired`` (reason ``period_ended``)
          is recorded, in one transaction per batch: the subscribers (access
          targets) hear it once.
        * At most ``limit`` accesses per call, the earliest ended first.
        * Several workers may run it at once: the batch's rows are locked and
          rows locked by another transaction are skipped; an access another
          worker expired first is no longer lapsed and is left alone.
        * Readers already see such access as expired (the effective status);
          a later renewal brings it back as before (time passing is not a
          lifecycle event: ``changed_at`` is kept).
    """

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, limit: int = 100) -> int:
        """Expire up to ``limit`` lapsed accesses; how many were expired."""
        if limit <= 0:
            raise ValueError("limit must be positive")
        now = self._clock.now()
        expired = 0
        async with self._uow() as uow:
            for access in await uow.accesses.list_lapsed(now, limit):
                lapsed = access.lapse(now)
                if lapsed.status is not AccessStatus.EXPIRED or lapsed == access:
                    continue
                order = await uow.orders.get(access.order_id)
                if order is None:
                    continue
                await uow.accesses.update(lapsed)
                uow.record(
                    AccessExpired(
                        at=now, order=order, access=lapsed, reason=ExpiryReason.PERIOD_ENDED
                    )
                )
                expired += 1
            if expired:
                await uow.commit()
        return expired
