"""HTTP metrics: requests and durations by route template and status, and the app's metrics.

:class:`HttpMetricsMiddleware` times every routed request and labels it with
the route *template* (``/webhook/{provider}``), never the raw path, so no id or
token reaches a label. Requests that match no route (404, 405) are counted by
:func:`count_unrouted` (a ``before_send`` hook) under the route ``unmatched``.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from accessgate.domain.model.errors import DomainError
from accessgate.entrypoints.http.errors import status_of
from accessgate.entrypoints.http.gauges import CachedGauges
from accessgate.entrypoints.metrics import ServiceMetrics

STATE_METRICS = "service_metrics"
STATE_GAUGES = "cached_gauges"
UNMATCHED = "unmatched"
_ROUTED = "accessgate.metrics_routed"


def metrics_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ServiceMetrics:
    """The app's :class:`ServiceMetrics`."""
    metrics: ServiceMetrics = connection.app.state[STATE_METRICS]
    return metrics


def gauges_of(connection: ASGIConnection[Any, Any, Any, Any]) -> CachedGauges:
    """The app's cached storage gauges."""
    gauges: CachedGauges = connection.app.state[STATE_GAUGES]
    return gauges


class HttpMetricsMiddleware(ASGIMiddleware):
    """Count and time each routed HTTP request by method, route template and status.

    Args:
        metrics: where to record.

    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, metrics: ServiceMetrics) -> None:
        self._metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Run the route, then record its status and duration."""
        scope[_ROUTED] = True  # type: ignore[literal-required]
        started = time.perf_counter()
        status = 500

        answered = False

        async def watched_send(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
            await send(message)

        try:
            await next_app(scope, receive, watched_send)
        except DomainError as error:
            # Answered by the exception handlers outside this layer: count their status.
            if not answered:
                status = status_of(error.code)
            raise
        except HTTPException as error:
            if not answered:
                status = error.status_code
            raise
        finally:
            self._metrics.record_http(
                str(scope.get("method", "GET")),
                scope.get("path_template") or UNMATCHED,
                status,
                time.perf_counter() - started,
            )


def count_unrouted(metrics: ServiceMetrics) -> Any:
    """A ``before_send`` hook counting the answers to requests that matched no route."""

    async def hook(message: Message, scope: Scope) -> None:
        if (
            message["type"] == "http.response.start"
            and scope["type"] == ScopeType.HTTP
            and not scope.get(_ROUTED)
        ):
            metrics.record_http(str(scope.get("method", "GET")), UNMATCHED, message["status"], None)

    return hook
