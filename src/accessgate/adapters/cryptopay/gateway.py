"""CryptoPayGateway: invoices, verified ``invoice_paid`` webhooks and the status poll.

Checkout: ``createInvoice`` (POST, JSON parameters, ``Crypto-Pay-API-Token``)
priced in the checkout's fiat currency (``currency_type=fiat`` with the
accepted assets) or, when that currency is a crypto asset, in the asset
(``currency_type=crypto``); the order id is the invoice ``payload``. The
session id is ``cp_<invoice id>_<tag>``: the invoice id (which the status poll
needs) and a tag keyed with the API token, because invoice ids are small
sequential numbers and the session status answers with the activation link.

Webhook: ``crypto-pay-api-signature`` must be the hex HMAC-SHA256 of the raw
body keyed with the raw SHA-256 digest of the token (constant-time compare);
then the body is parsed, a ``request_date`` outside the tolerance is refused,
and a paid invoice becomes one completion event whose id is
``invoice_paid:<invoice id>`` (the same id for a redelivery, whatever its
``update_id``, and for the status poll of that invoice: one record per paid invoice).
"""

from __future__ import annotations

import base64
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import msgspec

from accessgate.adapters.cryptopay import wire
from accessgate.domain.model.currency import decimal_string, is_known, minor_units
from accessgate.domain.model.errors import (
    InvalidAmount,
    InvalidSignature,
    ProviderRejected,
    ServiceUnavailable,
    ValidationError,
)
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Mode, Money
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import (
    Capability,
    CheckoutRequest,
    CheckoutSession,
    VerifiedWebhook,
    WebhookRequest,
)

PROVIDER = "cryptopay"
DEFAULT_API_BASE = "https://pay.crypt.bot/api"
TESTNET_API_BASE = "https://testnet-pay.crypt.bot/api"
#: The crypto assets CryptoPay sells in; any other checkout currency is a fiat one.
CRYPTO_ASSETS = frozenset(
    {"USDT", "USDC", "TON", "BTC", "ETH", "LTC", "BNB", "TRX", "NOT", "SOL", "DOGE"}
)
#: Which of the invoice's URLs the buyer is sent to.
INVOICE_URLS = {
    "bot": "bot_invoice_url",
    "mini_app": "mini_app_invoice_url",
    "web_app": "web_app_invoice_url",
}
_SESSION = re.compile(r"^cp_(\d{1,19})_[A-Za-z0-9_-]{22}$")
_EVENT_PREFIX = f"{wire.INVOICE_PAID}:"
_A = TypeVar("_A", wire.InvoiceAnswer, wire.InvoicesAnswer)


