"""YooKassaGateway: payments with a redirect, notifications trusted by address and re-fetch."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from accessgate.adapters.yookassa import events, wire
from accessgate.adapters.yookassa.receipt import ReceiptPolicy
from accessgate.adapters.yookassa.trust import DEFAULT_TRUSTED_IPS, AddressList, parse_networks
from accessgate.domain.model.currency import decimal_string
from accessgate.domain.model.errors import (
    DomainError,
    InvalidSignature,
    ProviderRejected,
    ServiceUnavailable,
)
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import (
    Capability,
    CheckoutRequest,
    CheckoutSession,
    VerifiedWebhook,
    WebhookRequest,
)

T = TypeVar("T")
MAX_KEY = 64  # YooKassa's limit on Idempotence-Key
MAX_DESCRIPTION = 128
# Answers whose outcome is unknown: retry with the same Idempotence-Key (YooKassa's advice).
_RETRY_STATUSES = frozenset({202, 500, 502, 503, 504})
_NOT_FROM_YOOKASSA = "The notification does not come from YooKassa"


class _NotFound(Exception):
    """The API has no such object."""


def idempotence_key(order_id: str) -> str:
    """The ``Idempotence-Key`` of an order's payment: the same for every retry of it."""
    key = f"accessgate-{order_id}"
    if len(key) <= MAX_KEY:
        return key
    return f"accessgate-{hashlib.sha256(order_id.encode()).hexdigest()[:52]}"


