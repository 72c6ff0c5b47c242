"""The error envelope on every path, and request ids."""

from __future__ import annotations

import logging

import pytest

from accessgate.domain.model.errors import ErrorCode
from accessgate.entrypoints.http.errors import STATUS_BY_CODE

from .helpers import CHECKOUT, assert_envelope, client_for


def test_every_error_code_has_a_status() -> None:
    assert set(STATUS_BY_CODE) == set(ErrorCode)
    assert STATUS_BY_CODE[ErrorCode.INVALID_SIGNATURE] == 403
    assert STATUS_BY_CODE[ErrorCode.DUPLICATE_PAYMENT] == 409
    assert STATUS_BY_CODE[ErrorCode.RATE_LIMIT_EXCEEDED] == 429
    assert STATUS_BY_CODE[ErrorCode.TOKEN_EXPIRED] == 410


async def test_unknown_route_and_wrong_method() -> None:
    async with client_for() as (client, _):
        assert_envelope(await client.get("/api/nothing/here"), 404, "NOT_FOUND")
        response = await client.delete("/api/payment/checkout-session")
        assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
        assert "POST" in response.headers["allow"]
        assert_envelope(await client.get("/api/access/activate"), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("body", [b"{not json", b'{"mode": "one_time",', b"\xff\xfe", b"   "])
async def test_malformed_json_is_400(body: bytes) -> None:
    async with client_for() as (client, _):
        response = await client.post(
            "/api/payment/checkout-session",
            content=body,
            headers={"content-type": "application/json"},
        )
        error = assert_envelope(response, 400, "VALIDATION_ERROR")
        assert error["details"]["reason"] in ("Malformed JSON body", "Request body is missing")


async def test_oversized_body_is_refused() -> None:
    async with client_for() as (client, _):
        response = await client.post(
            "/api/payment/checkout-session",
            content=b'{"email":"' + b"a" * 2_000_000 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert_envelope(response, 400, "VALIDATION_ERROR")


async def test_a_crash_is_500_with_the_request_id_and_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="accessgate.http")
    async with client_for() as (client, core):
        core.gateway().fail_next_checkout = RuntimeError("db password is hunter2")
        response = await client.post("/api/payment/checkout-session", json=CHECKOUT)
        error = assert_envelope(response, 500, "INTERNAL_ERROR")
        assert error["details"]["request_id"] == response.headers["x-request-id"]
        assert "hunter2" not in response.text
        assert "RuntimeError" not in response.text
    assert any(r.exc_info for r in caplog.records)


async def test_request_id_is_echoed_or_made() -> None:
    async with client_for() as (client, _):
        response = await client.get("/health", headers={"X-Request-ID": "abc-123.DEF:9"})
        assert response.headers["x-request-id"] == "abc-123.DEF:9"
        for bad in ("has space", "x" * 65, "<script>", "é"):
            response = await client.get("/health", headers={"X-Request-ID": bad.encode()})
            made = response.headers["x-request-id"]
            assert made != bad
            assert len(made) == 32
        response = await client.get("/missing", headers={"X-Request-ID": "trace-1"})
        assert response.headers["x-request-id"] == "trace-1"
        response = await client.post("/api/bot/access/status", json={})
        assert len(response.headers["x-request-id"]) == 32
