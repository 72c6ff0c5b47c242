"""``GET /health``: the service and what it depends on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from litestar import Controller, get
from litestar.di import NamedDependency

from accessgate.domain.model.errors import ErrorCode, ServiceUnavailable
from accessgate.entrypoints.http.errors import utc_timestamp
from accessgate.entrypoints.http.openapi import errors
from accessgate.entrypoints.http.schemas import HealthResponse

Check = Callable[[], Awaitable[object]]
CHECK_TIMEOUT = 3.0


class HealthChecks:
    """Named checks (``database``, ``redis``), each an awaitable that raises when down.

    Args:
        checks: the check of each service by name.
        timeout: seconds before a silent service counts as down.

    """

    def __init__(self, checks: Mapping[str, Check], timeout: float = CHECK_TIMEOUT) -> None:
        self._checks = dict(checks)
        self._timeout = timeout

    async def _one(self, check: Check) -> str:
        try:
            await asyncio.wait_for(check(), self._timeout)
        except Exception:
            return "error"
        return "ok"

    async def run(self) -> dict[str, str]:
        """``"ok"`` or ``"error"`` for each service."""
        results = await asyncio.gather(*(self._one(c) for c in self._checks.values()))
        return dict(zip(self._checks, results, strict=True))


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
        failing = sorted(name for name, state in services.items() if state != "ok")
        if failing:
            raise ServiceUnavailable(
                f"Unavailable: {', '.join(failing)}", services=services, failing=failing
            )
        return HealthResponse(status="ok", services=services, timestamp=utc_timestamp())
