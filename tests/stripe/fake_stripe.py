"""A local Stripe-compatible HTTP server (aiohttp) for the adapter's tests.

It speaks Stripe's wire protocol for the few endpoints the adapter calls:
form-encoded POST bodies, ``Authorization: Bearer``, ``Idempotency-Key`` (a
replayed key answers the first response, as Stripe does), Stripe-shaped
objects and Stripe's error JSON with Stripe's status codes. It records every
request and can fail the next requests with a 500 or a dropped connection.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

SECRET_KEY = "sk_test_51FakeKeyDoNotLeak0123456789"
PRICE_BASIC = "price_1OneTimeBasic"
PRICE_MONTHLY = "price_1SubMonthly"


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class Fault:
    count: int
    mode: str  # "500", "drop" (before processing) or "drop_after" (response lost)


@dataclass
class FakeStripe:
    """The server's state; ``url`` is set once it listens."""

    now: Callable[[], datetime]
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: set[str] = field(default_factory=set)
    faults: dict[str, Fault] = field(default_factory=dict)
    omit_amount_total: bool = False
    prices: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            PRICE_BASIC: _price(PRICE_BASIC, 1990, None),
            PRICE_MONTHLY: _price(PRICE_MONTHLY, 990, {"interval": "month", "interval_count": 1}),
        }
    )
    _replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, path: str, count: int, mode: str = "500") -> None:
        self.faults[path] = Fault(count, mode)

    def posts(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]

    def mark_paid(self, session_id: str, *, payment_status: str = "paid") -> dict[str, Any]:
        """Complete a session as Stripe would after the buyer paid."""
        s = self.sessions[session_id]
        n = next(self._ids)
        customer = f"cus_Test{n:06d}"
        self.customers.add(customer)
        s.update(status="complete", payment_status=payment_status, customer=customer)
        if s["mode"] == "subscription":
            s["subscription"] = f"sub_Test{n:06d}"
        else:
            s["payment_intent"] = f"pi_Test{n:06d}"
        return s

    def _stamp(self) -> int:
        return int(self.now().timestamp())

    # --- handlers -------------------------------------------------------------------

    async def create_session(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        missing = [k for k in ("mode", "success_url", "line_items[0][price]") if k not in form]
        if missing:
            return _error(
                400, f"Missing required param: {missing[0]}.", "parameter_missing", missing[0]
            )
        price = self.prices.get(form["line_items[0][price]"])
        if price is None:
            return _error(
                400,
                f"No such price: '{form['line_items[0][price]']}'",
                "resource_missing",
                "line_items[0][price]",
            )
        if (form["mode"] == "subscription") != (price["type"] == "recurring"):
            return _error(
                400,
                "The price type does not match the Checkout mode.",
                "parameter_invalid_string",
                "mode",
            )
        n = next(self._ids)
        session_id = f"cs_test_a1Fake{n:06d}"
        metadata = {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")}
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": price["unit_amount"],
            "amount_total": None if self.omit_amount_total else price["unit_amount"],
            "cancel_url": form.get("cancel_url"),
            "client_reference_id": form.get("client_reference_id"),
            "created": self._stamp(),
            "currency": price["currency"],
            "customer": None,
            "customer_creation": form.get("customer_creation"),
            "customer_email": form.get("customer_email"),
            "expires_at": self._stamp() + 86400,
            "livemode": False,
            "locale": form.get("locale"),
            "metadata": metadata,
            "mode": form["mode"],
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "subscription": None,
            "success_url": form["success_url"],
            "url": f"https://checkout.stripe.com/c/pay/{session_id}#fidkdWxOYHwnPyd1blpx",
        }
        self.sessions[session_id] = session
        return 200, session

    async def portal(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        customer = form.get("customer", "")
        if customer not in self.customers:
            return _error(400, f"No such customer: '{customer}'", "resource_missing", "customer")
        n = next(self._ids)
        return 200, {
            "id": f"bps_1Fake{n:06d}",
            "object": "billing_portal.session",
            "configuration": "bpc_1Fake",
            "created": self._stamp(),
            "customer": customer,
            "livemode": False,
            "locale": None,
            "return_url": form.get("return_url"),
            "url": f"https://billing.stripe.com/p/session/test_Fake{n:06d}",
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(Recorded(request.method, request.path, form, dict(request.headers)))
        if request.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            status, body = _error(401, "Invalid API Key provided: sk_test_****6789", None, None)
            return web.json_response(body, status=status)
        fault = self.faults.get(request.path)
        if fault and fault.count > 0 and fault.mode in ("500", "drop"):
            fault.count -= 1
            if fault.mode == "drop":
                return _drop(request)
            return web.json_response(
                {"error": {"type": "api_error", "message": "An unknown error occurred"}}, status=500
            )
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key and key in self._replies:
            status, body = self._replies[key]
            response = web.json_response(body, status=status)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        status, body = await self._route(request, form)
        if request.method == "POST" and key:
            self._replies[key] = (status, body)
        if fault and fault.count > 0 and fault.mode == "drop_after":
            fault.count -= 1
            return _drop(request)
        return web.json_response(
            body, status=status, headers={"Request-Id": f"req_{next(self._ids)}"}
        )

    async def _route(
        self, request: web.Request, form: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        path = request.path
        if request.method == "POST" and path == "/v1/checkout/sessions":
            return await self.create_session(form)
        if request.method == "POST" and path == "/v1/billing_portal/sessions":
            return await self.portal(form)
        if request.method == "GET" and path.startswith("/v1/checkout/sessions/"):
            sid = path.rsplit("/", 1)[1]
            if sid in self.sessions:
                return 200, self.sessions[sid]
            return _error(404, f"No such checkout.session: '{sid}'", "resource_missing", "session")
        if request.method == "GET" and path.startswith("/v1/prices/"):
            pid = path.rsplit("/", 1)[1]
            if pid in self.prices:
                return 200, self.prices[pid]
            return _error(404, f"No such price: '{pid}'", "resource_missing", "price")
        return _error(404, f"Unrecognized request URL ({request.method}: {path}).", None, None)


def _drop(request: web.Request) -> web.StreamResponse:
    assert request.transport is not None
    request.transport.abort()
    return web.Response(status=500)


def _price(price_id: str, amount: int, recurring: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": 1700000000,
        "currency": "usd",
        "livemode": False,
        "metadata": {},
        "product": "prod_Fake",
        "recurring": recurring,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": amount,
    }


def _error(
    status: int, message: str, code: str | None, param: str | None
) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return status, {"error": error}


async def start(now: Callable[[], datetime]) -> tuple[FakeStripe, web.AppRunner]:
    """Start the server on a free port of 127.0.0.1."""
    fake = FakeStripe(now=now)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    fake.url = f"http://127.0.0.1:{port}"
    return fake, runner
