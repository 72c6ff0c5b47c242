"""Settings read from the environment, validated once at start-up.

Settings are grouped by concern (``settings.service``, ``storage``,
``catalogue``, ``payments``, ``access``, ``mail``, ``relays``, ``outbox``,
``limits``, ``bot``: :mod:`accessgate.config_groups`), plus each payment
provider's and access target's own group. Every setting is an environment
variable named like its field in upper case (``settings.limits.rate_limit_requests``
<- ``RATE_LIMIT_REQUESTS``). :func:`load_settings` reads them all, converts and
checks them, and raises :class:`ConfigError` with one line naming the variable
at fault. Nothing here runs at import time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

from accessgate import plugins
from accessgate.config_groups import (
    DEFAULT_DATABASE_URL,
    DEV_SECRET_KEY,
    AccessSettings,
    BotSettings,
    CatalogueSettings,
    LimitSettings,
    MailSettings,
    OutboxSettings,
    PaymentSettings,
    RelaySettings,
    ServiceSettings,
    StorageSettings,
)
from accessgate.support.redaction import MASK, SettingsGroup, is_secret_name

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEV_SECRET_KEY",
    "AccessSettings",
    "BotSettings",
    "CatalogueSettings",
    "ConfigError",
    "LimitSettings",
    "MailSettings",
    "OutboxSettings",
    "PaymentSettings",
    "RelaySettings",
    "ServiceSettings",
    "Settings",
    "StorageSettings",
    "check_settings",
    "load_settings",
    "read_provider_settings",
    "read_target_settings",
]


class ConfigError(Exception):
    """A missing, malformed or contradictory setting; the message names the variable."""


class Settings(SettingsGroup, frozen=True, kw_only=True):
    """Every setting of the service, grouped by concern (``repr`` masks the secrets)."""

    service: ServiceSettings = msgspec.field(default_factory=ServiceSettings)
    storage: StorageSettings = msgspec.field(default_factory=StorageSettings)
    catalogue: CatalogueSettings = msgspec.field(default_factory=CatalogueSettings)
    payments: PaymentSettings = msgspec.field(default_factory=PaymentSettings)
    access: AccessSettings = msgspec.field(default_factory=AccessSettings)
    mail: MailSettings = msgspec.field(default_factory=MailSettings)
    relays: RelaySettings = msgspec.field(default_factory=RelaySettings)
    outbox: OutboxSettings = msgspec.field(default_factory=OutboxSettings)
    limits: LimitSettings = msgspec.field(default_factory=LimitSettings)
    bot: BotSettings = msgspec.field(default_factory=BotSettings)

    # Each live provider's own settings group (read with its prefix, e.g.
    # STRIPE_*) by name, in the order of PAYMENT_PROVIDERS.
    provider_settings: dict[str, Any] = msgspec.field(default_factory=dict)

    # The access targets (ACCESS_TARGETS; none by default) and each one's own
    # settings group (read with its prefix, e.g. ACCESS_WEBHOOK_*) by name.
    access_targets: tuple[str, ...] = ()
    target_settings: dict[str, Any] = msgspec.field(default_factory=dict)

    @classmethod
    def for_tests(cls, **fields: Any) -> Settings:
        """Settings from defaults and ``fields``, each named like its variable in lower case.

        ``Settings.for_tests(smtp_host="mail.test", rate_limit_requests=3)`` puts
        each value into its group; a top-level field (``provider_settings``, a
        whole group) is taken as is. Values are not converted nor checked (that
        is :func:`load_settings`'s job).

        Raises:
            TypeError: a name that is no setting.

        """
        top: dict[str, Any] = {}
        grouped: dict[str, dict[str, Any]] = {}
        for name, value in fields.items():
            group = _GROUP_OF.get(name)
            if group is not None:
                grouped.setdefault(group, {})[name] = value
            elif name in cls.__struct_fields__:
                top[name] = value
            else:
                raise TypeError(f"no setting named {name!r}")
        for group, values in grouped.items():
            top[group] = msgspec.structs.replace(top.get(group) or _GROUPS[group](), **values)
        return cls(**top)

    @property
    def is_production(self) -> bool:
        """Whether ``ACCESSGATE_ENV=production``."""
        return self.service.is_production

    @property
    def pay_url(self) -> str:
        """Where the bot's pay button points."""
        return self.bot.bot_pay_url or f"{self.service.app_public_base_url.rstrip('/')}/pay"


# The core groups by field name, and the group of each of their fields.
_GROUPS: dict[str, type[SettingsGroup]] = {
    field.name: field.type
    for field in msgspec.structs.fields(Settings)
    if isinstance(field.type, type) and issubclass(field.type, SettingsGroup)
}
_GROUP_OF = {name: group for group, kind in _GROUPS.items() for name in kind.__struct_fields__}
_LIST_FIELDS = {"payment_providers", "trusted_proxies", "access_targets"}
_NOT_FROM_ENVIRONMENT = {"provider_settings", "target_settings"}
_FIELD_RE = re.compile(r"`\$\.([\w.]+)`")


def _raw_fields(names: tuple[str, ...], environ: Mapping[str, str]) -> dict[str, object]:
    """The set variables of the fields ``names`` (blank is unset; lists split at commas)."""
    raw: dict[str, object] = {}
    for name in names:
        value = None if name in _NOT_FROM_ENVIRONMENT else environ.get(name.upper())
        if value is None or value.strip() == "":
            continue
        value = value.strip()
        raw[name] = (
            [v.strip() for v in value.split(",") if v.strip()] if name in _LIST_FIELDS else value
        )
    return raw


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read, convert and check the settings; raises ConfigError naming the variable."""
    environ = _legacy_target(_legacy_provider(environ))
    top = tuple(name for name in Settings.__struct_fields__ if name not in _GROUPS)
    raw = _raw_fields(top, environ)
    for group, kind in _GROUPS.items():
        raw[group] = _raw_fields(kind.__struct_fields__, environ)
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        match = _FIELD_RE.search(str(error))
        variable = match.group(1).rsplit(".", 1)[-1].upper() if match else "?"
        message = f"{variable}: {str(error).split(' - at ')[0]}"
        raise ConfigError(_scrub(message, environ)) from None
    try:
        settings = msgspec.structs.replace(
            settings,
            provider_settings=read_provider_settings(settings.payments.payment_providers, environ),
            target_settings=read_target_settings(settings.access_targets, environ),
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


def _legacy_target(environ: Mapping[str, str]) -> Mapping[str, str]:
    """Without ``ACCESS_TARGETS``, ``ACCESS_WEBHOOK_URL`` (or its secret) turns on ``access_webhook``, as before."""
    if (environ.get("ACCESS_TARGETS") or "").strip():
        return environ
    if any((environ.get(n) or "").strip() for n in ("ACCESS_WEBHOOK_URL", "ACCESS_WEBHOOK_SECRET")):
        return {**environ, "ACCESS_TARGETS": "access_webhook"}
    return environ


def read_target_settings(names: tuple[str, ...], environ: Mapping[str, str]) -> dict[str, Any]:
    """Each listed access target's settings group, read with its prefix; ConfigError naming it.

    Only the listed targets' plug-ins are loaded (entry-point group
    ``accessgate.access_targets``).
    """
    return _read_plugin_groups(names, environ, "ACCESS_TARGETS", "target", plugins.load_target)


def read_provider_settings(names: tuple[str, ...], environ: Mapping[str, str]) -> dict[str, Any]:
    """Each listed provider's settings group, read with its prefix; ConfigError naming it.

    Only the listed providers' plug-ins are loaded (their entry points).
    """
    if not names:
        raise ConfigError("PAYMENT_PROVIDERS must name at least one payment provider")
    return _read_plugin_groups(names, environ, "PAYMENT_PROVIDERS", "provider", plugins.load)


def _read_plugin_groups(
    names: tuple[str, ...],
    environ: Mapping[str, str],
    variable: str,
    kind: str,
    load: Callable[[str], Any],
) -> dict[str, Any]:
    """The settings group of each plug-in ``variable`` lists; ConfigError naming the variable."""
    if len(set(names)) != len(names):
        raise ConfigError(f"{variable} names a {kind} twice")
    groups: dict[str, Any] = {}
    for name in names:
        try:
            plugin = load(name)
        except plugins.PluginError as error:
            raise ConfigError(f"{variable}: {error}") from None
        except ImportError as error:
            package = (error.name or "?").split(".")[0]
            raise ConfigError(
                f"{variable}: {kind} {name!r} needs the Python package {package!r}"
            ) from None
        try:
            groups[name] = plugins.read_group(plugin, environ, listed_in=variable)
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


_WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def bot_rules(bot: BotSettings) -> list[tuple[bool, str]]:
    """The rules of the bot group: webhook mode needs its token and secret (Telegram's alphabet)."""
    webhook = bot.bot_mode == "webhook"
    secret = bot.telegram_webhook_secret
    url = bot.bot_access_api_url or ""
    return [
        (webhook and not secret, "TELEGRAM_WEBHOOK_SECRET is required when BOT_MODE=webhook"),
        (
            webhook and not bot.telegram_bot_token,
            "TELEGRAM_BOT_TOKEN is required when BOT_MODE=webhook",
        ),
        (
            bool(secret) and not _WEBHOOK_SECRET_RE.fullmatch(secret or ""),
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -",
        ),
        (
            bool(url) and not url.lower().startswith(("http://", "https://")),
            "BOT_ACCESS_API_URL must start with http:// or https://",
        ),
        (
            bool(url) and not bot.internal_api_token,
            "INTERNAL_API_TOKEN is required when BOT_ACCESS_API_URL is set",
        ),
        (
            bool(bot.telegram_api_base)
            and not (bot.telegram_api_base or "").lower().startswith(("http://", "https://")),
            "TELEGRAM_API_BASE must start with http:// or https://",
        ),
    ]


def check_settings(settings: Settings) -> None:
    """Reject contradictory settings with one line naming the variable."""
    service, payments, catalogue = settings.service, settings.payments, settings.catalogue
    relays, limits, mail = settings.relays, settings.limits, settings.mail
    rules: list[tuple[bool, str]] = [
        (len(service.secret_key.encode()) < 16, "SECRET_KEY must be at least 16 bytes"),
        (
            "stripe" in payments.payment_providers
            and not catalogue.plans_file  # a catalogue file names its own Stripe prices
            and not (catalogue.stripe_price_one_time_basic and catalogue.stripe_price_sub_monthly),
            "STRIPE_PRICE_ONE_TIME_BASIC and STRIPE_PRICE_SUB_MONTHLY are required "
            "when PAYMENT_PROVIDERS lists stripe",
        ),
        (
            payments.payment_status_lookup_interval < 0,
            "PAYMENT_STATUS_LOOKUP_INTERVAL must not be negative",
        ),
        (
            bool(relays.meta_pixel_id) != bool(relays.meta_access_token),
            "META_PIXEL_ID and META_ACCESS_TOKEN must be set together",
        ),
        (
            bool(relays.mobislon_postback_url)
            and not (
                "{clickid}" in (relays.mobislon_postback_url or "")
                and "{status}" in (relays.mobislon_postback_url or "")
            ),
            "MOBISLON_POSTBACK_URL must contain {clickid} and {status}",
        ),
        (
            bool(relays.mobislon_postback_url)
            and not (relays.mobislon_postback_url or "")
            .lower()
            .startswith(("http://", "https://")),
            "MOBISLON_POSTBACK_URL must start with http:// or https://",
        ),
        (limits.rate_limit_requests <= 0, "RATE_LIMIT_REQUESTS must be positive"),
        (limits.rate_limit_window <= 0, "RATE_LIMIT_WINDOW must be positive"),
        (service.http_header_timeout <= 0, "HTTP_HEADER_TIMEOUT must be positive"),
        (service.http_body_timeout <= 0, "HTTP_BODY_TIMEOUT must be positive"),
        (service.http_shutdown_timeout <= 0, "HTTP_SHUTDOWN_TIMEOUT must be positive"),
        (settings.access.otp_max_attempts <= 0, "OTP_MAX_ATTEMPTS must be positive"),
        (
            settings.access.restore_max_codes_per_day <= 0,
            "RESTORE_MAX_CODES_PER_DAY must be positive",
        ),
        (
            limits.restore_rate_limit_requests <= 0,
            "RESTORE_RATE_LIMIT_REQUESTS must be positive",
        ),
        (settings.outbox.outbox_max_attempts <= 0, "OUTBOX_MAX_ATTEMPTS must be positive"),
        (
            not service.app_public_base_url.startswith(("http://", "https://")),
            "APP_PUBLIC_BASE_URL must start with http:// or https://",
        ),
        (
            bool(mail.smtp_host) and not (mail.smtp_from or mail.smtp_username),
            "SMTP_FROM (or SMTP_USERNAME) is required when SMTP_HOST is set",
        ),
        *bot_rules(settings.bot),
    ]
    if service.is_production:
        rules += [
            (service.secret_key == DEV_SECRET_KEY, "SECRET_KEY must be set in production"),
            (
                "sandbox" in payments.payment_providers,
                "PAYMENT_PROVIDER=sandbox is refused when ACCESSGATE_ENV=production "
                "(take sandbox out of PAYMENT_PROVIDERS)",
            ),
            (
                not mail.smtp_host,
                "SMTP_HOST is required in production (the console mailer is for development)",
            ),
            (
                bool(relays.meta_test_event_code),
                "META_TEST_EVENT_CODE is refused when ACCESSGATE_ENV=production",
            ),
        ]
    for broken, message in rules:
        if broken:
            raise ConfigError(message)
