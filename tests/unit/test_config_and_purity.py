import re
from pathlib import Path

import pytest

import accessgate
from accessgate.config import ConfigError, load_settings


def test_zero_configuration_is_valid() -> None:
    settings = load_settings({})
    assert settings.payments.payment_providers == ("sandbox",)
    assert settings.storage.database_url.startswith("sqlite+aiosqlite:///")
    assert (settings.limits.rate_limit_requests, settings.limits.rate_limit_window) == (30, 60)


def test_values_are_converted_and_lists_split() -> None:
    settings = load_settings(
        {
            "RATE_LIMIT_REQUESTS": "5",
            "RATE_LIMIT_ENABLED": "false",
            "TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2",
        }
    )
    assert settings.limits.rate_limit_requests == 5
    assert settings.limits.rate_limit_enabled is False
    assert settings.service.trusted_proxies == ("10.0.0.1", "10.0.0.2")


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"RATE_LIMIT_REQUESTS": "many"}, "RATE_LIMIT_REQUESTS"),
        ({"PAYMENT_PROVIDER": "stripe"}, "STRIPE_SECRET_KEY"),
        ({"PAYMENT_PROVIDER": "paypal"}, "PAYMENT_PROVIDER"),
        ({"ACCESSGATE_ENV": "production"}, "SECRET_KEY"),
        ({"META_PIXEL_ID": "1"}, "META_ACCESS_TOKEN"),
        ({"MOBISLON_POSTBACK_URL": "https://t.example/?x=1"}, "MOBISLON_POSTBACK_URL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ],
)
def test_bad_settings_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable) as caught:
        load_settings(environ)
    assert "\n" not in str(caught.value)


def test_production_refuses_the_sandbox_and_the_console_mailer() -> None:
    base = {"ACCESSGATE_ENV": "production", "SECRET_KEY": "x" * 32}
    with pytest.raises(ConfigError, match="PAYMENT_PROVIDER"):
        load_settings(base)


def test_the_domain_never_reads_the_wall_clock() -> None:
    domain = Path(accessgate.__file__).parent / "domain"
    pattern = re.compile(r"datetime\.now|datetime\.utcnow|date\.today|time\.time\(")
    offenders = [p.name for p in domain.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
