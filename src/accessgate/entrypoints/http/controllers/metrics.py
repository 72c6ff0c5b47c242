"""``GET /metrics``: every metric in the Prometheus text format (not rate limited, not in the schema)."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, get

from accessgate.entrypoints.http.metrics import gauges_of, metrics_of
from accessgate.entrypoints.metrics import CONTENT_TYPE

log = logging.getLogger("accessgate.metrics")


@get("/metrics", include_in_schema=False, name="metrics")
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The metrics; the storage gauges are read now (at most every few seconds)."""
    metrics = metrics_of(request)
    try:
        metrics.set_gauges(await gauges_of(request).get())
    except Exception as error:  # storage down: the scrape still answers, without the gauges
        log.warning("metrics: the storage gauges could not be read (%s)", type(error).__name__)
        metrics.set_gauges(None)
    return Response(metrics.render(), media_type=CONTENT_TYPE)
