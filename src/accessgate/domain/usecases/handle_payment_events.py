"""HandlePaymentEvents: route verified webhook events to the use case for each."""

from __future__ import annotations

from collections.abc import Sequence

from accessgate.domain.model.errors import InvalidSignature
from accessgate.domain.model.payment_event import FULFILLING_KINDS, EventOutcome, PaymentEvent
from accessgate.domain.usecases.apply_subscription_event import ApplySubscriptionEvent
from accessgate.domain.usecases.fulfill_payment import FulfillPayment


class HandlePaymentEvents:
    """Apply each event of a webhook delivery, in order.

    Completions go to FulfillPayment, everything else to ApplySubscriptionEvent;
    each event is its own transaction. Errors propagate (the provider retries).

    Rules:
        * Every event of a delivery to provider ``provider`` must be that
          provider's: an event naming another provider is INVALID_SIGNATURE
          and nothing of the delivery is applied (a provider speaks only for
          itself). An event only ever touches an order of its own provider
          (an order of another one is PAYMENT_NOT_FOUND).
    """

    def __init__(self, *, fulfill: FulfillPayment, apply: ApplySubscriptionEvent) -> None:
        self._fulfill = fulfill
        self._apply = apply

    async def execute(
        self, events: Sequence[PaymentEvent], *, provider: str | None = None
    ) -> list[EventOutcome]:
        """The outcome of each event (of ``provider``, when given)."""
        if provider is not None and any(e.provider != provider for e in events):
            raise InvalidSignature("An event of the delivery names another payment provider")
        outcomes = []
        for event in events:
            if event.kind in FULFILLING_KINDS:
                outcomes.append(await self._fulfill.execute(event))
            else:
                outcomes.append(await self._apply.execute(event))
        return outcomes
