"""The MobiSlon postback sink: one HTTP request per conversion, from a URL template."""

from __future__ import annotations

import asyncio
import logging
import string
from collections.abc import Sequence
from typing import Literal
from urllib.parse import quote, urlsplit

import httpx

from accessgate.domain.model.errors import DeliveryFailed
from accessgate.ports.tracking import TrackingEvent

logger = logging.getLogger(__name__)

REQUIRED_FIELDS = frozenset({"clickid", "status"})
OPTIONAL_FIELDS = frozenset({"session_id", "page_path", "tracking_params"})
BINOM_EXAMPLE = "https://tracker.example/index.php?cnv_id={clickid}&payout=0&cnv_status={status}"


class PostbackTemplate:
    """A postback URL with ``{clickid}`` and ``{status}`` placeholders.

    ``{session_id}``, ``{page_path}`` and ``{tracking_params}`` may also be
    used. Every value is URL-encoded (``quote(value, safe="")``); a missing
    optional value becomes empty.

    Raises:
        ValueError: when a required placeholder is missing or one is unknown.

    """

    def __init__(self, template: str) -> None:
        try:
            parts = list(string.Formatter().parse(template))
        except ValueError:
            raise ValueError("the postback URL template has unbalanced braces") from None
        names = {name for _, name, _, _ in parts if name is not None}
        if not names >= REQUIRED_FIELDS:
            raise ValueError("the postback URL template needs {clickid} and {status}")
        unknown = names - REQUIRED_FIELDS - OPTIONAL_FIELDS
        if unknown or any(spec or conv for _, name, spec, conv in parts if name is not None):
            raise ValueError("the postback URL template has an unknown placeholder")
        if urlsplit(template).scheme not in ("http", "https"):
            raise ValueError("the postback URL must start with http:// or https://")
        self._parts = parts
        self.host = urlsplit(template).hostname or "?"

    def fill(self, payload: dict[str, str]) -> str:
        """The URL for one event's payload."""
        out: list[str] = []
        for literal, name, _, _ in self._parts:
            out.append(literal)
            if name is not None:
                out.append(quote(payload.get(name, ""), safe=""))
        return "".join(out)


class MobislonPostbackSink:
    """A TrackingSink calling the tracker's postback URL once per event.

    2xx delivers; 5xx, 408, 429, timeouts and connection errors are retryable;
    other 4xx are not. Redirects are followed. Only the tracker's host is
    logged, never the URL (a template may carry a key).

    Args:
        url_template: ``MOBISLON_POSTBACK_URL``, with ``{clickid}`` and ``{status}``.
        method: ``GET`` (default) or ``POST`` (same URL, empty body).
        timeout: seconds per request.
        client: an httpx client to use (else one is made and owned).
        concurrency: how many postbacks are in flight at once.

    """

    def __init__(
        self,
        url_template: str,
        method: Literal["GET", "POST"] = "GET",
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
        concurrency: int = 10,
    ) -> None:
        if method not in ("GET", "POST"):
            raise ValueError("method must be GET or POST")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.template = PostbackTemplate(url_template)
        self._method = method
        self._timeout = timeout
        self._client = client
        self._owns_client = client is None
        self._slots = asyncio.Semaphore(concurrency)

    async def deliver(self, events: Sequence[TrackingEvent]) -> list[DeliveryFailed | None]:
        """Send each event's postback; one result per event."""
        if self._client is None:
            self._client = httpx.AsyncClient()
        client = self._client
        return list(await asyncio.gather(*(self._send(client, event) for event in events)))

    async def aclose(self) -> None:
        """Close the HTTP client if this sink made it."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def _send(self, client: httpx.AsyncClient, event: TrackingEvent) -> DeliveryFailed | None:
        outcome = await self._request(client, event)
        if outcome is not None:
            logger.warning(
                "MobiSlon postback %s (status %s) not delivered: %s",
                event.message_id,
                event.payload.get("status"),
                outcome.reason,
            )
        return outcome

    async def _request(
        self, client: httpx.AsyncClient, event: TrackingEvent
    ) -> DeliveryFailed | None:
        if not event.payload.get("clickid") or not event.payload.get("status"):
            return DeliveryFailed("postback without clickid or status", retryable=False)
        url = self.template.fill(event.payload)
        host = self.template.host
        try:
            async with self._slots:
                response = await client.request(
                    self._method, url, timeout=self._timeout, follow_redirects=True
                )
        except httpx.TimeoutException:
            return DeliveryFailed(f"tracker {host} did not answer within {self._timeout}s")
        except httpx.HTTPError as error:
            return DeliveryFailed(f"cannot reach tracker {host} ({type(error).__name__})")
        status = response.status_code
        if response.is_success:
            return None
        reason = f"tracker {host} answered HTTP {status}"
        retryable = status >= 500 or status in (408, 429)
        return DeliveryFailed(reason, retryable=retryable)
