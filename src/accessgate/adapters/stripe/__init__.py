"""The Stripe adapter of the PaymentGateway port (official ``stripe`` SDK, async over httpx).

The SDK is imported only when the gateway is: the plug-in (``.plugin``) loads
without it, so a missing SDK is reported when Stripe is built, as a missing extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accessgate.adapters.stripe.gateway import StripeGateway
    from accessgate.adapters.stripe.signature import StripeSignatureVerifier

__all__ = ["StripeGateway", "StripeSignatureVerifier"]


def __getattr__(name: str) -> Any:
    if name == "StripeGateway":
        from accessgate.adapters.stripe.gateway import StripeGateway

        return StripeGateway
    if name == "StripeSignatureVerifier":
        from accessgate.adapters.stripe.signature import StripeSignatureVerifier

        return StripeSignatureVerifier
    raise AttributeError(name)
