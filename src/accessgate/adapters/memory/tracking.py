"""A recording tracking sink."""

from __future__ import annotations

from collections.abc import Sequence

from accessgate.domain.model.errors import DeliveryFailed
from accessgate.ports.tracking import TrackingEvent


class RecordingTrackingSink:
    """Keeps every event it delivers in ``delivered``.

    Set ``fail_with`` to make deliveries fail (fault tests).
    """

    def __init__(self) -> None:
        self.delivered: list[TrackingEvent] = []
        self.fail_with: DeliveryFailed | None = None

    async def deliver(self, events: Sequence[TrackingEvent]) -> list[DeliveryFailed | None]:
        """Record the events, or fail each with ``fail_with``."""
        if self.fail_with is not None:
            return [self.fail_with for _ in events]
        self.delivered.extend(events)
        return [None for _ in events]
