"""YooKassa as a plug-in (entry point ``yookassa``; settings ``YOOKASSA_*``).

httpx is imported only when the gateway is built, so an installed but unlisted
YooKassa costs nothing.
"""

from __future__ import annotations

from accessgate.adapters.yookassa.receipt import ReceiptPolicy
from accessgate.adapters.yookassa.trust import DEFAULT_TRUSTED_IPS, AddressList, parse_networks
from accessgate.ports.payment_gateway import PaymentGateway
from accessgate.ports.payment_providers import ProviderContext, ProviderPlugin
from accessgate.support.redaction import SettingsGroup

DEFAULT_API_BASE = "https://api.yookassa.ru/v3"


class YooKassaSettings(SettingsGroup, frozen=True, kw_only=True):
    """The YooKassa group: ``YOOKASSA_SHOP_ID`` and ``YOOKASSA_SECRET_KEY`` are required.

    A receipt (54-FZ) is sent only when ``YOOKASSA_RECEIPT_VAT_CODE`` is set.
    """

    shop_id: str
    secret_key: str
    api_base: str = DEFAULT_API_BASE
    return_url: str | None = None
    trusted_ips: tuple[str, ...] = DEFAULT_TRUSTED_IPS
    receipt_vat_code: int | None = None
    receipt_payment_mode: str = "full_payment"
    receipt_payment_subject: str = "service"
    receipt_tax_system_code: int | None = None
    timeout: float = 20.0
    max_network_retries: int = 2

    def __post_init__(self) -> None:
        if not self.shop_id.strip():
            raise ValueError("YOOKASSA_SHOP_ID must not be empty")
        if not self.secret_key.strip():
            raise ValueError("YOOKASSA_SECRET_KEY must not be empty")
        if not self.api_base.startswith(("https://", "http://")):
            raise ValueError("YOOKASSA_API_BASE must be an http(s) URL")
        if self.return_url is not None and not self.return_url.startswith(("https://", "http://")):
            raise ValueError("YOOKASSA_RETURN_URL must be an http(s) URL")
        AddressList(parse_networks(self.trusted_ips))  # raises naming YOOKASSA_TRUSTED_IPS
        if self.receipt_vat_code is not None and not 1 <= self.receipt_vat_code <= 12:
            raise ValueError("YOOKASSA_RECEIPT_VAT_CODE must be one of YooKassa's VAT codes")
        if self.receipt_tax_system_code is not None and not 1 <= self.receipt_tax_system_code <= 6:
            raise ValueError("YOOKASSA_RECEIPT_TAX_SYSTEM_CODE must be 1 to 6")
        if self.timeout <= 0:
            raise ValueError("YOOKASSA_TIMEOUT must be positive")
        if self.max_network_retries < 0:
            raise ValueError("YOOKASSA_MAX_NETWORK_RETRIES must not be negative")

    def receipt(self) -> ReceiptPolicy | None:
        """The receipt policy, or ``None`` when no VAT code is set (no receipt)."""
        if self.receipt_vat_code is None:
            return None
        return ReceiptPolicy(
            vat_code=self.receipt_vat_code,
            payment_mode=self.receipt_payment_mode,
            payment_subject=self.receipt_payment_subject,
            tax_system_code=self.receipt_tax_system_code,
        )


def build(settings: YooKassaSettings, context: ProviderContext) -> PaymentGateway:
    """The YooKassa gateway (imports httpx only now)."""
    from accessgate.adapters.yookassa.gateway import YooKassaGateway

    return YooKassaGateway(
        shop_id=settings.shop_id,
        secret_key=settings.secret_key,
        clock=context.clock,
        return_url=settings.return_url,
        default_return_url=f"{context.public_base_url.rstrip('/')}/pay/success",
        api_base=settings.api_base,
        trusted_ips=settings.trusted_ips,
        receipt=settings.receipt(),
        timeout_seconds=settings.timeout,
        max_network_retries=settings.max_network_retries,
    )


plugin = ProviderPlugin(
    name="yookassa",
    settings_type=YooKassaSettings,
    env_prefix="YOOKASSA_",
    build=build,
    description="YooKassa (cards and SBP in Russia): redirect payments, notifications checked by address and re-fetch",
)
