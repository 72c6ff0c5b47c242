"""Logging for every entrypoint: JSON lines or readable text, a request id, no secrets.

:func:`configure_logging` installs one handler on the root logger. Every record
gets ``request_id`` from :data:`REQUEST_ID` (the context variable that the HTTP
request-id middleware sets; ``-`` outside a request) and goes through :class:`RedactingFilter`,
which masks whatever looks like a secret: activation tokens in ``start=`` and
``token=`` query strings, checkout session ids (``session_id=`` values, the
sandbox checkout page path, Stripe's ``cs_live_...``/``cs_test_...`` ids: a
session id shows the unused activation link on the success page),
``X-Internal-Token`` and ``Authorization`` values, Stripe keys (``sk_...``,
``rk_...``, ``whsec_...``). Uvicorn is started without its own logging
configuration, so its access log passes the same filter and never prints an
``/activate?token=`` or ``?session_id=`` value. Uvicorn's ``color_message``
extra (the same text with ANSI colours) is dropped from every record.

The one documented exception is the console mailer's logger ``accessgate.mail``:
writing the email (with its link or code) to the log is its whole purpose in
development; production refuses the console mailer.
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec

from accessgate.config import ConfigError, Settings

# The request id of the record being logged: the HTTP request-id middleware (and
# later the bot) set it while a request is handled. It lives here, not in the
# HTTP package, so that every entrypoint shares it without importing another.
REQUEST_ID: ContextVar[str | None] = ContextVar("accessgate_request_id", default=None)
UNREDACTED_LOGGERS = ("accessgate.mail",)
MASK = "[REDACTED]"

# Each pattern with the lower-case words of which one must occur for it to match
# (``None``: always tried). On ASCII text the words are looked up first, and a
# pattern runs only when one is there: a log line usually holds none of them.
_PATTERNS: tuple[tuple[re.Pattern[str], str, tuple[str, ...] | None], ...] = (
    # The bot's webhook path holds TELEGRAM_WEBHOOK_SECRET; a Bot API URL holds the bot token.
    (re.compile(r"(/tg/webhook/)[^\s\"'?]+"), rf"\1{MASK}", ("/tg/webhook/",)),
    (re.compile(r"\b(bot)?\d{5,}:[A-Za-z0-9_-]{30,}"), rf"\1{MASK}", None),
    (
        re.compile(
            r"(?i)(\b(?:start|token|activation_token|otp|password|access_token|secret|session_id|sig)=)"
            r"[^&\s\"'<>]+"
        ),
        rf"\1{MASK}",
        ("start=", "token=", "otp=", "password=", "secret=", "session_id=", "sig="),
    ),
    (
        re.compile(
            r"(?i)(\b(?:x-internal-token|authorization)"
            r"[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic)\s+)?[^\s\"',;}]+"
        ),
        rf"\1{MASK}",
        ("x-internal-token", "authorization"),
    ),
    # A signature header's value is a comma-separated list (``t=...,v1=...``): all of it.
    (
        re.compile(
            r"(?i)(\b(?:stripe-signature|accessgate-signature)[\"']?\s*[:=]\s*[\"']?)"
            r"[^\s\"';}]+"
        ),
        rf"\1{MASK}",
        ("stripe-signature", "accessgate-signature"),
    ),
    (
        re.compile(
            r"(?i)([\"'](?:activation_token|otp|password|session_id)[\"']\s*:\s*[\"'])[^\"']*"
        ),
        rf"\1{MASK}",
        tuple(
            q + key for q in "\"'" for key in ("activation_token", "otp", "password", "session_id")
        ),
    ),
    (re.compile(r"(/sandbox/checkout/)[^/?#\s\"'<>]+"), rf"\1{MASK}", ("/sandbox/checkout/",)),
    (re.compile(r"\bcs_(?:live|test|sandbox|memory)_[A-Za-z0-9_-]+"), MASK, ("cs_",)),
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]+"), MASK, ("k_live_", "k_test_")),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), MASK, ("whsec_",)),
)
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn's copy of the message with ANSI colours
}


def redact(text: str) -> str:
    """``text`` with every secret-looking value replaced by ``[REDACTED]``."""
    # Case-insensitive patterns also match a few non-ASCII letters (the Kelvin
    # sign for k, a long s for s): only ASCII text is safe to look up lowered.
    lowered = text.lower() if text.isascii() else None
    for pattern, replacement, words in _PATTERNS:
        if lowered is None or words is None or any(word in lowered for word in words):
            masked = pattern.sub(replacement, text)
            if masked is not text and lowered is not None:
                lowered = masked.lower()
            text = masked
    return text


class RedactingFilter(logging.Filter):
    """Adds the request id and masks secrets in the message and the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place; never drops it."""
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        record.__dict__.pop("color_message", None)
        if record.name.startswith(UNREDACTED_LOGGERS):
            return True
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_JSON = msgspec.json.Encoder(enc_hook=str)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get() or "-",
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return _JSON.encode(entry).decode()


FRAMEWORK_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


def wants_json(settings: Settings) -> bool:
    """JSON when ``LOG_FORMAT=json``, or ``auto`` in production; text otherwise."""
    if settings.service.log_format == "auto":
        return settings.is_production
    return settings.service.log_format == "json"


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Install the one root handler (replacing any other) and return it.

    The framework loggers (uvicorn, litestar) lose their own handlers and
    propagate to it, so every record is formatted and redacted alike. Call it
    again after building a Litestar app that configured logging itself.

    Raises:
        ConfigError: when ``LOG_LEVEL`` names no level.

    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        JsonFormatter() if wants_json(settings) else logging.Formatter(TEXT_FORMAT)
    )
    level = logging.getLevelName(settings.service.log_level.upper())
    if not isinstance(level, int):
        raise ConfigError("LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("alembic.runtime.plugins", "alembic.runtime.migration"):  # chatter at start
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in FRAMEWORK_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
