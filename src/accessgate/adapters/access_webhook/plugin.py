"""The access webhook as a plug-in (entry point ``access_webhook``; settings ``ACCESS_WEBHOOK_*``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from accessgate.adapters.access_webhook.signing import WebhookSecret
from accessgate.adapters.access_webhook.target import AccessWebhookTarget
from accessgate.ports.access_target import AccessTarget
from accessgate.ports.access_targets import TargetContext, TargetPlugin
from accessgate.support.redaction import SettingsGroup


class AccessWebhookSettings(SettingsGroup, frozen=True, kw_only=True):
    """``ACCESS_WEBHOOK_URL``, ``ACCESS_WEBHOOK_SECRET`` (``whsec_``...), ``_INCLUDE_EMAIL``, ``_TIMEOUT``."""

    url: str
    secret: str
    include_email: bool = False
    timeout: float = 10.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "ACCESS_WEBHOOK_URL must start with http:// or https:// and name a host"
            )
        try:
            WebhookSecret(self.secret)
        except ValueError as error:
            raise ValueError(f"ACCESS_WEBHOOK_SECRET: {error}") from None
        if self.timeout <= 0:
            raise ValueError("ACCESS_WEBHOOK_TIMEOUT must be positive")


def build(settings: AccessWebhookSettings, context: TargetContext) -> AccessTarget:
    """The signed webhook to the shop's backend."""
    return AccessWebhookTarget(
        url=settings.url,
        secret=settings.secret,
        clock=context.clock,
        include_email=settings.include_email,
        timeout=settings.timeout,
    )


plugin = TargetPlugin(
    name="access_webhook",
    settings_type=AccessWebhookSettings,
    env_prefix="ACCESS_WEBHOOK_",
    build=build,
    description="access changes POSTed to the shop's own backend, signed per Standard Webhooks",
)
