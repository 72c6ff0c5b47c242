"""The Meta Conversions API sink: events in batches over httpx."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from accessgate.adapters.meta.events import InvalidEvent, build_event
from accessgate.domain.model.errors import DeliveryFailed
from accessgate.ports.clock import Clock
from accessgate.ports.tracking import TrackingEvent

logger = logging.getLogger(__name__)

MAX_BATCH = 1000
# Graph API error codes that mean "slow down", not "this request is wrong".
THROTTLING_CODES = frozenset({4, 17, 32, 613, 80004})
INVALID_PARAMETER = 100

Indexed = list[tuple[int, dict[str, Any]]]


class _Refused(DeliveryFailed):
    """Meta refused a batch as invalid: a smaller batch may pass."""


class MetaConversionsSink:
    """A TrackingSink posting to ``{api_base}/{api_version}/{pixel_id}/events``.

    Events are checked before sending (see :mod:`.events`); a checked event that
    Meta still refuses inside a batch is isolated by splitting the batch. 2xx
    delivers, 5xx, timeouts and throttling are retryable, other 4xx are not.
    The access token travels in the request body, never in the URL or a log.

    Args:
        pixel_id: the pixel (dataset) id.
        access_token: the Conversions API access token (secret).
        clock: the time source for the 7-day age limit.
        api_version: the Graph API version, such as ``v18.0``.
        api_base: the Graph API base URL (a local server in tests).
        test_event_code: routes events to Events Manager's Test Events view.
        timeout: seconds per request (Meta recommends 1.5).
        site_url: the public base URL; with it ``event_source_url`` is sent.
        client: an httpx client to use (else one is made and owned).
        batch_size: events per request, at most 1,000.

    """

    def __init__(
        self,
        *,
        pixel_id: str,
        access_token: str,
        clock: Clock,
        api_version: str = "v18.0",
        api_base: str = "https://graph.facebook.com",
        test_event_code: str | None = None,
        timeout: float = 1.5,
        site_url: str | None = None,
        client: httpx.AsyncClient | None = None,
        batch_size: int = MAX_BATCH,
    ) -> None:
        if not pixel_id.strip() or not access_token:
            raise ValueError("the Meta sink needs a pixel id and an access token")
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError("batch_size must be between 1 and 1000")
        self.endpoint = f"{api_base.rstrip('/')}/{quote(api_version, safe='')}/{quote(pixel_id, safe='')}/events"
        self._token = access_token
        self._clock = clock
        self._test_event_code = test_event_code or None
        self._timeout = timeout
        self._site_url = site_url
        self._client = client
        self._owns_client = client is None
        self._batch_size = batch_size

    async def deliver(self, events: Sequence[TrackingEvent]) -> list[DeliveryFailed | None]:
        """Check, then send the events in batches; one result per event."""
        results: list[DeliveryFailed | None] = [None] * len(events)
        now = self._clock.now()
        ready: Indexed = []
        for index, event in enumerate(events):
            try:
                ready.append((index, build_event(event.payload, now=now, site_url=self._site_url)))
            except InvalidEvent as error:
                logger.warning("Meta event %s dropped: %s", event.message_id, error.reason)
                results[index] = DeliveryFailed(f"dropped: {error.reason}", retryable=False)
        for start in range(0, len(ready), self._batch_size):
            for index, outcome in await self._send(ready[start : start + self._batch_size]):
                results[index] = outcome
                if outcome is not None:
                    message_id = events[index].message_id
                    logger.warning("Meta event %s not delivered: %s", message_id, outcome.reason)
        return results

    async def aclose(self) -> None:
        """Close the HTTP client if this sink made it."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def _send(self, batch: Indexed) -> list[tuple[int, DeliveryFailed | None]]:
        outcome = await self._post([event for _, event in batch])
        if isinstance(outcome, _Refused) and len(batch) > 1:
            middle = len(batch) // 2
            return [*await self._send(batch[:middle]), *await self._send(batch[middle:])]
        return [(index, outcome) for index, _ in batch]

    async def _post(self, data: list[dict[str, Any]]) -> DeliveryFailed | None:
        body: dict[str, Any] = {"data": data, "access_token": self._token}
        if self._test_event_code:
            body["test_event_code"] = self._test_event_code
        if self._client is None:
            self._client = httpx.AsyncClient()
        try:
            response = await self._client.post(self.endpoint, json=body, timeout=self._timeout)
        except httpx.TimeoutException:
            return DeliveryFailed(f"Meta did not answer within {self._timeout}s")
        except httpx.HTTPError as error:
            return DeliveryFailed(f"cannot reach Meta ({type(error).__name__})")
        if response.is_success:
            return None
        code, message = self._error_of(response)
        reason = f"Meta answered HTTP {response.status_code}"
        reason += f" (code {code}): {message}" if code is not None else f": {message}"
        if response.status_code >= 500 or response.status_code == 429:
            return DeliveryFailed(reason)
        if code in THROTTLING_CODES:
            return DeliveryFailed(reason)
        if response.status_code == 400 and code == INVALID_PARAMETER:
            return _Refused(reason, retryable=False)
        return DeliveryFailed(reason, retryable=False)

    def _error_of(self, response: httpx.Response) -> tuple[int | None, str]:
        """Meta's error code and message, with the token scrubbed out."""
        code: int | None = None
        message = response.reason_phrase or "no message"
        try:
            error = response.json().get("error", {})
            if isinstance(error, dict):
                code = error.get("code") if isinstance(error.get("code"), int) else None
                message = str(error.get("error_user_msg") or error.get("message") or message)
        except (ValueError, AttributeError):
            pass
        return code, message.replace(self._token, "***")[:300]
