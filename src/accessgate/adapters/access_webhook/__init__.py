"""The access webhook target: access changes POSTed to the shop's own backend, signed per Standard Webhooks."""

from accessgate.adapters.access_webhook.signing import WebhookSecret, sign
from accessgate.adapters.access_webhook.target import AccessWebhookTarget, webhook_body

__all__ = ["AccessWebhookTarget", "WebhookSecret", "sign", "webhook_body"]
