"""A recording access target (tests and embedding)."""

from __future__ import annotations

from accessgate.domain.model.errors import DeliveryFailed
from accessgate.domain.model.outbox import Channel
from accessgate.ports.access_target import AccessChange


class RecordingAccessTarget:
    """Keeps every change it applies in ``applied``.

    Set ``fail_with`` to make every call fail (fault tests).
    """

    def __init__(self, channel: Channel = Channel.ACCESS_WEBHOOK) -> None:
        self._channel = channel
        self.applied: list[AccessChange] = []
        self.fail_with: DeliveryFailed | None = None

    @property
    def channel(self) -> Channel:
        """The outbox channel it reads."""
        return self._channel

    async def apply(self, change: AccessChange) -> None:
        """Record the change, or raise ``fail_with``."""
        if self.fail_with is not None:
            raise self.fail_with
        self.applied.append(change)
