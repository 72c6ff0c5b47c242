"""Activation and email restore over the public API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from accessgate.adapters.memory.clock import SettableClock

from .helpers import assert_envelope, client_for, make_settings, paid_order


async def test_activate_answers_access_granted_and_the_flat_order() -> None:
    async with client_for() as (client, _):
        token = await paid_order(client, _)
        response = await client.post(
            "/api/access/activate", json={"activation_token": token, "telegram_user_id": 777}
        )
        assert response.status_code == 200
        body = response.json()
        assert body == {
            "access_granted": True,
            "order_id": body["order_id"],
            "plan": "one_time_basic",
            "access_status": "active",
            "valid_until": None,
        }
        again = await client.post(
            "/api/access/activate", json={"activation_token": token, "telegram_user_id": 777}
        )
        assert again.status_code == 200
        other = await client.post(
            "/api/access/activate", json={"activation_token": token, "telegram_user_id": 778}
        )
        assert_envelope(other, 409, "TOKEN_USED")


async def test_activate_errors() -> None:
    clock = SettableClock()
    async with client_for(clock=clock) as (client, core):
        response = await client.post(
            "/api/access/activate", json={"activation_token": "nope", "telegram_user_id": 1}
        )
        assert_envelope(response, 404, "TOKEN_INVALID")
        for bad_id in (0, -5, "12", 2**63):
            response = await client.post(
                "/api/access/activate", json={"activation_token": "x", "telegram_user_id": bad_id}
            )
            error = assert_envelope(response, 400, "VALIDATION_ERROR")
            assert error["details"]["field"] == "telegram_user_id"
        response = await client.post(
            "/api/access/activate", json={"activation_token": "t" * 65, "telegram_user_id": 1}
        )
        assert assert_envelope(response, 400, "VALIDATION_ERROR")["details"]["field"] == (
            "activation_token"
        )
        token = await paid_order(client, core)
        clock.advance(timedelta(days=31))
        response = await client.post(
            "/api/access/activate", json={"activation_token": token, "telegram_user_id": 1}
        )
        assert_envelope(response, 410, "TOKEN_EXPIRED")
        assert token not in response.text


async def test_restore_request_is_byte_identical_for_known_and_unknown_emails() -> None:
    async with client_for() as (client, core):
        await paid_order(client, core)
        known = await client.post("/api/auth/restore/request", json={"email": "buyer@example.com"})
        unknown = await client.post(
            "/api/auth/restore/request", json={"email": "stranger@example.com"}
        )
        assert known.status_code == unknown.status_code == 200
        assert known.content == unknown.content == b'{"status":"otp_delivery_sent"}'
        strip = {"x-request-id"}
        assert {k: v for k, v in known.headers.items() if k not in strip} == {
            k: v for k, v in unknown.headers.items() if k not in strip
        }
        bad = await client.post("/api/auth/restore/request", json={"email": "nope"})
        assert_envelope(bad, 400, "VALIDATION_ERROR")


async def _code(core: object) -> str:
    """The restore code, as the emailed message would carry it."""
    container = core
    store = container.uow().store  # type: ignore[attr-defined]
    challenge = next(iter(store.tables.otps.values()))
    return str(container.codec().otp_code(challenge.seed))  # type: ignore[attr-defined]


async def test_restore_confirm_rotates_the_token_and_activates() -> None:
    async with client_for() as (client, core):
        old = await paid_order(client, core)
        await client.post("/api/auth/restore/request", json={"email": "buyer@example.com"})
        code = await _code(core)
        wrong = "000000" if code != "000000" else "111111"
        response = await client.post(
            "/api/auth/restore/confirm", json={"email": "buyer@example.com", "otp": wrong}
        )
        error = assert_envelope(response, 400, "OTP_INVALID")
        assert wrong not in response.text
        assert error["details"] == {"attempts_left": 4}
        response = await client.post(
            "/api/auth/restore/confirm",
            json={"email": "buyer@example.com", "otp": code, "telegram_user_id": 99},
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"status", "activation_link", "access_granted"}
        assert body["status"] == "restored"
        assert body["access_granted"] is True
        response = await client.post(
            "/api/access/activate", json={"activation_token": old, "telegram_user_id": 99}
        )
        assert_envelope(response, 404, "TOKEN_INVALID")


async def test_restore_confirm_burns_the_code_after_too_many_attempts() -> None:
    async with client_for() as (client, core):
        await paid_order(client, core)
        await client.post("/api/auth/restore/request", json={"email": "buyer@example.com"})
        code = await _code(core)
        wrong = "000000" if code != "000000" else "111111"
        statuses = []
        for _ in range(5):
            response = await client.post(
                "/api/auth/restore/confirm", json={"email": "buyer@example.com", "otp": wrong}
            )
            statuses.append(response.json()["error"]["code"])
        assert statuses == ["OTP_INVALID"] * 4 + ["TOO_MANY_ATTEMPTS"]
        response = await client.post(
            "/api/auth/restore/confirm", json={"email": "buyer@example.com", "otp": code}
        )
        assert_envelope(response, 429, "TOO_MANY_ATTEMPTS")
        response = await client.post(
            "/api/auth/restore/confirm", json={"email": "buyer@example.com", "otp": "1" * 17}
        )
        assert assert_envelope(response, 400, "VALIDATION_ERROR")["details"]["field"] == "otp"


def _stable(response: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    """A response without what differs per request (timestamp, request id, date)."""
    body = response.json()
    body.pop("timestamp", None)
    headers = {k: v for k, v in response.headers.items() if k not in {"x-request-id", "date"}}
    return response.status_code, body, headers


async def test_restore_confirm_answers_are_identical_for_known_and_unknown_emails() -> None:
    """Issue 12 item 3: ``attempts_left`` (and every other field) is the same for a stranger."""
    async with client_for() as (client, core):
        await paid_order(client, core)
        answers: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        for email in ("buyer@example.com", "stranger@example.com"):
            seen = answers[email] = []
            confirm = {"email": email, "otp": "000000"}
            seen.append(_stable(await client.post("/api/auth/restore/confirm", json=confirm)))
            await client.post("/api/auth/restore/request", json={"email": email})
            challenge = core.uow().store.tables.otps[email]
            code = core.codec().otp_code(challenge.seed)
            confirm["otp"] = "000000" if code != "000000" else "111111"
            for _ in range(6):
                response = await client.post("/api/auth/restore/confirm", json=confirm)
                seen.append(_stable(response))
        assert answers["buyer@example.com"] == answers["stranger@example.com"]
        codes = [body["error"]["code"] for _, body, _ in answers["stranger@example.com"]]
        assert codes == ["OTP_INVALID"] * 5 + ["TOO_MANY_ATTEMPTS"] * 2
        assert answers["stranger@example.com"][1][1]["error"]["details"] == {"attempts_left": 4}


async def test_restore_codes_per_address_are_capped_per_day() -> None:
    """Issue 12 item 12: past RESTORE_MAX_CODES_PER_DAY the answer is the same, nothing is sent."""
    clock = SettableClock()
    settings = make_settings(restore_max_codes_per_day=3)
    async with client_for(settings, clock=clock) as (client, core):
        await paid_order(client, core)
        await core.deliver_outbox().execute()

        def codes_sent() -> int:
            return sum(1 for m in core.mailer().sent if m.template == "restore_code")

        for n in range(5):
            response = await client.post(
                "/api/auth/restore/request", json={"email": "buyer@example.com"}
            )
            assert response.content == b'{"status":"otp_delivery_sent"}'
            await core.deliver_outbox().execute()
            assert codes_sent() == min(n + 1, 3)
            clock.advance(timedelta(minutes=2))
        clock.advance(timedelta(days=1))
        await client.post("/api/auth/restore/request", json={"email": "buyer@example.com"})
        await core.deliver_outbox().execute()
        assert codes_sent() == 4
