"""Stripe as a plug-in (entry point ``stripe``; settings ``STRIPE_*``).

The Price id of each plan is the catalogue's ``stripe`` reference (by default
``STRIPE_PRICE_ONE_TIME_BASIC`` and ``STRIPE_PRICE_SUB_MONTHLY``), handed over
in :attr:`ProviderContext.plan_refs`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from accessgate.ports.payment_gateway import PaymentGateway
from accessgate.ports.payment_providers import ProviderContext, ProviderPlugin
from accessgate.support.redaction import SettingsGroup


class StripeSettings(SettingsGroup, frozen=True, kw_only=True):
    """The Stripe group: ``STRIPE_SECRET_KEY`` and ``STRIPE_WEBHOOK_SECRET`` are required."""

    __secret_fields__ = frozenset({"webhook_secret"})

    secret_key: str
    webhook_secret: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)]
    api_base: str | None = None
    webhook_tolerance: int = 300
    timeout: float = 20.0
    max_network_retries: int = 2

    def __post_init__(self) -> None:
        if not self.secret_key.strip():
            raise ValueError("STRIPE_SECRET_KEY must not be empty")
        if self.webhook_tolerance <= 0:
            raise ValueError("STRIPE_WEBHOOK_TOLERANCE must be positive")
        if self.timeout <= 0:
            raise ValueError("STRIPE_TIMEOUT must be positive")
        if self.max_network_retries < 0:
            raise ValueError("STRIPE_MAX_NETWORK_RETRIES must not be negative")


def build(settings: StripeSettings, context: ProviderContext) -> PaymentGateway:
    """The Stripe gateway (imports the ``stripe`` SDK only now)."""
    from accessgate.adapters.stripe.gateway import StripeGateway

    return StripeGateway(
        secret_key=settings.secret_key,
        webhook_secrets=settings.webhook_secret,
        prices=context.plan_refs,
        public_base_url=context.public_base_url,
        api_base=settings.api_base,
        tolerance_seconds=settings.webhook_tolerance,
        clock=context.clock,
        timeout_seconds=settings.timeout,
        max_network_retries=settings.max_network_retries,
    )


plugin = ProviderPlugin(
    name="stripe",
    settings_type=StripeSettings,
    env_prefix="STRIPE_",
    build=build,
    description="Stripe Checkout, Billing and the customer portal",
)
