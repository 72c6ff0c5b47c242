"""A local stand-in of the YooKassa API v3 (aiohttp) for the adapter's tests.

It checks what YooKassa checks: HTTP Basic auth with the shop id and secret key
(401 otherwise), an ``Idempotence-Key`` on every POST (a replayed key answers
the first response, as YooKassa does; a missing one is 400). It keeps payments
and refunds that a test can move (``succeed``, ``cancel``, ``refund``), records
every request, and can lose the response of the next create (a 500 after the
payment was made: the outcome is unknown to the caller).
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

SHOP_ID = "506751"
SECRET_KEY = "test_SecretKeyDoNotLeak_0123456789"
CONFIRMATION_HOST = "https://yoomoney.test/checkout/payments/v2/contract"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class FakeYooKassa:
    """The server's state; ``url`` (the API root, ``.../v3``) is set once it listens."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    lose_next_creates: int = 0
    _replies: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _new_id(self) -> str:
        return f"2f{next(self._ids):06x}-000f-5000-8000-18db351245c7"

    def put_payment(
        self,
        payment_id: str,
        *,
        status: str,
        value: str,
        currency: str,
        order_id: str | None = None,
        refunded: str | None = None,
    ) -> dict[str, Any]:
        """Make the API report payment ``payment_id`` like this (created when new)."""
        payment = self.payments.setdefault(
            payment_id,
            {"id": payment_id, "created_at": "2026-03-01T12:00:00.000Z", "metadata": {}},
        )
        payment.update(
            status=status,
            paid=status in ("succeeded", "waiting_for_capture"),
            amount={"value": value, "currency": currency},
        )
        if order_id is not None:
            payment["metadata"] = {"order_id": order_id}
        if status == "succeeded":
            payment["captured_at"] = "2026-03-01T12:01:00.000Z"
        if refunded is not None:
            payment["refunded_amount"] = {"value": refunded, "currency": currency}
        return payment

    def refund(self, payment_id: str, value: str) -> str:
        """A succeeded refund of ``value`` of the payment; returns its id."""
        payment = self.payments[payment_id]
        currency = payment["amount"]["currency"]
        before = payment.get("refunded_amount", {}).get("value", "0.00")
        total = str(Decimal(before) + Decimal(value))
        payment["refunded_amount"] = {"value": total, "currency": currency}
        refund_id = self._new_id()
        self.refunds[refund_id] = {
            "id": refund_id,
            "payment_id": payment_id,
            "status": "succeeded",
            "amount": {"value": value, "currency": currency},
            "created_at": "2026-03-02T09:00:00.000Z",
        }
        return refund_id

    def creates(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path == "/v3/payments"]


def _error(status: int, code: str, description: str) -> web.Response:
    body = {"type": "error", "id": "err-1", "code": code, "description": description}
    return web.json_response(body, status=status)


def _authorized(request: web.Request) -> bool:
    expected = base64.b64encode(f"{SHOP_ID}:{SECRET_KEY}".encode()).decode()
    return request.headers.get("Authorization") == f"Basic {expected}"


def app_for(state: FakeYooKassa) -> web.Application:
    async def record(request: web.Request) -> Any:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        state.requests.append(
            Recorded(
                request.method,
                request.path,
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
        )
        return body

    async def create(request: web.Request) -> web.Response:
        body = await record(request)
        if not _authorized(request):
            return _error(401, "invalid_credentials", "Basic auth with shopId and secret key")
        key = request.headers.get("Idempotence-Key")
        if not key or len(key) > 64:
            return _error(400, "invalid_request", "Idempotence-Key header is required")
        if key in state._replies:
            return web.json_response(state._replies[key])
        payment_id = state._new_id()
        payment = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": body["amount"],
            "confirmation": {
                "type": "redirect",
                "confirmation_url": f"{CONFIRMATION_HOST}?orderId={payment_id}",
            },
            "created_at": "2026-03-01T12:00:00.000Z",
            "description": body.get("description"),
            "metadata": body.get("metadata", {}),
            "recipient": {"account_id": SHOP_ID, "gateway_id": "1"},
            "refundable": False,
            "test": True,
        }
        state.payments[payment_id] = payment
        state._replies[key] = payment
        if state.lose_next_creates > 0:
            state.lose_next_creates -= 1
            return _error(500, "internal_server_error", "outcome unknown")
        return web.json_response(payment)

    def getter(table: str) -> Any:
        async def get(request: web.Request) -> web.Response:
            await record(request)
            if not _authorized(request):
                return _error(401, "invalid_credentials", "Basic auth with shopId and secret key")
            found = getattr(state, table).get(request.match_info["id"])
            if found is None:
                return _error(404, "not_found", "no such object")
            return web.json_response(found)

        return get

    app = web.Application()
    app.router.add_post("/v3/payments", create)
    app.router.add_get("/v3/payments/{id}", getter("payments"))
    app.router.add_get("/v3/refunds/{id}", getter("refunds"))
    return app


async def start() -> tuple[FakeYooKassa, web.AppRunner]:
    """Start the stand-in on 127.0.0.1 (a free port)."""
    state = FakeYooKassa()
    runner = web.AppRunner(app_for(state))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}/v3"
    return state, runner


def notification(event: str, object_id: str, **fields: Any) -> bytes:
    """A notification body as YooKassa sends it (the object's fields are only a hint)."""
    obj = {"id": object_id, **fields}
    return json.dumps({"type": "notification", "event": event, "object": obj}).encode()
