"""The Clock port."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The source of the current time; the domain never calls ``datetime.now``."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...
