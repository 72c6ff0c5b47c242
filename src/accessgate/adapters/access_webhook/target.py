"""AccessWebhookTarget: POST each access change to the shop's backend, signed per Standard Webhooks."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec

from accessgate.adapters.access_webhook.signing import WebhookSecret, sign
from accessgate.domain.model.errors import DeliveryFailed
from accessgate.ports.access_target import AccessChange
from accessgate.ports.clock import Clock

logger = logging.getLogger(__name__)

USER_AGENT = "accessgate-access-webhook/1"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_body(change: AccessChange, *, include_email: bool = False) -> bytes:
    """The JSON body of one change: ``type``, ``timestamp`` and ``data``.

    The body is the same on every retry (only the signature headers change).
    The buyer's email is personal data: it is in ``data`` only with
    ``include_email`` (``ACCESS_WEBHOOK_INCLUDE_EMAIL=true``).
    """
    data: dict[str, Any] = {
        "order_id": change.order_id,
        "plan": change.plan,
        "mode": change.mode,
        "status": change.status,
        "telegram_user_id": change.telegram_user_id,
        "valid_until": _iso(change.valid_until),
        "reason": change.reason,
        "locale": change.locale,
    }
    if include_email:
        data["email"] = change.email
    body = {"type": change.type.value, "timestamp": _iso(change.occurred_at), "data": data}
    return msgspec.json.encode(body)


class AccessWebhookTarget:
    """An AccessTarget that POSTs a signed JSON body per change to ``ACCESS_WEBHOOK_URL``.

    ``webhook-id`` is the change's id (stable across retries: the receiver
    deduplicates by it), ``webhook-timestamp`` the time of this attempt.
    A 2xx answer delivers; 408, 429, other answers, timeouts and connection
    errors are retried by the outbox; any other 4xx fails for good. Redirects
    are not followed. Only the receiver's host is logged, never the URL.

    Args:
        url: ``ACCESS_WEBHOOK_URL`` (http or https).
        secret: ``ACCESS_WEBHOOK_SECRET`` (``whsec_`` + base64).
        clock: the time of each attempt.
        include_email: put the buyer's email into ``data``.
        timeout: seconds per request.
        client: an httpx client to use (else one is made and owned).

    """

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        clock: Clock,
        include_email: bool = False,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the URL must start with http:// or https:// and name a host")
        self._url = url
        self.host = parts.hostname
        self._secret = WebhookSecret(secret)
        self._clock = clock
        self._include_email = include_email
        self._timeout = timeout
        self._client = client
        self._owns_client = client is None

    async def apply(self, change: AccessChange) -> None:
        """POST the change; raise ``DeliveryFailed`` unless the receiver answered 2xx."""
        failure = await self._post(change)
        if failure is not None:
            logger.warning(
                "access webhook %s (%s) not delivered: %s",
                change.id,
                change.type.value,
                failure.reason,
            )
            raise failure

    async def _post(self, change: AccessChange) -> DeliveryFailed | None:
        if self._client is None:
            self._client = httpx.AsyncClient()
        body = webhook_body(change, include_email=self._include_email)
        headers = sign(self._secret, change.id, int(self._clock.now().timestamp()), body)
        headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
        try:
            response = await self._client.post(
                self._url, content=body, headers=headers, timeout=self._timeout
            )
        except httpx.TimeoutException:
            return DeliveryFailed(f"receiver {self.host} did not answer within {self._timeout}s")
        except httpx.HTTPError as error:
            return DeliveryFailed(f"cannot reach receiver {self.host} ({type(error).__name__})")
        status = response.status_code
        if response.is_success:
            return None
        permanent = 400 <= status < 500 and status not in (408, 429)
        return DeliveryFailed(
            f"receiver {self.host} answered HTTP {status}", retryable=not permanent
        )

    async def aclose(self) -> None:
        """Close the HTTP client if this target made it."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None
