"""Settings read from the environment, validated once at start-up.

Every setting is an environment variable named like the field in upper case
(``rate_limit_requests`` <- ``RATE_LIMIT_REQUESTS``). :func:`load_settings`
reads them all, converts and checks them, and raises :class:`ConfigError` with
one line naming the variable at fault. Nothing here runs at import time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from accessgate import plugins
from accessgate.support.redaction import MASK, SettingsGroup, is_secret_name

DEV_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105 - refused in production
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./accessgate.db"


class ConfigError(Exception):
    """A missing, malformed or contradictory setting; the message names the variable."""


class Settings(SettingsGroup, frozen=True, kw_only=True):
    """Every setting of the service, with its safe default (``repr`` masks the secrets)."""

    accessgate_env: Literal["development", "production", "test"] = "development"
    app_public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEV_SECRET_KEY
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    metrics_enabled: bool = True

    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = 10
    database_max_overflow: int = 10
    database_auto_migrate: bool | None = None

    # The live providers, the default first; each one's own settings group (read
    # with its prefix, e.g. STRIPE_*) is in ``provider_settings`` by name.
    payment_providers: tuple[str, ...] = ("sandbox",)
    provider_settings: dict[str, Any] = msgspec.field(default_factory=dict)
    stripe_price_one_time_basic: str | None = None
    stripe_price_sub_monthly: str | None = None
    payment_status_lookup_interval: float = 5.0

    plans_file: str | None = None
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

    # Access targets: the signed webhook to the shop's own backend.
    access_webhook_url: str | None = None
    access_webhook_secret: str | None = None
    access_webhook_include_email: bool = False
    access_webhook_timeout: float = 10.0

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


_LIST_FIELDS = {"payment_providers", "trusted_proxies"}
_NOT_FROM_ENVIRONMENT = {"provider_settings"}
_FIELD_RE = re.compile(r"`\$\.(\w+)`")


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read, convert and check the settings; raises ConfigError naming the variable."""
    raw: dict[str, object] = {}
    environ = _legacy_provider(environ)
    for name in Settings.__struct_fields__:
        value = None if name in _NOT_FROM_ENVIRONMENT else environ.get(name.upper())
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
        message = f"{variable}: {str(error).split(' - at ')[0]}"
        raise ConfigError(_scrub(message, environ)) from None
    try:
        settings = msgspec.structs.replace(
            settings, provider_settings=read_provider_settings(settings.payment_providers, environ)
        )
        check_settings(settings)
    except ConfigError as error:
        raise ConfigError(_scrub(str(error), environ)) from None
    return settings


def _legacy_provider(environ: Mapping[str, str]) -> Mapping[str, str]:
    """``PAYMENT_PROVIDER`` (seed 002) as a one-item ``PAYMENT_PROVIDERS``; both is an error."""
    legacy = (environ.get("PAYMENT_PROVIDER") or "").strip()
    if not legacy:
        return environ
    if (environ.get("PAYMENT_PROVIDERS") or "").strip():
        raise ConfigError("PAYMENT_PROVIDER and PAYMENT_PROVIDERS are both set; keep one")
    if "," in legacy:
        raise ConfigError("PAYMENT_PROVIDER names one provider; list several in PAYMENT_PROVIDERS")
    return {**environ, "PAYMENT_PROVIDERS": legacy}


def read_provider_settings(names: tuple[str, ...], environ: Mapping[str, str]) -> dict[str, Any]:
    """Each listed provider's settings group, read with its prefix; ConfigError naming it.

    Only the listed providers' plug-ins are loaded (their entry points).
    """
    if not names:
        raise ConfigError("PAYMENT_PROVIDERS must name at least one payment provider")
    if len(set(names)) != len(names):
        raise ConfigError("PAYMENT_PROVIDERS names a provider twice")
    groups: dict[str, Any] = {}
    for name in names:
        try:
            plugin = plugins.load(name)
        except plugins.PluginError as error:
            raise ConfigError(f"PAYMENT_PROVIDERS: {error}") from None
        except ImportError as error:
            package = (error.name or "?").split(".")[0]
            raise ConfigError(
                f"PAYMENT_PROVIDERS: provider {name!r} needs the Python package {package!r}"
            ) from None
        try:
            groups[name] = plugins.read_group(plugin, environ)
        except plugins.PluginError as error:
            raise ConfigError(str(error)) from None
    return groups


def _scrub(message: str, environ: Mapping[str, str]) -> str:
    """``message`` with every secret value (and URL password) of ``environ`` masked.

    Secrets are the variables named like one (``*_KEY``, ``*_SECRET``, ``*_TOKEN``,
    ``*_PASSWORD``...: every settings group's, providers' included), each item of
    a comma-separated list, and the password of any URL.
    """
    secrets: set[str] = set()
    for name, value in environ.items():
        for item in {value, *value.split(",")}:
            text = item.strip()
            secret = text if is_secret_name(name) else _url_password(text)
            if secret and len(secret) >= 6:  # shorter ones would garble the message
                secrets.add(secret)
    for secret in sorted(secrets, key=len, reverse=True):
        message = message.replace(secret, MASK)
    return message


def _url_password(value: str) -> str | None:
    try:
        return urlsplit(value).password if "@" in value else None
    except ValueError:
        return None


def check_settings(settings: Settings) -> None:
    """Reject contradictory settings with one line naming the variable."""
    rules: list[tuple[bool, str]] = [
        (len(settings.secret_key.encode()) < 16, "SECRET_KEY must be at least 16 bytes"),
        (
            "stripe" in settings.payment_providers
            and not settings.plans_file  # a catalogue file names its own Stripe prices
            and not (settings.stripe_price_one_time_basic and settings.stripe_price_sub_monthly),
            "STRIPE_PRICE_ONE_TIME_BASIC and STRIPE_PRICE_SUB_MONTHLY are required "
            "when PAYMENT_PROVIDERS lists stripe",
        ),
        (
            settings.payment_status_lookup_interval < 0,
            "PAYMENT_STATUS_LOOKUP_INTERVAL must not be negative",
        ),
        (
            bool(settings.meta_pixel_id) != bool(settings.meta_access_token),
            "META_PIXEL_ID and META_ACCESS_TOKEN must be set together",
        ),
        (
            bool(settings.access_webhook_url) != bool(settings.access_webhook_secret),
            "ACCESS_WEBHOOK_URL and ACCESS_WEBHOOK_SECRET must be set together",
        ),
        (settings.access_webhook_timeout <= 0, "ACCESS_WEBHOOK_TIMEOUT must be positive"),
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
                "sandbox" in settings.payment_providers,
                "PAYMENT_PROVIDER=sandbox is refused when ACCESSGATE_ENV=production "
                "(take sandbox out of PAYMENT_PROVIDERS)",
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
