"""The internal bot API behind X-Internal-Token."""

from __future__ import annotations

import logging

import pytest

from .helpers import INTERNAL_TOKEN, assert_envelope, client_for, make_settings, paid_order

AUTH = {"X-Internal-Token": INTERNAL_TOKEN}


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Internal-Token": "wrong"}, {"X-Internal-Token": INTERNAL_TOKEN + "x"}],
)
async def test_missing_or_wrong_token_is_401(headers: dict[str, str]) -> None:
    async with client_for() as (client, _):
        for path in ("/access/status", "/access/activate", "/restore/request", "/restore/confirm"):
            response = await client.post(f"/api/bot{path}", json={}, headers=headers)
            assert_envelope(response, 401, "UNAUTHORIZED")
            assert INTERNAL_TOKEN not in response.text


async def test_without_a_configured_token_the_internal_api_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="accessgate.http")
    async with client_for(make_settings(internal_api_token=None)) as (client, _):
        response = await client.post(
            "/api/bot/access/status", json={"telegram_user_id": 1}, headers=AUTH
        )
        error = assert_envelope(response, 401, "UNAUTHORIZED")
        assert error["message"] == "The internal API is disabled"
    lines = [r.getMessage() for r in caplog.records if "INTERNAL_API_TOKEN" in r.getMessage()]
    assert len(lines) == 1


async def test_bot_walk_status_activate_restore() -> None:
    async with client_for() as (client, core):
        response = await client.post(
            "/api/bot/access/status", json={"telegram_user_id": 55}, headers=AUTH
        )
        assert response.status_code == 200
        assert response.json() == {
            "is_paid": False,
            "order_id": None,
            "plan": None,
            "access_status": None,
        }
        token = await paid_order(client, core)
        response = await client.post(
            "/api/bot/access/activate",
            json={"activation_token": token, "telegram_user_id": 55},
            headers=AUTH,
        )
        assert response.status_code == 200
        activated = response.json()
        assert set(activated) == {
            "access_granted",
            "order_id",
            "plan",
            "access_status",
            "valid_until",
        }
        assert activated["access_granted"] is True
        response = await client.post(
            "/api/bot/access/status", json={"telegram_user_id": 55}, headers=AUTH
        )
        assert response.json() == {
            "is_paid": True,
            "order_id": activated["order_id"],
            "plan": "one_time_basic",
            "access_status": "active",
        }
        for email in ("buyer@example.com", "stranger@example.com"):
            response = await client.post(
                "/api/bot/restore/request", json={"email": email}, headers=AUTH
            )
            assert response.status_code == 200
            assert response.content == b'{"status":"otp_logged"}'
        challenge = next(iter(core.uow().store.tables.otps.values()))
        code = core.codec().otp_code(challenge.seed)
        response = await client.post(
            "/api/bot/restore/confirm",
            json={"email": "buyer@example.com", "otp": code, "telegram_user_id": 56},
            headers=AUTH,
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"status", "activation_link", "access_granted"}
        assert body["access_granted"] is True


async def test_bot_restore_confirm_requires_the_telegram_user() -> None:
    async with client_for() as (client, _):
        response = await client.post(
            "/api/bot/restore/confirm",
            json={"email": "buyer@example.com", "otp": "123456"},
            headers=AUTH,
        )
        error = assert_envelope(response, 400, "VALIDATION_ERROR")
        assert error["details"]["field"] == "telegram_user_id"
