"""``GET /health``: the service and what it depends on.

``services`` names each dependency: ``database`` always, ``redis`` when
``REDIS_URL`` is set, ``bot`` when ``TELEGRAM_BOT_TOKEN`` is set, and
``outbox`` with its backlog (``{"backlog": n, "failed": m}``). A dependency
that fails its check reads ``"error"``; then the answer is 503
``SERVICE_UNAVAILABLE`` naming it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping

from litestar import Controller, get
from litestar.di import NamedDependency

from accessgate.domain.model.errors import ErrorCode, ServiceUnavailable
from accessgate.entrypoints.http.errors import utc_timestamp
from accessgate.entrypoints.http.gauges import CachedGauges
from accessgate.entrypoints.http.openapi import errors
from accessgate.entrypoints.http.schemas import HealthResponse, ServiceState

Check = Callable[[], Awaitable[object]]
CHECK_TIMEOUT = 3.0
ERROR = "error"
# A Telegram bot token: the bot's numeric id, a colon, then 35 URL-safe characters.
_BOT_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,64}$")


class HealthChecks:
    """Named checks (``database``, ``redis``, ...), each an awaitable that raises when down.

    A check that returns a dict (the outbox's counts) shows it instead of ``"ok"``.

    Args:
        checks: the check of each service by name.
        timeout: seconds before a silent service counts as down.

    """

    def __init__(self, checks: Mapping[str, Check], timeout: float = CHECK_TIMEOUT) -> None:
        self._checks = dict(checks)
        self._timeout = timeout

    async def _one(self, check: Check) -> ServiceState:
        try:
            result = await asyncio.wait_for(check(), self._timeout)
        except Exception:
            return ERROR
        if isinstance(result, dict):
            return {str(k): int(v) for k, v in result.items()}
        return "ok"

    async def run(self) -> dict[str, ServiceState]:
        """``"ok"`` (or the check's counts) or ``"error"`` for each service."""
        results = await asyncio.gather(*(self._one(c) for c in self._checks.values()))
        return dict(zip(self._checks, results, strict=True))


def outbox_check(gauges: CachedGauges) -> Check:
    """The outbox's pending and failed message counts (raises when storage is down)."""

    async def check() -> dict[str, int]:
        read = await gauges.get()
        return {"backlog": read.backlog, "failed": sum(read.outbox_failed.values())}

    return check


def bot_check(token: str) -> Check:
    """The bot's configuration: its token must look like a Telegram bot token.

    The bot runs as its own service; this checks only what this process knows.
    """

    async def check() -> None:
        if not _BOT_TOKEN.match(token):
            raise ValueError("TELEGRAM_BOT_TOKEN is not a bot token")

    return check


class HealthController(Controller):
    """Liveness and readiness (not rate limited)."""

    path = "/health"
    tags = ["health"]  # noqa: RUF012 - Litestar reads class attributes

    @get(
        "/",
        operation_id="health",
        responses=errors(ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.INTERNAL_ERROR),
    )
    async def health(self, health_checks: NamedDependency[HealthChecks]) -> HealthResponse:
        """200 when every service answers; else 503 naming the failing ones in ``details``."""
        services = await health_checks.run()
        failing = sorted(name for name, state in services.items() if state == ERROR)
        if failing:
            raise ServiceUnavailable(
                f"Unavailable: {', '.join(failing)}", services=services, failing=failing
            )
        return HealthResponse(status="ok", services=services, timestamp=utc_timestamp())
