"""Settings read from the environment, validated once at start-up.

Every setting is an environment variable named like the field in upper case
(``rate_limit_requests`` <- ``RATE_LIMIT_REQUESTS``). :func:`load_settings`
reads them all, converts and checks them, and raises :class:`ConfigError` with
one line naming the variable at fault. Nothing here runs at import time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

import msgspec

DEV_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105 - refused in production
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./accessgate.db"


class ConfigError(Exception):
    """A missing, malformed or contradictory setting; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every setting of the service, with its safe default."""

    accessgate_env: Literal["development", "production", "test"] = "development"
    app_public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEV_SECRET_KEY
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"

    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = 10
    database_max_overflow: int = 10
    database_auto_migrate: bool | None = None

    payment_provider: Literal["sandbox", "stripe"] = "sandbox"
    sandbox_webhook_secret: str = "sandbox-webhook-secret"  # noqa: S105 - sandbox only
    stripe_secret_key: str | None = None
    stripe_webhook_secret: tuple[str, ...] = ()
    stripe_price_one_time_basic: str | None = None
    stripe_price_sub_monthly: str | None = None
    stripe_api_base: str | None = None
    stripe_webhook_tolerance: int = 300
    stripe_timeout: float = 20.0
    stripe_max_network_retries: int = 2
    payment_status_lookup_interval: float = 5.0

    plan_currency: str = "USD"
    plan_one_time_basic_amount: int = 1900
    plan_sub_monthly_amount: int = 900
    plan_sub_monthly_days: int = 30
    subscription_grace_days: int = 3
    activation_token_ttl_days: int = 30
    otp_ttl_minutes: int = 10
    otp_max_attempts: int = 5
    otp_cooldown_seconds: int = 60
    restore_max_codes_per_day: int = 5
    customer_portal_mode: Literal["email", "direct"] = "email"
    default_locale: Literal["ru", "en"] = "en"

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True
    smtp_timeout: float = 10.0
    mail_templates_dir: str | None = None

    meta_pixel_id: str | None = None
    meta_access_token: str | None = None
    meta_graph_api_version: str = "v18.0"
    meta_graph_api_base: str = "https://graph.facebook.com"
    meta_test_event_code: str | None = None
    mobislon_postback_url: str | None = None
    mobislon_method: Literal["GET", "POST"] = "GET"

    outbox_max_attempts: int = 12
    outbox_poll_interval: float = 1.0
    outbox_batch_size: int = 100

    internal_api_token: str | None = None
    rate_limit_enabled: bool = True
    rate_limit_requests: int = 30
    rate_limit_window: int = 60
    restore_rate_limit_requests: int = 5
    redis_url: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    http_header_timeout: float = 15.0
    http_body_timeout: float = 30.0
    http_shutdown_timeout: float = 10.0

    telegram_bot_token: str | None = None
    telegram_bot_username: str | None = None
    telegram_api_base: str | None = None
    bot_mode: Literal["polling", "webhook"] = "polling"
    bot_pay_url: str | None = None
    telegram_webhook_secret: str | None = None

    @property
    def is_production(self) -> bool:
        """Whether ``ACCESSGATE_ENV=production``."""
        return self.accessgate_env == "production"

    @property
    def meta_enabled(self) -> bool:
        """Whether the Conversions API relay is configured."""
        return bool(self.meta_pixel_id and self.meta_access_token)

    @property
    def mobislon_enabled(self) -> bool:
        """Whether the MobiSlon postback relay is configured."""
        return bool(self.mobislon_postback_url)

    @property
    def pay_url(self) -> str:
        """Where the bot's pay button points."""
        return self.bot_pay_url or f"{self.app_public_base_url.rstrip('/')}/pay"


