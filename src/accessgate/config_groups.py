"""The core settings groups, one per concern, each with its safe defaults.

Every field is read from the environment variable named like it in upper case
(``settings.mail.smtp_host`` <- ``SMTP_HOST``): grouping changed no variable
name. Each group is a :class:`~accessgate.support.redaction.SettingsGroup`, so
``repr`` masks its secrets. :class:`accessgate.config.Settings` holds one of
each, plus each payment provider's and access target's own group.
"""

from __future__ import annotations

from typing import Literal

from accessgate.support.redaction import SettingsGroup

DEV_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105 - refused in production
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./accessgate.db"


class ServiceSettings(SettingsGroup, frozen=True, kw_only=True):
    """The service itself: environment, public URL, signing key, logs, proxies, HTTP timeouts."""

    accessgate_env: Literal["development", "production", "test"] = "development"
    app_public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEV_SECRET_KEY
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    default_locale: Literal["ru", "en"] = "en"
    metrics_enabled: bool = True
    trusted_proxies: tuple[str, ...] = ()
    http_header_timeout: float = 15.0
    http_body_timeout: float = 30.0
    http_shutdown_timeout: float = 10.0
    # asyncio's own loop: uvloop answered a few percent more requests of a bare
    # endpoint but let some requests of a CPU-bound one wait 20x the median
    # (docs/performance.md); fair turns are worth more than the last percent.
    http_event_loop: Literal["asyncio", "uvloop"] = "asyncio"

    @property
    def is_production(self) -> bool:
        """Whether ``ACCESSGATE_ENV=production``."""
        return self.accessgate_env == "production"


class StorageSettings(SettingsGroup, frozen=True, kw_only=True):
    """The database (``DATABASE_*``)."""

    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = 10
    database_max_overflow: int = 10
    database_auto_migrate: bool | None = None
    database_group_commit: bool = True


class CatalogueSettings(SettingsGroup, frozen=True, kw_only=True):
    """The plan catalogue: a TOML file, or seed 002's two plans made from these values."""

    plans_file: str | None = None
    plan_currency: str = "USD"
    plan_one_time_basic_amount: int = 1900
    plan_sub_monthly_amount: int = 900
    plan_sub_monthly_days: int = 30
    subscription_grace_days: int = 3
    # The Stripe price ids of the two default plans (their ``provider_refs``).
    stripe_price_one_time_basic: str | None = None
    stripe_price_sub_monthly: str | None = None


class PaymentSettings(SettingsGroup, frozen=True, kw_only=True):
    """Which providers are live (the default first) and how payments are followed up."""

    payment_providers: tuple[str, ...] = ("sandbox",)
    payment_status_lookup_interval: float = 5.0
    customer_portal_mode: Literal["email", "direct"] = "email"


class AccessSettings(SettingsGroup, frozen=True, kw_only=True):
    """Activation tokens and the restore codes (``OTP_*``, ``RESTORE_MAX_CODES_PER_DAY``)."""

    activation_token_ttl_days: int = 30
    otp_ttl_minutes: int = 10
    otp_max_attempts: int = 5
    otp_cooldown_seconds: int = 60
    restore_max_codes_per_day: int = 5


class MailSettings(SettingsGroup, frozen=True, kw_only=True):
    """The SMTP mailer (none: the console mailer) and the mail templates."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True
    smtp_timeout: float = 10.0
    mail_templates_dir: str | None = None


class RelaySettings(SettingsGroup, frozen=True, kw_only=True):
    """The tracking relays: Meta Conversions API and the MobiSlon postback."""

    meta_pixel_id: str | None = None
    meta_access_token: str | None = None
    meta_graph_api_version: str = "v18.0"
    meta_graph_api_base: str = "https://graph.facebook.com"
    meta_test_event_code: str | None = None
    mobislon_postback_url: str | None = None
    mobislon_method: Literal["GET", "POST"] = "GET"

    @property
    def meta_enabled(self) -> bool:
        """Whether the Conversions API relay is configured."""
        return bool(self.meta_pixel_id and self.meta_access_token)

    @property
    def mobislon_enabled(self) -> bool:
        """Whether the MobiSlon postback relay is configured."""
        return bool(self.mobislon_postback_url)


class OutboxSettings(SettingsGroup, frozen=True, kw_only=True):
    """The outbox worker: attempts per message, polling and batch size."""

    outbox_max_attempts: int = 12
    outbox_poll_interval: float = 1.0
    outbox_batch_size: int = 100


class LimitSettings(SettingsGroup, frozen=True, kw_only=True):
    """Rate limits (shared through Redis when ``REDIS_URL`` is set)."""

    rate_limit_enabled: bool = True
    rate_limit_requests: int = 30
    rate_limit_window: int = 60
    restore_rate_limit_requests: int = 5
    redis_url: str | None = None


class BotSettings(SettingsGroup, frozen=True, kw_only=True):
    """The Telegram bot and the internal API it calls."""

    telegram_bot_token: str | None = None
    telegram_bot_username: str | None = None
    telegram_api_base: str | None = None
    bot_mode: Literal["polling", "webhook"] = "polling"
    bot_pay_url: str | None = None
    telegram_webhook_secret: str | None = None
    internal_api_token: str | None = None
    # The accessgate service the bot calls over HTTP (``/api/bot/*`` with
    # INTERNAL_API_TOKEN) when it runs as its own service; unset: in-process.
    bot_access_api_url: str | None = None
