"""Rate limiting per client address (memory store), exemptions, trusted proxies."""

from __future__ import annotations

import httpx

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
