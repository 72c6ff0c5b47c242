"""configure_logging: JSON or text, the request id, and no secret in any record."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from accessgate.config import ConfigError, Settings
from accessgate.entrypoints.logs import REQUEST_ID, configure_logging, redact, wants_json


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('GET /activate?token=AbC_123-xyz HTTP/1.1" 200', "AbC_123-xyz"),
        ("https://t.me/gate_bot?start=tok_9876543210", "tok_9876543210"),
        ("headers: X-Internal-Token: s3cr3t-internal", "s3cr3t-internal"),
        ("{'x-internal-token': 's3cr3t-internal'}", "s3cr3t-internal"),
        ("Authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi.abc.def"),
        ("stripe key sk_live_51HxYzAbCdEf rejected", "sk_live_51HxYzAbCdEf"),
        ("restricted rk_test_abcdef123", "rk_test_abcdef123"),
        ("secret whsec_AbCdEf0123456789 loaded", "whsec_AbCdEf0123456789"),
        ('{"activation_token": "tok-123", "telegram_user_id": 1}', "tok-123"),
        ('{"email": "a@b.co", "otp": "123456"}', "123456"),
        ("Stripe-Signature: t=1700000000,v1=5257a869e7ecebed", "5257a869e7ecebed"),
        ("{'accessgate-signature': 't=1700000000,v1=9f86d081884c7d65'}", "9f86d081884c7d65"),
    ],
)
def test_redact_masks_secrets(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked
    assert "[REDACTED]" in masked


def test_redact_keeps_ordinary_text() -> None:
    text = 'GET /api/payment/checkout-session?plan=one_time_basic HTTP/1.1" 200'
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('GET /api/payment/session-status?session_id=cs_sandbox_ord_1 HTTP/1.1" 200', "ord_1"),
        ('GET /pay/success?session_id=cs_test_a1B2c3&lang=ru HTTP/1.1" 200', "a1B2c3"),
        ('GET /pay/success?lang=en&session_id=opaque-id-42 HTTP/1.1" 200', "opaque-id-42"),
        ('POST /sandbox/checkout/cs_sandbox_ord_7/pay HTTP/1.1" 303', "ord_7"),
        ("GET /sandbox/checkout/anything-42 HTTP/1.1", "anything-42"),
        ('{"session_id": "cs_live_b1C2d3", "status": "paid"}', "b1C2d3"),
        ("stripe answered for cs_live_Zz9Yy8 in 2 s", "Zz9Yy8"),
    ],
)
def test_redact_masks_checkout_session_ids(text: str, secret: str) -> None:
    # A session id shows the unused activation link on the success page.
    masked = redact(text)
    assert secret not in masked
    assert "[REDACTED]" in masked


def test_access_log_records_carry_no_session_id_and_no_color_message(
    restore_root: None,
) -> None:
    stream = io.StringIO()
    configure_logging(Settings.for_tests(log_format="json"), stream)
    access = logging.getLogger("uvicorn.access")
    for path in (
        "/api/payment/session-status?session_id=cs_sandbox_SECRET3",
        "/pay/success?session_id=cs_test_SECRET4&lang=ru",
    ):
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", path, "1.1", 200)
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]",
        42,
        extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"},
    )
    text = stream.getvalue()
    assert "SECRET3" not in text
    assert "SECRET4" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["message"] for line in lines[:2]] == [
        '127.0.0.1:1 - "GET /api/payment/session-status?session_id=[REDACTED] HTTP/1.1" 200',
        '127.0.0.1:1 - "GET /pay/success?session_id=[REDACTED]&lang=ru HTTP/1.1" 200',
    ]
    started = lines[2]
    assert started["message"] == "Started server process [42]"
    assert "color_message" not in started
    assert "\x1b" not in text


def test_json_lines_carry_the_request_id_and_no_secret(restore_root: None) -> None:
    stream = io.StringIO()
    configure_logging(Settings.for_tests(log_format="json"), stream)
    token = REQUEST_ID.set("req-42")
    try:
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/activate?token=SECRET1", "1.1", 200
        )
        logging.getLogger("accessgate.mail").info("To: a@b.co\n\n    %s", "654321")
        try:
            raise RuntimeError("boom with start=SECRET2")
        except RuntimeError:
            logging.getLogger("accessgate.http").exception("crashed")
    finally:
        REQUEST_ID.reset(token)
    logging.getLogger("accessgate.worker").info("outside", extra={"claimed": 3})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access, mail, crash, outside = lines
    assert access["request_id"] == "req-42"
    assert access["logger"] == "uvicorn.access"
    assert "SECRET1" not in access["message"]
    assert "/activate?token=[REDACTED]" in access["message"]
    assert "654321" in mail["message"]  # the console mailer is the documented exception
    assert crash["level"] == "ERROR"
    assert "RuntimeError" in crash["exception"]
    assert "SECRET2" not in json.dumps(crash)
    assert outside["request_id"] == "-"
    assert outside["claimed"] == 3


def test_text_format_in_development_and_json_in_production(restore_root: None) -> None:
    assert not wants_json(Settings.for_tests())
    assert wants_json(Settings.for_tests(accessgate_env="production"))
    assert not wants_json(Settings.for_tests(accessgate_env="production", log_format="text"))
    stream = io.StringIO()
    configure_logging(Settings.for_tests(), stream)
    logging.getLogger("accessgate.test").warning("hello token=abc")
    line = stream.getvalue().strip()
    assert line.endswith("WARNING accessgate.test [-] hello token=[REDACTED]")
    assert len(logging.getLogger().handlers) == 1
    configure_logging(Settings.for_tests(), stream)
    assert len(logging.getLogger().handlers) == 1


def test_unknown_log_level_is_a_config_error(restore_root: None) -> None:
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        configure_logging(Settings.for_tests(log_level="LOUD"), io.StringIO())


@pytest.mark.parametrize(
    ("text", "secrets"),
    [
        # Letters that match ASCII ones only case-insensitively (long s, Kelvin sign)
        ("GET /x?\u017fession_id=SECRET1 HTTP/1.1", ["SECRET1"]),
        ("X-Internal-To\u212aen: SECRET2", ["SECRET2"]),
        # one pattern's mask must not hide the words another one needs
        ("GET /x?session_id=abc then cs_live_SECRET3 and whsec_SECRET4", ["SECRET3", "SECRET4"]),
        ("TOKEN=SECRET5 and Authorization: Basic SECRET6", ["SECRET5", "SECRET6"]),
    ],
)
def test_redact_masks_what_only_the_full_patterns_find(text: str, secrets: list[str]) -> None:
    masked = redact(text)
    assert [s for s in secrets if s in masked] == []
