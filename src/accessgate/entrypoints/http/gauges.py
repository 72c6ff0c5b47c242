"""The storage gauges, read at most once per ``max_age`` seconds for /metrics and /health."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from accessgate.domain.usecases.read_gauges import Gauges

GAUGES_MAX_AGE = 5.0


class CachedGauges:
    """A short cache over ``ReadGauges.execute``: one read serves every caller of a moment.

    Concurrent callers wait for the one read in flight; a failed read is not
    cached (the next caller tries again) and its error reaches every waiter.

    Args:
        read: reads the gauges from storage (``ReadGauges.execute``).
        max_age: seconds a read is served before the next one.

    """

    def __init__(
        self, read: Callable[[], Awaitable[Gauges]], max_age: float = GAUGES_MAX_AGE
    ) -> None:
        self._read = read
        self._max_age = max_age
        self._lock = asyncio.Lock()
        self._value: Gauges | None = None
        self._read_at = 0.0

    async def get(self) -> Gauges:
        """The gauges, at most ``max_age`` seconds old."""
        async with self._lock:
            if self._value is None or time.monotonic() - self._read_at > self._max_age:
                self._value = None
                self._value = await self._read()
                self._read_at = time.monotonic()
            return self._value
