"""The Crypto Pay API's wire objects (the fields accessgate reads) and the webhook signature.

Sources: ``help.crypt.bot/crypto-pay-api`` and aiocryptopay (see
``docs/providers/cryptopay.md``). Unknown fields are ignored, so a newer API
version that adds fields still decodes.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec

#: The header carrying the webhook signature (header names are case-insensitive).
SIGNATURE_HEADER = "crypto-pay-api-signature"
#: The header carrying the API token on every API call.
TOKEN_HEADER = "Crypto-Pay-API-Token"  # noqa: S105 - a header name
#: The only update type the API sends.
INVOICE_PAID = "invoice_paid"


class Invoice(msgspec.Struct, frozen=True, kw_only=True):
    """An invoice (``createInvoice``'s result, ``getInvoices``' items, a webhook's payload)."""

    invoice_id: int
    status: str
    amount: str
    currency_type: str = "crypto"
    asset: str | None = None
    fiat: str | None = None
    hash: str | None = None
    payload: str | None = None
    bot_invoice_url: str | None = None
    mini_app_invoice_url: str | None = None
    web_app_invoice_url: str | None = None
    pay_url: str | None = None  # deprecated by API 1.4; read only as a fallback
    created_at: str | None = None
    paid_at: str | None = None


class Update(msgspec.Struct, frozen=True, kw_only=True):
    """A webhook delivery: ``{update_id, update_type, request_date, payload}``."""

    update_id: int
    update_type: str
    request_date: str
    payload: Invoice | None = None


class ApiError(msgspec.Struct, frozen=True, kw_only=True):
    """The ``error`` of an answer with ``ok: false``."""

    code: int | None = None
    name: str | None = None


class InvoiceAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The answer of ``createInvoice``."""

    ok: bool
    result: Invoice | None = None
    error: ApiError | None = None


class InvoiceList(msgspec.Struct, frozen=True, kw_only=True):
    """``getInvoices``' result."""

    items: list[Invoice] = msgspec.field(default_factory=list)


class InvoicesAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The answer of ``getInvoices``."""

    ok: bool
    result: InvoiceList | None = None
    error: ApiError | None = None


def signing_key(api_token: str) -> bytes:
    """The webhook HMAC key: the raw 32-byte SHA-256 digest of the API token (not its hex)."""
    return hashlib.sha256(api_token.encode()).digest()


def signature(key: bytes, body: bytes) -> str:
    """The lower-case hex HMAC-SHA256 of the exact raw ``body`` under ``key``."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()