class YooKassaGateway:
    """The PaymentGateway of YooKassa (API v3).

    Capability: status poll (``GET /payments/{id}``). No customer portal, and
    refunds are made in YooKassa's dashboard (their ``refund.succeeded``
    notifications arrive by webhook).

    A notification is trusted only when both hold: it comes from an address of
    ``trusted_ips`` (the client address resolved through ``TRUSTED_PROXIES``),
    and the object it names, re-fetched from the API, confirms it. The API's
    status, amount, currency and metadata decide; the body only names the object.

    Args:
        shop_id: the shop's id (the Basic auth user).
        secret_key: the secret key (the Basic auth password); never logged.
        clock: the time source (event times when the API names none).
        return_url: where YooKassa sends the buyer back; ``None``: the order's own
            signed success page (``CheckoutRequest.return_url``), so the buyer
            lands on the page that shows the activation link.
        default_return_url: the return URL of a checkout that names none.
        api_base: the API root that paths are appended to.
        trusted_ips: the addresses and networks notifications may come from.
        receipt: the 54-FZ receipt to send with each payment, or ``None`` for none.
        timeout_seconds: the timeout of one request to the API.
        max_network_retries: retries of a create whose outcome is unknown
            (connection error, 202, 5xx); the same Idempotence-Key makes them safe.
        transport: an httpx transport (tests).
        name: the provider name stored on orders.

    """

    capabilities = frozenset({Capability.STATUS_POLL})

    def __init__(
        self,
        *,
        shop_id: str,
        secret_key: str,
        clock: Clock,
        return_url: str | None = None,
        default_return_url: str = "",
        api_base: str = "https://api.yookassa.ru/v3",
        trusted_ips: Sequence[str] = DEFAULT_TRUSTED_IPS,
        receipt: ReceiptPolicy | None = None,
        timeout_seconds: float = 20.0,
        max_network_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        name: str = events.PROVIDER,
    ) -> None:
        if not shop_id.strip() or not secret_key:
            raise ValueError("YooKassa needs a shop id and a secret key")
        self._name = name
        self._clock = clock
        self._return_url = return_url
        self._default_return_url = default_return_url
        self._trusted = AddressList(parse_networks(trusted_ips))
        self._receipt = receipt
        self._retries = max(0, max_network_retries)
        self._http = httpx.AsyncClient(
            base_url=api_base.rstrip("/") + "/",
            auth=httpx.BasicAuth(shop_id.strip(), secret_key),
            timeout=timeout_seconds,
            transport=transport,
            headers={"Accept": "application/json"},
        )

    @property
    def name(self) -> str:
        """The provider name, ``yookassa``."""
        return self._name

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    # -- checkout ---------------------------------------------------------------------------

    def payment_body(self, request: CheckoutRequest) -> dict[str, Any]:
        """The body of ``POST /payments`` for ``request`` (exact decimal amount, one stage)."""
        amount = {
            "value": decimal_string(request.price.amount, request.price.currency),
            "currency": request.price.currency,
        }
        metadata = {"order_id": request.order_id, "locale": str(request.locale)}
        if request.clickid:
            metadata["clickid"] = request.clickid
        body: dict[str, Any] = {
            "amount": amount,
            "capture": True,
            "confirmation": {
                "type": "redirect",
                "return_url": self._return_url or request.return_url or self._default_return_url,
                "locale": "ru_RU" if str(request.locale) == "ru" else "en_US",
            },
            "description": request.plan.title(request.locale)[:MAX_DESCRIPTION],
            "metadata": metadata,
        }
        if self._receipt is not None:
            body["receipt"] = self._receipt.receipt(request, amount)
        return body

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Create the order's payment; the buyer goes to its ``confirmation_url``."""
        content = wire.ENCODER.encode(self.payment_body(request))
        headers = {
            "Idempotence-Key": idempotence_key(request.order_id),
            "Content-Type": "application/json",
        }
        payment = await self._call(
            "POST", "payments", wire.PAYMENT, content=content, headers=headers
        )
        url = payment.confirmation.confirmation_url if payment.confirmation else None
        if not url:
            raise ServiceUnavailable("YooKassa returned a payment without a confirmation URL")
        paid = events.money(payment.amount)
        return CheckoutSession(
            session_id=payment.id, checkout_url=url, amount=paid.amount, currency=paid.currency
        )

    # -- webhook ----------------------------------------------------------------------------

    async def verify_webhook(self, request: WebhookRequest) -> VerifiedWebhook:
        """Trust a notification from a listed address that the API confirms; JSON receipt.

        Raises:
            InvalidSignature: from an address outside the list, not a
                notification, an object the API does not have, or a status the
                API does not confirm. Nothing is applied.
            ServiceUnavailable: the API could not be asked (YooKassa redelivers).

        """
        if not self._trusted.allows(request.client_ip):
            raise InvalidSignature(_NOT_FROM_YOOKASSA)
        try:
            note = wire.NOTIFICATION.decode(request.body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise InvalidSignature("Not a YooKassa notification") from None
        if note.type != "notification":
            raise InvalidSignature("Not a YooKassa notification")
        try:
            found = await self._confirmed(note)
        except _NotFound:
            raise InvalidSignature("YooKassa does not confirm the notification") from None
        return VerifiedWebhook(events=[found] if found is not None else [])

    async def _confirmed(self, note: wire.Notification) -> PaymentEvent | None:
        now = self._clock.now()
        if note.event in (events.SUCCEEDED, events.CANCELED):
            payment = await self._payment(note.object.id)
            succeeded = note.event == events.SUCCEEDED
            if succeeded and not (payment.status == "succeeded" and payment.paid):
                raise InvalidSignature("YooKassa does not report the payment as succeeded")
            if not succeeded and payment.status != "canceled":
                raise InvalidSignature("YooKassa does not report the payment as canceled")
            kind = (
                PaymentEventKind.PAYMENT_SUCCEEDED if succeeded else PaymentEventKind.PAYMENT_FAILED
            )
            return events.payment_event(payment, kind, note.event, now, self._name)
        if note.event == events.REFUND_SUCCEEDED:
            refund = await self._call("GET", f"refunds/{_segment(note.object.id)}", wire.REFUND)
            if refund.id != note.object.id or refund.status != "succeeded":
                raise InvalidSignature("YooKassa does not report the refund as succeeded")
            payment = await self._payment(refund.payment_id)
            return events.refund_event(refund, payment, now, self._name)
        return None  # an event the service does not use: acknowledged

    # -- status poll ------------------------------------------------------------------------

    async def fetch_checkout(self, session_id: str) -> PaymentEvent | None:
        """The payment's completion event when the API reports it succeeded, else ``None``.

        Its event id is the webhook's (``payment.succeeded:<payment id>``): a
        later notification of the same payment is a duplicate.
        """
        try:
            payment = await self._payment(session_id)
        except _NotFound:
            raise ProviderRejected("YooKassa has no such payment", provider=self._name) from None
        if payment.status != "succeeded" or not payment.paid:
            return None
        return events.payment_event(
            payment,
            PaymentEventKind.PAYMENT_SUCCEEDED,
            events.SUCCEEDED,
            self._clock.now(),
            self._name,
        )

    # -- HTTP -------------------------------------------------------------------------------

    async def _payment(self, payment_id: str) -> wire.Payment:
        payment = await self._call("GET", f"payments/{_segment(payment_id)}", wire.PAYMENT)
        if payment.id != payment_id:
            raise InvalidSignature("YooKassa does not confirm the notification")
        return payment

    async def _call(
        self,
        method: str,
        path: str,
        decoder: msgspec.json.Decoder[T],
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> T:
        """One API call (POSTs retried with the same headers); raises domain errors only."""
        attempts = 1 + (self._retries if method == "POST" else 0)
        response: httpx.Response | None = None
        for _ in range(attempts):
            try:
                response = await self._http.request(method, path, content=content, headers=headers)
            except httpx.HTTPError:
                response = None
                continue
            if response.status_code not in _RETRY_STATUSES:
                break
        if response is None or response.status_code in _RETRY_STATUSES:
            raise ServiceUnavailable("YooKassa is temporarily unavailable", provider=self._name)
        if response.status_code == 404:
            raise _NotFound()
        if response.status_code != 200:
            raise self._refused(response)
        try:
            return decoder.decode(response.content)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise ServiceUnavailable("YooKassa returned an unexpected answer") from None

    def _refused(self, response: httpx.Response) -> DomainError:
        """400 is a request YooKassa refuses; anything else (401, 403, 429) is the service's problem."""
        if response.status_code != 400:
            return ServiceUnavailable("YooKassa is temporarily unavailable", provider=self._name)
        details = {"provider": self._name}
        try:
            error = wire.API_ERROR.decode(response.content)
        except (msgspec.DecodeError, msgspec.ValidationError):
            error = wire.ApiError()
        if error.code:
            details["provider_code"] = error.code[:64]
        if error.parameter:
            details["param"] = error.parameter[:64]
        return ProviderRejected(**details)


def _segment(object_id: str) -> str:
    """An object id as one path segment (a notification cannot steer the request elsewhere)."""
    return quote(object_id[:128], safe="")
