"""A local stand-in of the Crypto Pay API (aiohttp on 127.0.0.1) for the adapter's tests.

It speaks the API as documented (help.crypt.bot/crypto-pay-api): ``<base>/<method>``
with the ``Crypto-Pay-API-Token`` header, parameters as JSON, a query or a form,
answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": {code, name}}``.
``createInvoice`` checks every parameter the way the API does (and refuses
unknown ones, so a typo in accessgate shows); ``getInvoices`` filters by
``invoice_ids``. It signs ``invoice_paid`` updates exactly as CryptoPay does:
hex HMAC-SHA256 of the raw body keyed with the raw SHA-256 digest of the token.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

TOKEN = "12345:AAcryptopayFakeTokenDoNotLeak0123456789"
ASSETS = frozenset({"USDT", "TON", "BTC", "ETH", "LTC", "BNB", "TRX", "USDC"})
FIATS = frozenset({"USD", "EUR", "RUB", "BYN", "UAH", "GBP", "KZT"})
CREATE_FIELDS = frozenset(
    {
        "currency_type", "asset", "fiat", "accepted_assets", "amount", "description",
        "hidden_message", "paid_btn_name", "paid_btn_url", "payload", "allow_comments",
        "allow_anonymous", "expires_in", "swap_to",
    }
)  # fmt: skip
_AMOUNT = re.compile(r"^\d+(\.\d+)?$")


@dataclass
class Recorded:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]


def iso(moment: datetime) -> str:
    """A time as the API writes it: ``2026-03-01T12:00:00.000Z``."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def sign(body: bytes, token: str = TOKEN) -> str:
    """CryptoPay's signature of a webhook body."""
    return hmac.new(hashlib.sha256(token.encode()).digest(), body, hashlib.sha256).hexdigest()


@dataclass
class FakeCryptoPay:
    """The server's state; ``url`` (the API base, ``.../api``) is set once it listens."""

    now: Callable[[], datetime]
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    invoices: dict[int, dict[str, Any]] = field(default_factory=dict)
    fail_next: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    _updates: itertools.count[int] = field(default_factory=lambda: itertools.count(5001))

    def calls(self, method: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method]

    def mark_paid(self, invoice_id: int) -> dict[str, Any]:
        """The buyer paid the invoice (in its asset, or in USDT for a fiat one)."""
        invoice = self.invoices[invoice_id]
        invoice.update(
            status="paid",
            paid_at=iso(self.now()),
            paid_asset=invoice.get("asset") or "USDT",
            paid_amount=invoice["amount"],
            paid_anonymously=False,
        )
        return invoice

    def update(
        self, invoice: dict[str, Any], *, update_id: int | None = None, sent: datetime | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The ``invoice_paid`` delivery CryptoPay posts for ``invoice``: body and headers."""
        body = json.dumps(
            {
                "update_id": next(self._updates) if update_id is None else update_id,
                "update_type": "invoice_paid",
                "request_date": iso(sent or self.now()),
                "payload": invoice,
            },
            separators=(",", ":"),
        ).encode()
        return body, {"crypto-pay-api-signature": sign(body), "content-type": "application/json"}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params |= await request.json()
            else:
                params |= dict(await request.post())
        self.requests.append(Recorded(method, params, dict(request.headers)))
        if self.fail_next:
            self.fail_next -= 1
            return _error(500, "INTERNAL_ERROR")
        if request.headers.get("Crypto-Pay-API-Token") != TOKEN:
            return _error(401, "UNAUTHORIZED")
        if method == "createInvoice":
            return self._create(params)
        if method == "getInvoices":
            return self._list(params)
        return _error(405, "METHOD_NOT_FOUND")

    def _create(self, p: dict[str, Any]) -> web.Response:
        unknown = set(p) - CREATE_FIELDS
        if unknown:
            return _error(400, f"UNKNOWN_PARAMS_{sorted(unknown)[0].upper()}")
        kind = p.get("currency_type", "crypto")
        if kind == "crypto":
            if p.get("asset") not in ASSETS or "fiat" in p or "accepted_assets" in p:
                return _error(400, "ASSET_INVALID")
        elif kind == "fiat":
            if p.get("fiat") not in FIATS or "asset" in p:
                return _error(400, "FIAT_INVALID")
            accepted = p.get("accepted_assets")
            if accepted is not None and (
                not isinstance(accepted, str) or not set(accepted.split(",")) <= ASSETS
            ):
                return _error(400, "ACCEPTED_ASSETS_INVALID")
        else:
            return _error(400, "CURRENCY_TYPE_INVALID")
        amount = p.get("amount")
        if not isinstance(amount, str) or not _AMOUNT.match(amount) or float(amount) <= 0:
            return _error(400, "AMOUNT_INVALID")
        payload = p.get("payload")
        if payload is not None and (not isinstance(payload, str) or len(payload) > 4096):
            return _error(400, "PAYLOAD_INVALID")
        expires = p.get("expires_in")
        if expires is not None and (
            not isinstance(expires, int) or isinstance(expires, bool) or not 1 <= expires <= 2678400
        ):
            return _error(400, "EXPIRES_IN_INVALID")
        if len(str(p.get("description", ""))) > 1024:
            return _error(400, "DESCRIPTION_TOO_LONG")
        invoice_id = next(self._ids)
        code = "IV" + secrets.token_urlsafe(9)
        invoice: dict[str, Any] = {
            "invoice_id": invoice_id,
            "hash": code,
            "currency_type": kind,
            "amount": amount,
            "bot_invoice_url": f"https://t.me/CryptoBot?start={code}",
            "mini_app_invoice_url": f"https://t.me/CryptoBot/app?startapp=invoice-{code}",
            "web_app_invoice_url": f"https://app.cr.bot/invoices/{code}",
            "description": p.get("description"),
            "status": "active",
            "created_at": iso(self.now()),
            "allow_comments": p.get("allow_comments", True),
            "allow_anonymous": p.get("allow_anonymous", True),
        }
        if kind == "crypto":
            invoice["asset"] = p["asset"]
        else:
            invoice["fiat"] = p["fiat"]
            if "accepted_assets" in p:
                invoice["accepted_assets"] = p["accepted_assets"].split(",")
        if payload is not None:
            invoice["payload"] = payload
        self.invoices[invoice_id] = invoice
        return web.json_response({"ok": True, "result": invoice})

    def _list(self, p: dict[str, Any]) -> web.Response:
        wanted = str(p.get("invoice_ids", ""))
        ids = {int(i) for i in wanted.split(",") if i.strip().isdigit()}
        items = [v for k, v in self.invoices.items() if not ids or k in ids]
        return web.json_response({"ok": True, "result": {"items": items}})


def _error(code: int, name: str) -> web.Response:
    return web.json_response({"ok": False, "error": {"code": code, "name": name}}, status=code)


async def start(now: Callable[[], datetime]) -> tuple[FakeCryptoPay, web.AppRunner]:
    """Start the stand-in on a free port of 127.0.0.1; its ``url`` is the API base."""
    fake = FakeCryptoPay(now=now)
    app = web.Application()
    app.router.add_route("*", "/api/{method}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    fake.url = f"http://127.0.0.1:{port}/api"
    return fake, runner