class CryptoPayGateway:
    """The PaymentGateway of CryptoPay (Crypto Bot).

    Capabilities: status poll (``getInvoices`` by ``invoice_ids``). No customer
    portal (CryptoPay has none) and no refunds (CryptoPay has no refund method).

    Args:
        api_token: the app's API token (``CRYPTOPAY_API_TOKEN``); never logged.
        clock: the time source of the ``request_date`` tolerance.
        api_base: the root method names are appended to (mainnet by default).
        accepted_assets: the assets a fiat invoice may be paid in (all when empty).
        tolerance_seconds: how far a webhook's ``request_date`` may be from now.
        expires_in: the invoice lifetime in seconds (1..2678400).
        invoice_url: ``bot``, ``mini_app`` or ``web_app``: where the buyer goes.
        timeout_seconds: the timeout of one API call.
        client: an httpx client to use (else one is made and owned).

    """

    capabilities = frozenset({Capability.STATUS_POLL})

    def __init__(
        self,
        *,
        api_token: str,
        clock: Clock,
        api_base: str = DEFAULT_API_BASE,
        accepted_assets: tuple[str, ...] = (),
        tolerance_seconds: int = 300,
        expires_in: int = 3600,
        invoice_url: str = "bot",
        timeout_seconds: float = 20.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not api_token:
            raise ValueError("a CryptoPay API token is required")
        if invoice_url not in INVOICE_URLS:
            raise ValueError(f"invoice_url must be one of {', '.join(INVOICE_URLS)}")
        self._token = api_token
        self._key = wire.signing_key(api_token)
        self._session_key = hmac.new(self._key, b"accessgate session id", "sha256").digest()
        self._clock = clock
        self._base = api_base.rstrip("/")
        self._accepted = ",".join(accepted_assets)
        self._tolerance = timedelta(seconds=tolerance_seconds)
        self._expires_in = expires_in
        self._url_field = INVOICE_URLS[invoice_url]
        self._timeout = timeout_seconds
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout_seconds)

    @property
    def name(self) -> str:
        """The provider name, ``cryptopay``."""
        return PROVIDER

    async def aclose(self) -> None:
        """Close the HTTP client if this gateway made it."""
        if self._owns_client:
            await self._client.aclose()

    # -- checkout ------------------------------------------------------------

    def session_id_of(self, invoice_id: int) -> str:
        """The session id of an invoice: its id and a tag keyed with the API token."""
        digest = hmac.new(self._session_key, str(invoice_id).encode(), "sha256").digest()
        tag = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        return f"cp_{invoice_id}_{tag}"

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Create an invoice for the order at the checkout's price; the buyer goes to its URL."""
        if request.plan.mode is not Mode.ONE_TIME:
            raise ProviderRejected(
                "CryptoPay sells one-time plans only", provider=PROVIDER, field="mode"
            )
        currency = request.price.currency
        params: dict[str, Any] = {
            "amount": _amount_text(request.price.amount, currency),
            "payload": request.order_id,
            "description": request.plan.title(request.locale)[:1024],
            "expires_in": self._expires_in,
            "allow_comments": False,
        }
        if currency in CRYPTO_ASSETS:
            params |= {"currency_type": "crypto", "asset": currency}
        elif currency == "XTR":
            raise ProviderRejected("CryptoPay cannot charge XTR", provider=PROVIDER)
        else:
            params |= {"currency_type": "fiat", "fiat": currency}
            if self._accepted:
                params["accepted_assets"] = self._accepted
        answer = await self._call("createInvoice", params, wire.InvoiceAnswer)
        invoice = answer.result
        if invoice is None:
            raise ServiceUnavailable("CryptoPay returned no invoice", provider=PROVIDER)
        url = getattr(invoice, self._url_field) or invoice.bot_invoice_url or invoice.pay_url
        try:
            charged = _money_of(invoice)
        except (ValidationError, InvalidAmount):
            charged = None
        if not url or charged is None:
            raise ServiceUnavailable("CryptoPay returned an incomplete invoice", provider=PROVIDER)
        return CheckoutSession(
            session_id=self.session_id_of(invoice.invoice_id),
            checkout_url=url,
            amount=charged.amount,
            currency=charged.currency,
        )

    # -- webhook -------------------------------------------------------------

    async def verify_webhook(self, request: WebhookRequest) -> VerifiedWebhook:
        """Verify the signature over the raw body, then the date, then map the update.

        Raises:
            InvalidSignature: no signature, a wrong one (another key, another
                body, even the same JSON re-serialised), or a stale ``request_date``.
            ValidationError: a genuine body that is not a valid update.

        """
        given = request.header(wire.SIGNATURE_HEADER)
        expected = wire.signature(self._key, request.body)
        if given is None or not hmac.compare_digest(
            expected.encode(), given.strip().lower().encode("utf-8", "replace")
        ):
            raise InvalidSignature("Invalid CryptoPay signature")
        try:
            update = msgspec.json.decode(request.body, type=wire.Update)
        except msgspec.DecodeError:
            raise ValidationError("Not a CryptoPay update", field="body") from None
        sent = _timestamp(update.request_date)
        if sent is None:
            raise ValidationError("Invalid request_date", field="request_date")
        if abs(self._clock.now() - sent) > self._tolerance:
            raise InvalidSignature("Stale CryptoPay update")
        if update.update_type != wire.INVOICE_PAID or update.payload is None:
            return VerifiedWebhook(events=[])
        event = self._event_of(update.payload, fallback=sent)
        return VerifiedWebhook(events=[] if event is None else [event])

    def _event_of(self, invoice: wire.Invoice, *, fallback: datetime) -> PaymentEvent | None:
        """The completion event of a paid invoice that names an order, else ``None``."""
        if invoice.status != "paid" or not invoice.payload:
            return None
        return PaymentEvent(
            provider=PROVIDER,
            event_id=f"{_EVENT_PREFIX}{invoice.invoice_id}",
            kind=PaymentEventKind.CHECKOUT_COMPLETED,
            occurred_at=_timestamp(invoice.paid_at) or fallback,
            order_id=invoice.payload,
            session_id=self.session_id_of(invoice.invoice_id),
            payment_id=str(invoice.invoice_id),
            amount=_money_of(invoice),
        )

    # -- status poll ---------------------------------------------------------

    async def fetch_checkout(self, session_id: str) -> PaymentEvent | None:
        """Ask ``getInvoices`` about the session's invoice; a paid one gives its completion event.

        The event is the webhook's (same id, ``invoice_paid:<invoice id>``), so
        whichever of the two arrives second is a duplicate.
        """
        match = _SESSION.match(session_id)
        if match is None:
            return None
        invoice_id = int(match.group(1))
        answer = await self._call(
            "getInvoices", {"invoice_ids": str(invoice_id)}, wire.InvoicesAnswer
        )
        items = answer.result.items if answer.result else []
        found = next((i for i in items if i.invoice_id == invoice_id), None)
        if found is None:
            return None
        created = _timestamp(found.created_at) or self._clock.now()
        return self._event_of(found, fallback=created)

    # -- the API -------------------------------------------------------------

    async def _call(self, method: str, params: dict[str, Any], answer: type[_A]) -> _A:
        """POST ``params`` as JSON to ``<api base>/<method>`` with the token header."""
        try:
            response = await self._client.post(
                f"{self._base}/{method}",
                json=params,
                headers={wire.TOKEN_HEADER: self._token},
                timeout=self._timeout,
            )
        except httpx.HTTPError:
            raise ServiceUnavailable(
                "The payment provider is temporarily unavailable", provider=PROVIDER
            ) from None
        try:
            decoded = msgspec.json.decode(response.content, type=answer)
        except msgspec.DecodeError:
            decoded = None
        if decoded is not None and decoded.ok and response.is_success:
            return decoded
        error = decoded.error if decoded is not None else None
        status = (error.code if error and error.code else None) or response.status_code
        if 400 <= status < 500 and status not in (401, 403, 429):
            details: dict[str, str] = {"provider": PROVIDER}
            if error is not None and error.name:
                details["provider_code"] = error.name[:100]
            raise ProviderRejected(**details)
        raise ServiceUnavailable(
            "The payment provider is temporarily unavailable", provider=PROVIDER
        )


def _amount_text(amount: int, currency: str) -> str:
    """The exact decimal text of ``amount`` (crypto without trailing zeros: ``1.5`` USDT)."""
    text = decimal_string(amount, currency)
    if currency in CRYPTO_ASSETS and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _money_of(invoice: wire.Invoice) -> Money:
    """The invoice's amount in its fiat currency or asset, exactly.

    Raises:
        InvalidAmount: a currency accessgate does not know (it cannot be the order's).
        ValidationError: an amount that is not an exact decimal of that currency.

    """
    currency = (invoice.fiat if invoice.currency_type == "fiat" else invoice.asset) or ""
    currency = currency.upper()
    if not is_known(currency):
        raise InvalidAmount("The invoice is in a currency accessgate does not know")
    text = invoice.amount.strip()
    if "." in text:  # "19.50000000": zeros after the last digit change nothing
        text = text.rstrip("0").rstrip(".")
    return Money.of(minor_units(text, currency), currency)


def _timestamp(text: str | None) -> datetime | None:
    """An ISO 8601 time of the API (``2026-03-01T12:00:00.000Z``) as an aware UTC datetime."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
