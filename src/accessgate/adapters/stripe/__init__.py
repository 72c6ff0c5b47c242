"""The Stripe adapter of the PaymentGateway port (official ``stripe`` SDK, async over httpx)."""

from accessgate.adapters.stripe.gateway import StripeGateway
from accessgate.adapters.stripe.signature import StripeSignatureVerifier

__all__ = ["StripeGateway", "StripeSignatureVerifier"]
