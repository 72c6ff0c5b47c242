"""A recording access target (tests and embedding)."""

from __future__ import annotations

from accessgate.domain.model.errors import DeliveryFailed
from accessgate.domain.model.outbox import target_channel
from accessgate.ports.access_target import AccessChange


class RecordingAccessTarget:
    """Keeps every change it applies in ``applied``.

    ``name`` is the target name it stands in for (its messages are on
    ``target:<name>``). Set ``fail_with`` to make every call fail (fault tests).
    """

    def __init__(self, name: str = "access_webhook") -> None:
        self.name = name
        self.applied: list[AccessChange] = []
        self.fail_with: DeliveryFailed | None = None

    @property
    def channel(self) -> str:
        """The outbox channel it reads (``target:<name>``)."""
        return target_channel(self.name)

    async def apply(self, change: AccessChange) -> None:
        """Record the change, or raise ``fail_with``."""
        if self.fail_with is not None:
            raise self.fail_with
        self.applied.append(change)
