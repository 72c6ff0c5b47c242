"""HandlePaymentEvents: route verified webhook events to the use case for each."""

from __future__ import annotations

from collections.abc import Sequence

from accessgate.domain.model.payment_event import FULFILLING_KINDS, EventOutcome, PaymentEvent
from accessgate.domain.usecases.apply_subscription_event import ApplySubscriptionEvent
from accessgate.domain.usecases.fulfill_payment import FulfillPayment


class HandlePaymentEvents:
    """Apply each event of a webhook delivery, in order.

    Completions go to FulfillPayment, everything else to ApplySubscriptionEvent;
    each event is its own transaction. Errors propagate (the provider retries).
    """

    def __init__(self, *, fulfill: FulfillPayment, apply: ApplySubscriptionEvent) -> None:
        self._fulfill = fulfill
        self._apply = apply

    async def execute(self, events: Sequence[PaymentEvent]) -> list[EventOutcome]:
        """The outcome of each event."""
        outcomes = []
        for event in events:
            if event.kind in FULFILLING_KINDS:
                outcomes.append(await self._fulfill.execute(event))
            else:
                outcomes.append(await self._apply.execute(event))
        return outcomes
