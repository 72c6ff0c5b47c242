"""The sandbox payment provider: a local checkout page that signs and posts its own webhook."""

from accessgate.adapters.sandbox.gateway import SandboxPaymentGateway

__all__ = ["SandboxPaymentGateway"]
