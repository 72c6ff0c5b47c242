"""Rate limiting per client address (memory store), exemptions, trusted proxies."""

from __future__ import annotations

import httpx

from accessgate.config import Settings

from .helpers import INTERNAL_TOKEN, assert_envelope, client_for, make_app, make_settings

LIMITED = make_settings(rate_limit_enabled=True, rate_limit_requests=3, rate_limit_window=60)
STATUS = "/api/payment/session-status?session_id=cs_none"


async def test_the_limit_answers_429_with_retry_after() -> None:
    async with client_for(LIMITED) as (client, _):
        for _ in range(3):
            assert (await client.get(STATUS)).status_code == 404
        response = await client.get(STATUS)
        error = assert_envelope(response, 429, "RATE_LIMIT_EXCEEDED")
        assert 0 < int(response.headers["retry-after"]) <= 60
        assert error["details"]["retry_after"] == int(response.headers["retry-after"])
        other_endpoint = await client.post("/api/auth/restore/request", json={"email": "a@b.co"})
        assert_envelope(other_endpoint, 429, "RATE_LIMIT_EXCEEDED")


async def test_health_webhooks_and_bot_are_exempt() -> None:
    async with client_for(LIMITED) as (client, _):
        for _ in range(3):
            await client.get(STATUS)
        for _ in range(5):
            assert (await client.get("/health")).status_code == 200
            assert (await client.post("/webhook/memory", content=b"{}")).status_code == 403
            response = await client.post(
                "/api/bot/access/status",
                json={"telegram_user_id": 1},
                headers={"X-Internal-Token": INTERNAL_TOKEN},
            )
            assert response.status_code == 200


async def test_disabled_limit_never_refuses() -> None:
    async with client_for(make_settings(rate_limit_requests=1)) as (client, _):
        for _ in range(5):
            assert (await client.get(STATUS)).status_code == 404


async def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    async with client_for(LIMITED) as (client, _):
        for n in range(3):
            await client.get(STATUS, headers={"X-Forwarded-For": f"198.51.100.{n}"})
        response = await client.get(STATUS, headers={"X-Forwarded-For": "198.51.100.200"})
        assert_envelope(response, 429, "RATE_LIMIT_EXCEEDED")


async def test_forwarded_for_is_honoured_from_a_trusted_proxy() -> None:
    settings = make_settings(
        rate_limit_enabled=True,
        rate_limit_requests=2,
        trusted_proxies=("10.0.0.0/8", "192.0.2.1"),
    )
    app, _ = make_app(settings)
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
        alice = {"X-Forwarded-For": "203.0.113.7, 10.9.9.9"}
        spoofing_alice = {"X-Forwarded-For": "6.6.6.6, 203.0.113.7"}
        bob = {"X-Forwarded-For": "203.0.113.8"}
        assert (await client.get(STATUS, headers=alice)).status_code == 404
        assert (await client.get(STATUS, headers=spoofing_alice)).status_code == 404
        assert (await client.get(STATUS, headers=alice)).status_code == 429
        assert (await client.get(STATUS, headers=bob)).status_code == 404
        assert (await client.get(STATUS)).status_code == 404


STRICT = make_settings(
    rate_limit_enabled=True, rate_limit_requests=30, restore_rate_limit_requests=2
)
REQUEST = "/api/auth/restore/request"
CONFIRM = "/api/auth/restore/confirm"


def test_the_restore_limit_is_stricter_by_default() -> None:
    defaults = Settings.for_tests()
    assert defaults.limits.restore_rate_limit_requests == 5
    assert defaults.limits.restore_rate_limit_requests < defaults.limits.rate_limit_requests


async def test_restore_and_portal_have_a_stricter_limit_per_client() -> None:
    """Issue 12 item 12: restore (and portal email) endpoints share a stricter budget."""
    async with client_for(STRICT) as (client, _):
        for _ in range(2):
            assert (await client.post(REQUEST, json={"email": "a@b.co"})).status_code == 200
        refused = await client.post(CONFIRM, json={"email": "a@b.co", "otp": "123456"})
        error = assert_envelope(refused, 429, "RATE_LIMIT_EXCEEDED")
        assert 0 < error["details"]["retry_after"] <= 60
        refused = await client.post("/api/payment/customer-portal", json={"email": "a@b.co"})
        assert_envelope(refused, 429, "RATE_LIMIT_EXCEEDED")
        assert (await client.get(STATUS)).status_code == 404  # the rest of the API answers


async def test_the_strict_limit_counts_per_client() -> None:
    app, _ = make_app(STRICT)
    for peer in ("203.0.113.1", "203.0.113.2"):
        transport = httpx.ASGITransport(app=app, client=(peer, 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
            for _ in range(2):
                response = await client.post(REQUEST, json={"email": "a@b.co"})
                assert response.status_code == 200
            assert (await client.post(REQUEST, json={"email": "a@b.co"})).status_code == 429


async def test_bot_restore_is_limited_per_email() -> None:
    """The bot is one client for all its users: its restore endpoints count per email."""
    auth = {"X-Internal-Token": INTERNAL_TOKEN}
    async with client_for(STRICT) as (client, _):
        for _ in range(2):
            response = await client.post(
                "/api/bot/restore/request", json={"email": "A@b.co"}, headers=auth
            )
            assert response.status_code == 200
        refused = await client.post(
            "/api/bot/restore/confirm",
            json={"email": " a@B.co", "otp": "123456", "telegram_user_id": 5},
            headers=auth,
        )
        assert_envelope(refused, 429, "RATE_LIMIT_EXCEEDED")
        response = await client.post(
            "/api/bot/restore/request", json={"email": "other@b.co"}, headers=auth
        )
        assert response.status_code == 200
        response = await client.post(
            "/api/bot/access/status", json={"telegram_user_id": 5}, headers=auth
        )
        assert response.status_code == 200  # the rest of the bot API is not limited
