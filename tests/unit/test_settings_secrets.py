"""No secret of the settings is shown by repr, str, rich or a configuration error."""

from __future__ import annotations

from typing import ClassVar

import pytest

from accessgate.config import ConfigError, Settings, load_settings
from accessgate.support.redaction import MASK, SettingsGroup, is_secret_name, mask_url

SECRETS = {
    "SECRET_KEY": "s3cret-key-0123456789abcdef",
    "SANDBOX_WEBHOOK_SECRET": "s3cret-sandbox-webhook",
    "STRIPE_SECRET_KEY": "sk_test_s3cretstripekey",
    "STRIPE_WEBHOOK_SECRET": "whsec_s3cretone,whsec_s3crettwo",
    "SMTP_PASSWORD": "s3cret-smtp-password",
    "META_ACCESS_TOKEN": "EAAGs3cretmetatoken",
    "INTERNAL_API_TOKEN": "s3cret-internal-token",
    "TELEGRAM_BOT_TOKEN": "123456789:AAHs3cretTelegramBotToken0123456789",
    "TELEGRAM_WEBHOOK_SECRET": "s3cret-telegram-webhook",
    # The access webhook target's group (ACCESS_TARGETS defaults to it when its URL is set).
    "ACCESS_WEBHOOK_SECRET": "whsec_czNjcmV0LWFjY2Vzcy13ZWJob29rLWtleS0wMTIz",
}
URL_PASSWORDS = {
    "DATABASE_URL": ("postgresql+asyncpg://shop:pgs3cretpass@db:5432/shop", "pgs3cretpass"),
    "REDIS_URL": ("redis://:redis-s3cret-pass@cache:6379/0", "redis-s3cret-pass"),
}
OTHERS = {
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_PRICE_ONE_TIME_BASIC": "price_basic",
    "STRIPE_PRICE_SUB_MONTHLY": "price_monthly",
    "META_PIXEL_ID": "1234567890",
    "SMTP_HOST": "smtp.example.com",
    "SMTP_USERNAME": "shop@example.com",
    "ACCESS_WEBHOOK_URL": "https://shop.example.com/hooks/access",
}


def _field_names() -> list[str]:
    """The top-level fields of Settings and every field of its core groups."""
    defaults = Settings.for_tests()
    names = list(Settings.__struct_fields__)
    for name in Settings.__struct_fields__:
        group = getattr(defaults, name)
        if isinstance(group, SettingsGroup):
            names += group.__struct_fields__
    return names


def _environ() -> dict[str, str]:
    """Every secret set: the named ones, and any other field the rule calls secret."""
    environ = dict(OTHERS) | SECRETS | {k: url for k, (url, _) in URL_PASSWORDS.items()}
    for name in _field_names():
        if is_secret_name(name) and name.upper() not in environ:
            environ[name.upper()] = f"s3cret-{name.replace('_', '-')}-value"
    return environ


def _secret_values(environ: dict[str, str]) -> list[str]:
    values = [pw for _, pw in URL_PASSWORDS.values()]
    for name, value in environ.items():
        if is_secret_name(name.lower()):
            values += [v for v in value.split(",") if v]
    return values


def _assert_hidden(text: str, environ: dict[str, str]) -> None:
    for secret in _secret_values(environ):
        assert secret not in text, secret


def test_repr_str_and_rich_show_no_secret() -> None:
    environ = _environ()
    settings = load_settings(environ)
    assert settings.service.secret_key == SECRETS["SECRET_KEY"]  # the value itself is intact
    assert settings.storage.database_url == URL_PASSWORDS["DATABASE_URL"][0]
    for text in (repr(settings), str(settings), f"{settings}", repr([settings])):
        _assert_hidden(text, environ)
        assert MASK in text
    _assert_hidden(repr(dict(settings.__rich_repr__())), environ)
    groups = (settings.service, settings.storage, settings.limits, settings.mail)
    rich = {name: value for group in groups for name, value in group.__rich_repr__()}
    _assert_hidden(repr(rich), environ)
    assert rich["secret_key"] == MASK
    assert rich["database_url"] == f"postgresql+asyncpg://shop:{MASK}@db:5432/shop"
    assert rich["redis_url"] == f"redis://:{MASK}@cache:6379/0"
    assert rich["smtp_username"] == "shop@example.com"  # not a secret: still shown
    assert rich["smtp_host"] == "smtp.example.com"


@pytest.mark.parametrize(
    "broken",
    [
        {"RATE_LIMIT_WINDOW": "0"},
        {"SMTP_PORT": "not-a-port"},
        {"SECRET_KEY": "short-s3cret"},
        {"STRIPE_WEBHOOK_TOLERANCE": "-1"},
        {"ACCESS_WEBHOOK_TIMEOUT": "0"},
        {"ACCESSGATE_ENV": "production", "PAYMENT_PROVIDER": "sandbox"},
    ],
)
def test_configuration_errors_show_no_secret(broken: dict[str, str]) -> None:
    environ = _environ() | broken
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    _assert_hidden(str(caught.value), environ)
    _assert_hidden(repr(caught.value), environ)
    assert caught.value.__cause__ is None


class ProviderSettings(SettingsGroup, frozen=True, kw_only=True):
    """A provider's settings group, as a plug-in would declare it."""

    __secret_fields__: ClassVar[frozenset[str]] = frozenset({"shop_signature"})

    shop_id: str = "shop-1"
    api_key: str = "k3y-value"
    shop_signature: str = "sig-value"
    callback_url: str = "https://user:pa55word@example.com/cb?x=1"
    tokens: tuple[str, ...] = ("t0k3n-a", "t0k3n-b")
    unset_token: str | None = None


def test_every_settings_group_masks_its_own_secrets() -> None:
    text = repr(ProviderSettings())
    for secret in ("k3y-value", "sig-value", "pa55word", "t0k3n-a"):
        assert secret not in text
    assert "shop_id='shop-1'" in text
    assert f"callback_url='https://user:{MASK}@example.com/cb?x=1'" in text
    assert "unset_token=None" in text  # what is unset stays visible


def test_the_naming_rule_and_url_masking() -> None:
    for name in ("secret_key", "stripe_webhook_secret", "smtp_password", "bot_token", "api_keys"):
        assert is_secret_name(name)
    for name in ("smtp_username", "database_url", "stripe_price_sub_monthly", "meta_pixel_id"):
        assert not is_secret_name(name)
    assert mask_url("sqlite+aiosqlite:///./accessgate.db") == "sqlite+aiosqlite:///./accessgate.db"
    assert mask_url("postgresql://shop@db/shop") == "postgresql://shop@db/shop"
    assert mask_url("buyer@example.com") == "buyer@example.com"
    assert mask_url("redis://u:p@h:1/0") == f"redis://u:{MASK}@h:1/0"
