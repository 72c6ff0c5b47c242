"""Shared helpers of the HTTP tests: apps over memory containers, and a paid order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.config import Settings
from accessgate.container import Core, create_memory_container
from accessgate.entrypoints.http.app import create_app

INTERNAL_TOKEN = "internal-test-token-0123456789"
CHECKOUT = {"mode": "one_time", "plan": "one_time_basic", "email": "Buyer@Example.com"}


def make_settings(**overrides: Any) -> Settings:
    """Test settings: rate limiting off unless asked, internal token set."""
    values: dict[str, Any] = {
        "accessgate_env": "test",
        "internal_api_token": INTERNAL_TOKEN,
        "rate_limit_enabled": False,
    }
    values.update(overrides)
    return Settings.for_tests(**values)


def make_app(settings: Settings | None = None, **container: Any) -> tuple[Litestar, Core]:
    """An app over a fresh memory container."""
    settings = settings or make_settings()
    core = create_memory_container(settings, **container)
    return create_app(settings, core), core


@asynccontextmanager
async def client_for(
    settings: Settings | None = None, **container: Any
) -> AsyncIterator[tuple[AsyncTestClient[Litestar], Core]]:
    """A started test client and the container behind it."""
    app, core = make_app(settings, **container)
    async with AsyncTestClient(app) as client:
        yield client, core


async def checkout(client: AsyncTestClient[Litestar], **fields: Any) -> dict[str, Any]:
    """Open a checkout and return the response body."""
    response = await client.post("/api/payment/checkout-session", json=CHECKOUT | fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def pay(client: AsyncTestClient[Litestar], core: Core, session_id: str) -> None:
    """Deliver the signed completion webhook of ``session_id``."""
    gateway: MemoryPaymentGateway = core.gateway()
    delivery = gateway.webhook(gateway.completion(session_id))
    response = await client.post(
        f"/webhook/{gateway.name}", content=delivery.body, headers=delivery.headers
    )
    assert response.status_code == 200, response.text


async def paid_order(client: AsyncTestClient[Litestar], core: Core, **fields: Any) -> str:
    """A paid, fulfilled order; returns its activation token."""
    started = await checkout(client, **fields)
    await pay(client, core, started["session_id"])
    status = await client.get(
        "/api/payment/session-status", params={"session_id": started["session_id"]}
    )
    link: str = status.json()["activation_link"]
    return link.rsplit("=", 1)[-1]


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    """Check the error envelope and return its ``error`` member."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status", "error", "timestamp"}
    assert body["status"] == "error"
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["timestamp"].endswith("Z")
    assert "Traceback" not in response.text
    error: dict[str, Any] = body["error"]
    return error
