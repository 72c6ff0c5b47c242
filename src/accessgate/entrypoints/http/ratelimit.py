"""Fixed-window rate limiting per client address, in memory or in Redis.

``RATE_LIMIT_REQUESTS`` requests per ``RATE_LIMIT_WINDOW`` seconds per client
address on the public endpoints; the endpoints that send email or check a
restore code have a stricter limit of their own on top
(``RESTORE_RATE_LIMIT_REQUESTS``, counted under its own key scope; the bot's
restore endpoints count per email, since the bot is one client for all its
users). With ``REDIS_URL`` set the counters live in
Redis (``SET NX EX`` + ``INCR`` + ``TTL`` in one transaction), so every replica
counts against the same limit; else in process memory. A Redis that fails is
logged and the request let through: the limiter never takes the API down.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from accessgate.domain.model.errors import RateLimitExceeded
from accessgate.entrypoints.http.client import ClientAddress

logger = logging.getLogger("accessgate.http.ratelimit")


class RateLimitStore(Protocol):
    """Counts hits per key in fixed windows."""

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one hit; return the hits in the current window and the seconds it has left."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryRateLimitStore:
    """Counters in process memory (one process only)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._max_keys = max_keys

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one hit for ``key``."""
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window:
            started, count = now, 0
        if key not in self._windows and len(self._windows) >= self._max_keys:
            self._prune(now, window)
        self._windows[key] = (started, count + 1)
        return count + 1, max(1, math.ceil(started + window - now))

    def _prune(self, now: float, window: int) -> None:
        self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window}
        if len(self._windows) >= self._max_keys:
            self._windows.clear()

    async def close(self) -> None:
        """Nothing to release."""


class RedisRateLimitStore:
    """Counters in Redis, shared by every replica.

    Args:
        client: a ``redis.asyncio.Redis`` client.
        prefix: the key prefix of the counters.

    """

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one hit for ``key`` in Redis."""
        name = f"{self._prefix}{key}"
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, ex=window, nx=True)
            pipe.incr(name)
            pipe.ttl(name)
            _, count, ttl = await pipe.execute()
        return int(count), int(ttl) if int(ttl) > 0 else window

    async def close(self) -> None:
        """Close the Redis connection pool."""
        await self._client.aclose()


KeyOf = Callable[[ASGIConnection[Any, Any, Any, Any]], Awaitable[str]]


class _EmailBody(msgspec.Struct):
    email: str


def body_email_key(fallback: ClientAddress) -> KeyOf:
    """A key function: a digest of the JSON body's ``email``, else the client address."""

    async def key_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        raw = await Request[Any, Any, Any](connection.scope, connection.receive).body()
        try:
            email = msgspec.json.decode(raw, type=_EmailBody).email.strip().lower()
        except (msgspec.ValidationError, msgspec.DecodeError):
            return fallback(connection)
        return "email:" + hashlib.sha256(email.encode()).hexdigest()[:32]

    return key_of


class RateLimiter:
    """A guard limiting requests per client address (or per another key).

    Args:
        store: where the counters live.
        limit: requests allowed per window.
        window: the window in seconds.
        client_address: finds the client address of a request.
        scope: a prefix of the keys, so that limiters sharing a store count apart.
        key: how to key a request; the client address by default.

    """

    def __init__(
        self,
        store: RateLimitStore,
        limit: int,
        window: int,
        client_address: ClientAddress,
        *,
        scope: str = "",
        key: KeyOf | None = None,
    ) -> None:
        self.store = store
        self._limit = limit
        self._window = window
        self._client_address = client_address
        self._scope = scope
        self._key = key

    async def _key_of(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        if self._key is not None:
            return self._scope + await self._key(connection)
        return self._scope + self._client_address(connection)

    async def __call__(
        self,
        connection: ASGIConnection[Any, Any, Any, Any],
        handler: BaseRouteHandler,
    ) -> None:
        """Raise RATE_LIMIT_EXCEEDED (with ``retry_after``) past the limit."""
        key = await self._key_of(connection)
        try:
            count, remaining = await self.store.hit(key, self._window)
        except Exception as error:  # a limiter failure must not take the API down
            logger.warning("rate limit store failed: %s", type(error).__name__)
            return
        if count > self._limit:
            raise RateLimitExceeded(retry_after=remaining)
