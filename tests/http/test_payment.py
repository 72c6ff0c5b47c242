"""Checkout, session status and customer portal over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from accessgate.domain.model.errors import ProviderRejected, ServiceUnavailable

from .helpers import CHECKOUT, assert_envelope, checkout, client_for, make_settings, pay


async def test_checkout_session_answers_the_seed_fields() -> None:
    async with client_for() as (client, core):
        response = await client.post(
            "/api/payment/checkout-session?fbclid=fb123",
            json=CHECKOUT | {"clickid": "clk-1", "locale": "ru", "telegram_chat_id": "42"},
            headers={"User-Agent": "test-agent/1.0"},
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"checkout_url", "session_id", "order_id"}
        assert body["checkout_url"].endswith(body["session_id"])
        async with core.uow()() as uow:
            order = await uow.orders.get(body["order_id"])
        assert order is not None
        assert order.email == "buyer@example.com"
        assert order.clickid == "clk-1"
        assert order.locale == "ru"
        assert order.fbclid == "fb123"
        assert order.user_agent == "test-agent/1.0"
        assert order.client_ip == "testclient"


async def test_checkout_takes_fbclid_from_the_fbc_cookie() -> None:
    async with client_for() as (client, core):
        client.cookies.set("_fbc", "fb.1.1700000000000.cookieclid")
        body = await checkout(client)
        async with core.uow()() as uow:
            order = await uow.orders.get(body["order_id"])
        assert order is not None
        assert order.fbclid == "cookieclid"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mode": "lifetime"}, "mode"),
        ({"plan": "gold"}, "plan"),
        ({"locale": "de"}, "locale"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 300 + "@example.com"}, "email"),
        ({"clickid": "c" * 513}, "clickid"),
        ({"mode": 1}, "mode"),
        ({"surprise": "field"}, "surprise"),
        ({"mode": "subscription"}, "mode"),
    ],
)
async def test_checkout_validation_errors_name_the_field(
    change: dict[str, Any], field: str
) -> None:
    async with client_for() as (client, _):
        response = await client.post("/api/payment/checkout-session", json=CHECKOUT | change)
        error = assert_envelope(response, 400, "VALIDATION_ERROR")
        assert error["details"]["field"] == field
        assert "lifetime" not in response.text
        assert "not-an-email" not in response.text


async def test_checkout_missing_field_and_wrong_body_shape() -> None:
    async with client_for() as (client, _):
        response = await client.post(
            "/api/payment/checkout-session", json={"mode": "one_time", "plan": "one_time_basic"}
        )
        assert assert_envelope(response, 400, "VALIDATION_ERROR")["details"]["field"] == "email"
        response = await client.post("/api/payment/checkout-session", json=[1, 2])
        assert_envelope(response, 400, "VALIDATION_ERROR")
        response = await client.post("/api/payment/checkout-session")
        assert_envelope(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ProviderRejected(), 400, "PROVIDER_REJECTED"),
        (ServiceUnavailable(), 503, "SERVICE_UNAVAILABLE"),
    ],
)
async def test_checkout_provider_failures(error: Exception, status: int, code: str) -> None:
    async with client_for() as (client, core):
        core.gateway().fail_next_checkout = error
        response = await client.post("/api/payment/checkout-session", json=CHECKOUT)
        assert_envelope(response, status, code)


async def test_session_status_before_and_after_payment() -> None:
    async with client_for() as (client, core):
        started = await checkout(client)
        params = {"session_id": started["session_id"]}
        response = await client.get("/api/payment/session-status", params=params)
        assert response.status_code == 200
        assert response.json() == {
            "payment_status": "unpaid",
            "fulfillment_status": "pending",
            "access_status": "pending",
            "activation_link": None,
        }
        await pay(client, core, started["session_id"])
        body = (await client.get("/api/payment/session-status", params=params)).json()
        assert body["payment_status"] == "paid"
        assert body["fulfillment_status"] == "fulfilled"
        assert body["access_status"] == "token_issued"
        assert body["activation_link"].startswith("http://127.0.0.1:8000/")


async def test_session_status_errors() -> None:
    async with client_for() as (client, _):
        response = await client.get("/api/payment/session-status", params={"session_id": "cs_x"})
        assert_envelope(response, 404, "PAYMENT_NOT_FOUND")
        response = await client.get("/api/payment/session-status")
        error = assert_envelope(response, 400, "VALIDATION_ERROR")
        assert error["details"]["field"] == "session_id"
        response = await client.get("/api/payment/session-status", params={"session_id": "s" * 300})
        assert_envelope(response, 400, "VALIDATION_ERROR")


async def test_customer_portal() -> None:
    # The seed's direct answer (CUSTOMER_PORTAL_MODE=direct); the default emails the
    # link instead (tests/http/test_customer_portal.py).
    async with client_for(make_settings(customer_portal_mode="direct")) as (client, _):
        await checkout(client, mode="subscription", plan="sub_monthly")
        response = await client.post(
            "/api/payment/customer-portal", json={"email": "buyer@example.com"}
        )
        assert response.status_code == 200
        assert set(response.json()) == {"portal_url"}
        response = await client.post(
            "/api/payment/customer-portal", json={"email": "nobody@example.com"}
        )
        assert_envelope(response, 404, "USER_NOT_FOUND")


async def test_legacy_redirect_is_gone() -> None:
    async with client_for() as (client, _):
        response = await client.get("/api/payment/redirect")
        assert_envelope(response, 410, "GONE")
