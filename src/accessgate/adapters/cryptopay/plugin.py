"""CryptoPay (Crypto Bot) as a plug-in (entry point ``cryptopay``; settings ``CRYPTOPAY_*``).

``CRYPTOPAY_API_BASE`` is the root the method names are appended to: mainnet
``https://pay.crypt.bot/api`` by default, the testnet (@CryptoTestnetBot)
``https://testnet-pay.crypt.bot/api``; each has its own app tokens.
"""

from __future__ import annotations

import re

from accessgate.ports.payment_gateway import PaymentGateway
from accessgate.ports.payment_providers import ProviderContext, ProviderPlugin
from accessgate.support.redaction import SettingsGroup

_ASSET = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
MAX_EXPIRES_IN = 2_678_400  # the API's limit: 31 days


class CryptoPaySettings(SettingsGroup, frozen=True, kw_only=True):
    """The CryptoPay group: ``CRYPTOPAY_API_TOKEN`` is required."""

    api_token: str
    api_base: str = "https://pay.crypt.bot/api"
    accepted_assets: tuple[str, ...] = ()
    webhook_tolerance: int = 300
    invoice_expires_in: int = 3600
    invoice_url: str = "bot"
    timeout: float = 20.0

    def __post_init__(self) -> None:
        if not self.api_token.strip():
            raise ValueError("CRYPTOPAY_API_TOKEN must not be empty")
        if not self.api_base.startswith(("https://", "http://")):
            raise ValueError("CRYPTOPAY_API_BASE must be an http(s) URL")
        if any(not _ASSET.fullmatch(asset) for asset in self.accepted_assets):
            raise ValueError("CRYPTOPAY_ACCEPTED_ASSETS must be upper-case asset codes (USDT,TON)")
        if self.webhook_tolerance <= 0:
            raise ValueError("CRYPTOPAY_WEBHOOK_TOLERANCE must be positive")
        if not 1 <= self.invoice_expires_in <= MAX_EXPIRES_IN:
            raise ValueError(f"CRYPTOPAY_INVOICE_EXPIRES_IN must be 1..{MAX_EXPIRES_IN} seconds")
        if self.invoice_url not in ("bot", "mini_app", "web_app"):
            raise ValueError("CRYPTOPAY_INVOICE_URL must be bot, mini_app or web_app")
        if self.timeout <= 0:
            raise ValueError("CRYPTOPAY_TIMEOUT must be positive")


def build(settings: CryptoPaySettings, context: ProviderContext) -> PaymentGateway:
    """The CryptoPay gateway (imports httpx only now)."""
    from accessgate.adapters.cryptopay.gateway import CryptoPayGateway

    return CryptoPayGateway(
        api_token=settings.api_token.strip(),
        clock=context.clock,
        api_base=settings.api_base,
        accepted_assets=settings.accepted_assets,
        tolerance_seconds=settings.webhook_tolerance,
        expires_in=settings.invoice_expires_in,
        invoice_url=settings.invoice_url,
        timeout_seconds=settings.timeout,
    )


plugin = ProviderPlugin(
    name="cryptopay",
    settings_type=CryptoPaySettings,
    env_prefix="CRYPTOPAY_",
    build=build,
    description="CryptoPay (Crypto Bot) invoices in crypto or fiat-priced",
)
