"""The core settings grouped by concern, read from unchanged variable names (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accessgate.config import ConfigError, Settings, load_settings
from accessgate.support.redaction import MASK, SettingsGroup

CONFIGURATION = Path(__file__).parents[2] / "docs" / "configuration.md"
GROUPS = ("service", "storage", "catalogue", "payments", "access")
GROUPS += ("mail", "relays", "outbox", "limits", "bot")
# A variable read before the groups are filled (seed 002's one-provider form).
ALIASES = {"payments": {"PAYMENT_PROVIDER"}}


def _group(settings: Settings, name: str) -> SettingsGroup:
    group = getattr(settings, name)
    assert isinstance(group, SettingsGroup)
    return group


def test_each_concern_is_its_own_group_read_from_the_same_variables() -> None:
    settings = load_settings(
        {
            "ACCESSGATE_ENV": "test",
            "DATABASE_POOL_SIZE": "3",
            "PLAN_CURRENCY": "EUR",
            "CUSTOMER_PORTAL_MODE": "direct",
            "OTP_MAX_ATTEMPTS": "7",
            "SMTP_HOST": "smtp.example.com",
            "SMTP_FROM": "shop@example.com",
            "MOBISLON_POSTBACK_URL": "https://t.example/?c={clickid}&s={status}",
            "OUTBOX_BATCH_SIZE": "9",
            "RESTORE_RATE_LIMIT_REQUESTS": "4",
            "INTERNAL_API_TOKEN": "internal-token-0123456789",
            "TELEGRAM_BOT_USERNAME": "gate_bot",
        }
    )
    assert settings.service.accessgate_env == "test"
    assert settings.storage.database_pool_size == 3
    assert settings.catalogue.plan_currency == "EUR"
    assert settings.payments.customer_portal_mode == "direct"
    assert settings.access.otp_max_attempts == 7
    assert (settings.mail.smtp_host, settings.mail.smtp_from) == (
        "smtp.example.com",
        "shop@example.com",
    )
    assert settings.relays.mobislon_enabled
    assert not settings.relays.meta_enabled
    assert settings.outbox.outbox_batch_size == 9
    assert settings.limits.restore_rate_limit_requests == 4
    assert settings.bot.internal_api_token == "internal-token-0123456789"
    assert settings.bot.telegram_bot_username == "gate_bot"
    assert settings.pay_url == "http://127.0.0.1:8000/pay"
    assert not settings.is_production


def test_every_group_field_is_one_variable_and_no_name_is_in_two_groups() -> None:
    defaults = Settings.for_tests()
    seen: dict[str, str] = {}
    for name in GROUPS:
        for field in _group(defaults, name).__struct_fields__:
            assert field not in seen, (field, seen.get(field), name)
            seen[field] = name
    assert len(seen) > 60  # the ~70 core settings, none lost in the move


@pytest.mark.parametrize("group", GROUPS)
def test_the_docs_list_each_group_in_its_own_section(group: str) -> None:
    """docs/configuration.md has a section per group listing exactly its variables.

    A provider's own table (``**stripe**``) inside the payments section is not the group's.
    """
    text = CONFIGURATION.read_text(encoding="utf-8")
    section = re.search(rf"^## [^\n]*\(`{group}`\)\n(.*?)(?=^## |^\*\*|\Z)", text, re.M | re.S)
    assert section, f"no section for the group {group!r}"
    first_cells = [
        line.split("|")[1] for line in section.group(1).splitlines() if line.startswith("| `")
    ]
    documented = {name for cell in first_cells for name in re.findall(r"`([A-Z_]+)`", cell)}
    fields = {f.upper() for f in _group(Settings.for_tests(), group).__struct_fields__}
    assert documented == fields | ALIASES.get(group, set())


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SMTP_PORT", "not-a-port"),
        ("OUTBOX_BATCH_SIZE", "many"),
        ("BOT_MODE", "carrier-pigeon"),
        ("HTTP_EVENT_LOOP", "gevent"),
    ],
)
def test_a_bad_value_in_a_group_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({variable: value})
    assert str(caught.value).startswith(f"{variable}: ")
    assert "\n" not in str(caught.value)


def test_for_tests_puts_each_value_into_its_group() -> None:
    settings = Settings.for_tests(smtp_host="mail.test", rate_limit_requests=3, secret_key="k" * 20)
    assert settings.mail.smtp_host == "mail.test"
    assert settings.limits.rate_limit_requests == 3
    assert settings.limits.rate_limit_window == 60  # the rest of the group keeps its defaults
    assert settings.service.secret_key == "k" * 20
    assert Settings.for_tests().mail == Settings().mail
    with pytest.raises(TypeError, match="no_such_setting"):
        Settings.for_tests(no_such_setting=1)


def test_repr_shows_the_groups_and_masks_their_secrets() -> None:
    settings = Settings.for_tests(secret_key="k" * 20, smtp_password="smtp-s3cret", smtp_host="h")
    text = repr(settings)
    assert text.startswith("Settings(service=ServiceSettings(")
    assert "mail=MailSettings(" in text
    assert "k" * 20 not in text
    assert "smtp-s3cret" not in text
    assert f"smtp_password={MASK!r}" in text
