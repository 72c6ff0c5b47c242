"""A settable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SettableClock:
    """A clock that stands still until told to move (tests, simulations).

    Args:
        start: the initial time; must be timezone-aware.

    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("SettableClock needs a timezone-aware time")

    def now(self) -> datetime:
        """The time the clock was set to."""
        return self._now

    def set(self, value: datetime) -> None:
        """Jump to ``value``."""
        self._now = value

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``."""
        self._now += delta
