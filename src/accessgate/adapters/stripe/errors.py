"""Stripe SDK errors -> the project's errors, without the key or Stripe's raw text."""

from __future__ import annotations

import stripe

from accessgate.domain.model.errors import DomainError, ProviderRejected, ServiceUnavailable


def wrap(error: stripe.StripeError) -> DomainError:
    """The domain error for a Stripe SDK error.

    A request Stripe refuses as invalid (bad parameters, unknown price or
    customer, a card declined, an idempotency key reused with other parameters)
    is ProviderRejected, with Stripe's error code and parameter as details;
    everything else (connection, timeout, 5xx, rate limit, a bad API key) is
    ServiceUnavailable, since the service, not the buyer, must act. Stripe's
    message is never copied: it could name the key or internal ids.
    """
    if isinstance(error, stripe.InvalidRequestError | stripe.CardError | stripe.IdempotencyError):
        details: dict[str, str] = {"provider": "stripe"}
        code = getattr(error, "code", None)
        param = getattr(error, "param", None)
        if isinstance(code, str) and code:
            details["provider_code"] = code
        if isinstance(param, str) and param:
            details["param"] = param
        return ProviderRejected(**details)
    return ServiceUnavailable("The payment provider is temporarily unavailable", provider="stripe")