_LIST_FIELDS = {"stripe_webhook_secret", "trusted_proxies"}
_FIELD_RE = re.compile(r"`\$\.(\w+)`")


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read, convert and check the settings; raises ConfigError naming the variable."""
    raw: dict[str, object] = {}
    for name in Settings.__struct_fields__:
        value = environ.get(name.upper())
        if value is None or value.strip() == "":
            continue
        value = value.strip()
        raw[name] = (
            [v.strip() for v in value.split(",") if v.strip()] if name in _LIST_FIELDS else value
        )
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        match = _FIELD_RE.search(str(error))
        variable = match.group(1).upper() if match else "?"
        raise ConfigError(f"{variable}: {str(error).split(' - at ')[0]}") from None
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    """Reject contradictory settings with one line naming the variable."""
    rules: list[tuple[bool, str]] = [
        (len(settings.secret_key.encode()) < 16, "SECRET_KEY must be at least 16 bytes"),
        (
            settings.payment_provider == "stripe" and not settings.stripe_secret_key,
            "STRIPE_SECRET_KEY is required when PAYMENT_PROVIDER=stripe",
        ),
        (
            settings.payment_provider == "stripe" and not settings.stripe_webhook_secret,
            "STRIPE_WEBHOOK_SECRET is required when PAYMENT_PROVIDER=stripe",
        ),
        (
            settings.payment_provider == "stripe"
            and not (settings.stripe_price_one_time_basic and settings.stripe_price_sub_monthly),
            "STRIPE_PRICE_ONE_TIME_BASIC and STRIPE_PRICE_SUB_MONTHLY are required "
            "when PAYMENT_PROVIDER=stripe",
        ),
        (settings.stripe_webhook_tolerance <= 0, "STRIPE_WEBHOOK_TOLERANCE must be positive"),
        (
            settings.payment_status_lookup_interval < 0,
            "PAYMENT_STATUS_LOOKUP_INTERVAL must not be negative",
        ),
        (
            bool(settings.meta_pixel_id) != bool(settings.meta_access_token),
            "META_PIXEL_ID and META_ACCESS_TOKEN must be set together",
        ),
        (
            bool(settings.mobislon_postback_url)
            and not (
                "{clickid}" in (settings.mobislon_postback_url or "")
                and "{status}" in (settings.mobislon_postback_url or "")
            ),
            "MOBISLON_POSTBACK_URL must contain {clickid} and {status}",
        ),
        (
            bool(settings.mobislon_postback_url)
            and not (settings.mobislon_postback_url or "")
            .lower()
            .startswith(("http://", "https://")),
            "MOBISLON_POSTBACK_URL must start with http:// or https://",
        ),
        (settings.rate_limit_requests <= 0, "RATE_LIMIT_REQUESTS must be positive"),
        (settings.rate_limit_window <= 0, "RATE_LIMIT_WINDOW must be positive"),
        (settings.http_header_timeout <= 0, "HTTP_HEADER_TIMEOUT must be positive"),
        (settings.http_body_timeout <= 0, "HTTP_BODY_TIMEOUT must be positive"),
        (settings.http_shutdown_timeout <= 0, "HTTP_SHUTDOWN_TIMEOUT must be positive"),
        (settings.otp_max_attempts <= 0, "OTP_MAX_ATTEMPTS must be positive"),
        (settings.restore_max_codes_per_day <= 0, "RESTORE_MAX_CODES_PER_DAY must be positive"),
        (
            settings.restore_rate_limit_requests <= 0,
            "RESTORE_RATE_LIMIT_REQUESTS must be positive",
        ),
        (settings.outbox_max_attempts <= 0, "OUTBOX_MAX_ATTEMPTS must be positive"),
        (
            not settings.app_public_base_url.startswith(("http://", "https://")),
            "APP_PUBLIC_BASE_URL must start with http:// or https://",
        ),
        (
            bool(settings.smtp_host) and not (settings.smtp_from or settings.smtp_username),
            "SMTP_FROM (or SMTP_USERNAME) is required when SMTP_HOST is set",
        ),
    ]
    if settings.is_production:
        rules += [
            (settings.secret_key == DEV_SECRET_KEY, "SECRET_KEY must be set in production"),
            (
                settings.payment_provider == "sandbox",
                "PAYMENT_PROVIDER=sandbox is refused when ACCESSGATE_ENV=production",
            ),
            (
                not settings.smtp_host,
                "SMTP_HOST is required in production (the console mailer is for development)",
            ),
            (
                bool(settings.meta_test_event_code),
                "META_TEST_EVENT_CODE is refused when ACCESSGATE_ENV=production",
            ),
        ]
    for broken, message in rules:
        if broken:
            raise ConfigError(message)
