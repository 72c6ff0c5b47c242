"""FreeKassa as a plug-in (entry point ``freekassa``; settings ``FREEKASSA_*``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from accessgate.adapters.freekassa.gateway import FreeKassaGateway, parse_networks
from accessgate.ports.payment_gateway import PaymentGateway
from accessgate.ports.payment_providers import ProviderContext, ProviderPlugin
from accessgate.support.redaction import SettingsGroup

#: The current payment form host (FreeKassa's docs; older hosts: pay.freekassa.ru/.com/.net).
DEFAULT_PAY_URL = "https://pay.fk.money/"
#: The addresses FreeKassa sends notifications from.
DEFAULT_TRUSTED_IPS = ("168.119.157.136", "168.119.60.227", "178.154.197.79", "51.250.54.238")


class FreeKassaSettings(SettingsGroup, frozen=True, kw_only=True):
    """``FREEKASSA_MERCHANT_ID``, ``FREEKASSA_SECRET_1``, ``FREEKASSA_SECRET_2`` are required.

    ``FREEKASSA_PAY_URL`` (the payment form, ``https://pay.fk.money/``) and
    ``FREEKASSA_TRUSTED_IPS`` (comma-separated addresses or networks) have defaults.
    """

    __secret_fields__ = frozenset({"secret_1", "secret_2"})

    merchant_id: str
    secret_1: str
    secret_2: str
    pay_url: str = DEFAULT_PAY_URL
    trusted_ips: tuple[str, ...] = DEFAULT_TRUSTED_IPS

    def __post_init__(self) -> None:
        for name in ("merchant_id", "secret_1", "secret_2"):
            if not getattr(self, name).strip():
                raise ValueError(f"FREEKASSA_{name.upper()} must not be empty")
        parts = urlsplit(self.pay_url)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query:
            raise ValueError("FREEKASSA_PAY_URL must be an http(s) URL without a query")
        if not self.trusted_ips:
            raise ValueError("FREEKASSA_TRUSTED_IPS must name at least one address")
        try:
            parse_networks(self.trusted_ips)
        except ValueError as error:
            raise ValueError(f"FREEKASSA_TRUSTED_IPS: {error}") from None


def build(settings: FreeKassaSettings, context: ProviderContext) -> PaymentGateway:
    """The FreeKassa gateway (no SDK, nothing to import)."""
    if context.production and urlsplit(settings.pay_url).scheme != "https":
        raise ValueError("FREEKASSA_PAY_URL must use https in production")
    return FreeKassaGateway(
        merchant_id=settings.merchant_id.strip(),
        secret_1=settings.secret_1,
        secret_2=settings.secret_2,
        pay_url=settings.pay_url,
        trusted_ips=settings.trusted_ips,
        clock=context.clock,
    )


plugin = ProviderPlugin(
    name="freekassa",
    settings_type=FreeKassaSettings,
    env_prefix="FREEKASSA_",
    build=build,
    description="FreeKassa's payment form and its MD5-signed notification",
)
