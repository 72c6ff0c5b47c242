"""The TrackingSink port."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from accessgate.domain.model.errors import DeliveryFailed
from accessgate.domain.model.outbox import Channel


class TrackingEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A conversion event for one tracker; ``message_id`` is stable across retries."""

    message_id: str
    channel: Channel
    payload: dict[str, str]


class TrackingSink(Protocol):
    """Delivers conversion events to one tracker (Meta, MobiSlon, ...).

    ``deliver`` returns one result per event, in order: ``None`` when delivered,
    else a ``DeliveryFailed`` saying whether a retry may help. A sink may send a
    batch in one request. It is called outside any transaction and must not
    raise for a single event's failure.
    """

    async def deliver(self, events: Sequence[TrackingEvent]) -> list[DeliveryFailed | None]:
        """Deliver the events; one result each."""
        ...
