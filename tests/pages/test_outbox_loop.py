"""OutboxLoop: delivers, survives a failing batch, stops cleanly."""

from __future__ import annotations

import asyncio

from accessgate.domain.usecases.deliver_outbox import DeliveryReport
from accessgate.entrypoints.worker import OutboxLoop


class FlakyDeliver:
    """A DeliverOutbox stand-in whose second batch fails and whose first is full."""

    def __init__(self) -> None:
        self.calls = 0

    async def execute(self, limit: int = 100) -> DeliveryReport:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("database went away")
        claimed = limit if self.calls == 1 else 0
        return DeliveryReport(claimed=claimed, delivered=claimed)


async def test_loop_keeps_going_after_an_error_and_stops() -> None:
    deliver = FlakyDeliver()
    loop = OutboxLoop(deliver, batch_size=5, poll_interval=0.01)  # type: ignore[arg-type]
    await loop.start()
    for _ in range(200):
        if deliver.calls >= 5:
            break
        await asyncio.sleep(0.01)
    await loop.shutdown(grace=5.0)
    assert deliver.calls >= 5
    calls = deliver.calls
    await asyncio.sleep(0.05)
    assert deliver.calls == calls  # stopped
    await loop.shutdown()  # idempotent
