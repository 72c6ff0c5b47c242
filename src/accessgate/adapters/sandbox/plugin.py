"""The sandbox provider as a plug-in (entry point ``sandbox``; settings ``SANDBOX_*``)."""

from __future__ import annotations

from accessgate.adapters.sandbox.gateway import SandboxPaymentGateway, SandboxRefused
from accessgate.ports.payment_gateway import PaymentGateway
from accessgate.ports.payment_providers import ProviderContext, ProviderPlugin
from accessgate.support.redaction import SettingsGroup


class SandboxSettings(SettingsGroup, frozen=True, kw_only=True):
    """``SANDBOX_WEBHOOK_SECRET`` (a development default) and ``SANDBOX_WEBHOOK_TOLERANCE``."""

    webhook_secret: str = "sandbox-webhook-secret"  # noqa: S105 - sandbox only
    webhook_tolerance: int = 300

    def __post_init__(self) -> None:
        if self.webhook_tolerance <= 0:
            raise ValueError("SANDBOX_WEBHOOK_TOLERANCE must be positive")


def build(settings: SandboxSettings, context: ProviderContext) -> PaymentGateway:
    """The sandbox gateway; refused in production with a ValueError."""
    try:
        return SandboxPaymentGateway(
            secret=settings.webhook_secret.encode(),
            clock=context.clock,
            public_base_url=context.public_base_url,
            tolerance_seconds=settings.webhook_tolerance,
            production=context.production,
        )
    except SandboxRefused as error:
        raise ValueError(str(error)) from None


plugin = ProviderPlugin(
    name="sandbox",
    settings_type=SandboxSettings,
    env_prefix="SANDBOX_",
    build=build,
    description="a local checkout page that signs and posts its own webhook (development)",
)
