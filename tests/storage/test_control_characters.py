"""A control character in any string is refused at the edge: 400, never a storage outage.

Before the fix, a NUL byte reached PostgreSQL (which refuses it in text) from
nine API endpoints and the pages: the answer was 503 "storage unavailable"
and the log warned of an outage that was none. SQLite stored the NUL.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from accessgate.adapters.sqlalchemy.tables import orders
from tests.http.helpers import assert_envelope
from tests.relays.servers import StubServer, Tracker
from tests.storage.app_world import BASE_URL, INTERNAL_TOKEN, sql_app
from tests.storage.conftest import SQL_BACKENDS

NUL = "a\x00b"
BOT = {"X-Internal-Token": INTERNAL_TOKEN}
CHECKOUT = {"mode": "one_time", "plan": "one_time_basic", "email": "buyer@example.com"}
EVIL_EMAIL = "a\x00b@example.com"

# (method, url, request options, the field the answer names)
JSON_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/api/payment/checkout-session", {"json": CHECKOUT | {"email": EVIL_EMAIL}}, "email"),
    ("POST", "/api/payment/checkout-session", {"json": CHECKOUT | {"clickid": NUL}}, "clickid"),
    (
        "POST",
        "/api/payment/checkout-session",
        {"json": CHECKOUT | {"telegram_chat_id": NUL}},
        "telegram_chat_id",
    ),
    ("POST", "/api/payment/checkout-session?fbclid=a%00b", {"json": CHECKOUT}, "fbclid"),
    ("GET", "/api/payment/session-status?session_id=a%00b", {}, "session_id"),
    ("POST", "/api/payment/customer-portal", {"json": {"email": EVIL_EMAIL}}, "email"),
    (
        "POST",
        "/api/access/activate",
        {"json": {"activation_token": NUL, "telegram_user_id": 5}},
        "activation_token",
    ),
    ("POST", "/api/auth/restore/request", {"json": {"email": EVIL_EMAIL}}, "email"),
    (
        "POST",
        "/api/auth/restore/confirm",
        {"json": {"email": EVIL_EMAIL, "otp": "123456"}},
        "email",
    ),
    (
        "POST",
        "/api/auth/restore/confirm",
        {"json": {"email": "buyer@example.com", "otp": "12\x003456"}},
        "otp",
    ),
    ("GET", "/api/tracking/meta-event?status=a%00b", {}, "status"),
    ("GET", "/api/tracking/meta-event?status=Lead&fbclid=a%00b", {}, "fbclid"),
    ("GET", "/api/tracking/meta-event?status=Lead&ip=a%00b", {}, "ip"),
    ("GET", "/api/tracking/meta-event?status=Lead&ua=a%00b", {}, "ua"),
    (
        "POST",
        "/api/tracking/mobi-slon-event",
        {"json": {"status": "start_quiz", "clickid": NUL}},
        "clickid",
    ),
    (
        "POST",
        "/api/tracking/mobi-slon-event",
        {"json": {"status": "start_quiz", "clickid": "c", "session_id": NUL}},
        "session_id",
    ),
    (
        "POST",
        "/api/tracking/mobi-slon-event",
        {"json": {"status": "start_quiz", "clickid": "c", "page_path": NUL}},
        "page_path",
    ),
    (
        "POST",
        "/api/tracking/mobi-slon-event",
        {"json": {"status": "start_quiz", "clickid": "c", "tracking_params": {"k": NUL}}},
        "tracking_params",
    ),
    (
        "POST",
        "/api/tracking/mobi-slon-event",
        {"json": {"status": "start_quiz", "clickid": "c", "tracking_params": {NUL: "v"}}},
        "tracking_params",
    ),
    ("GET", "/api/tracking/mobi-slon-event?status=start_quiz&clickid=a%00b", {}, "clickid"),
    ("GET", "/api/tracking/mobi-slon-event?status=start_quiz&clickid=c&utm=a%00b", {}, "utm"),
    (
        "POST",
        "/api/bot/access/activate",
        {"json": {"activation_token": NUL, "telegram_user_id": 5}, "headers": BOT},
        "activation_token",
    ),
    ("POST", "/api/bot/restore/request", {"json": {"email": EVIL_EMAIL}, "headers": BOT}, "email"),
    (
        "POST",
        "/api/bot/restore/confirm",
        {"json": {"email": EVIL_EMAIL, "otp": "123456", "telegram_user_id": 5}, "headers": BOT},
        "email",
    ),
    ("GET", "/pay/success?session_id=a%00b", {}, "session_id"),
    ("GET", "/sandbox/checkout/a%00b", {}, "path"),
    ("GET", "/activate?token=a%00b", {}, "token"),
]
# Other control characters, tab and line breaks included, are refused the same way.
OTHERS = ["\t", "\n", "\r", "\x1b", "\x7f", "\x85"]


@pytest.fixture(params=SQL_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def no_warnings(caplog: pytest.LogCaptureFixture) -> None:
    noisy = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("accessgate")
    ]
    assert noisy == []


async def test_a_nul_in_any_string_is_400_naming_the_field(
    backend: str,
    tmp_path: Path,
    schema: str | None,
    tracker: Tracker,
    graph: StubServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with sql_app(
        backend,
        tmp_path=tmp_path,
        schema=schema,
        tracker_url=tracker.server.base_url,
        graph_url=graph.base_url,
    ) as app:
        with caplog.at_level(logging.WARNING):
            for method, url, options, field in JSON_CASES:
                response = await app.client.request(method, url, **options)
                error = assert_envelope(response, 400, "VALIDATION_ERROR")
                assert error["details"]["field"] == field, (url, response.text)
                assert "regex" not in response.text, response.text
        no_warnings(caplog)
        assert (await app.client.get("/health")).status_code == 200


async def test_the_pay_form_is_refused_in_the_domain(
    backend: str,
    tmp_path: Path,
    schema: str | None,
    tracker: Tracker,
    graph: StubServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    form = {"plan": "one_time_basic", "email": "buyer@example.com", "locale": "en"}
    async with sql_app(
        backend,
        tmp_path=tmp_path,
        schema=schema,
        tracker_url=tracker.server.base_url,
        graph_url=graph.base_url,
    ) as app:
        with caplog.at_level(logging.WARNING):
            for field in ("email", "clickid", "telegram_chat_id", "fbclid"):
                value = EVIL_EMAIL if field == "email" else NUL
                response = await app.client.post(
                    "/pay", data=form | {field: value}, headers={"Origin": BASE_URL}
                )
                assert response.status_code == 400, (field, response.status_code)
                assert "text/html" in response.headers["content-type"]
        no_warnings(caplog)
        async with app.uow.engine.connect() as conn:
            assert (await conn.execute(orders.select())).all() == []


async def test_tabs_line_breaks_and_other_controls_are_refused_too(
    backend: str, tmp_path: Path, schema: str | None, tracker: Tracker, graph: StubServer
) -> None:
    async with sql_app(
        backend,
        tmp_path=tmp_path,
        schema=schema,
        tracker_url=tracker.server.base_url,
        graph_url=graph.base_url,
    ) as app:
        for char in OTHERS:
            body = {"status": "start_quiz", "clickid": f"c{char}"}
            response = await app.client.post("/api/tracking/mobi-slon-event", json=body)
            error = assert_envelope(response, 400, "VALIDATION_ERROR")
            assert error["details"]["field"] == "clickid"
            checkout = CHECKOUT | {"email": f"buyer@example.com{char}x"}
            response = await app.client.post("/api/payment/checkout-session", json=checkout)
            assert assert_envelope(response, 400, "VALIDATION_ERROR")["details"]["field"] == "email"
            response = await app.client.get(
                "/api/payment/session-status", params={"session_id": f"cs_{char}"}
            )
            error = assert_envelope(response, 400, "VALIDATION_ERROR")
            assert error["details"]["field"] == "session_id"


async def test_a_control_character_in_the_user_agent_header_never_blocks_a_purchase(
    backend: str, tmp_path: Path, schema: str | None, tracker: Tracker, graph: StubServer
) -> None:
    async with sql_app(
        backend,
        tmp_path=tmp_path,
        schema=schema,
        tracker_url=tracker.server.base_url,
        graph_url=graph.base_url,
    ) as app:
        response = await app.client.post(
            "/api/payment/checkout-session",
            json=CHECKOUT,
            headers={"User-Agent": "agent\x00/1\x01"},
        )
        assert response.status_code == 200, response.text
        async with app.uow.engine.connect() as conn:
            [(agent,)] = (
                await conn.execute(orders.select().with_only_columns(orders.c.user_agent))
            ).all()
        assert agent == "agent /1"
