"""The parts of Stripe's event objects that the adapter reads, as msgspec Structs.

Only the fields used are declared; every other field is skipped while decoding.
Each object Struct is tagged by Stripe's ``object`` field, so an event about
one of them decodes in a single pass; any other event falls back to a raw
envelope whose object is never decoded.
Fields that moved between Stripe API versions are declared in both places
(``invoice.subscription`` before 2025-03-31, ``invoice.parent.subscription_details``
after; ``subscription.current_period_end`` before, ``items.data[].current_period_end``
after).
"""

from __future__ import annotations

import msgspec


class Data(msgspec.Struct):
    """``data`` of an event whose object is not one of ours: kept raw, never decoded."""

    object: msgspec.Raw


class Event(msgspec.Struct):
    """A Stripe event (``object: "event"``) of any type."""

    id: str
    type: str
    created: int
    data: Data


class CheckoutSession(msgspec.Struct, tag_field="object", tag="checkout.session"):
    """A ``checkout.session``."""

    id: str
    payment_status: str | None = None
    client_reference_id: str | None = None
    metadata: dict[str, str] | None = None
    customer: str | None = None
    subscription: str | None = None
    payment_intent: str | None = None
    amount_total: int | None = None
    currency: str | None = None
    created: int | None = None


class Period(msgspec.Struct):
    """A billing period."""

    end: int


class InvoiceLine(msgspec.Struct):
    """One line of an invoice."""

    period: Period | None = None


class InvoiceLines(msgspec.Struct):
    """The (first page of the) invoice's lines."""

    data: list[InvoiceLine] = msgspec.field(default_factory=list)


class SubscriptionDetails(msgspec.Struct):
    """``invoice.parent.subscription_details``."""

    subscription: str | None = None


class InvoiceParent(msgspec.Struct):
    """``invoice.parent`` (API 2025-03-31 and later)."""

    subscription_details: SubscriptionDetails | None = None


class Invoice(msgspec.Struct, tag_field="object", tag="invoice"):
    """An ``invoice``."""

    id: str
    billing_reason: str | None = None
    customer: str | None = None
    subscription: str | None = None
    parent: InvoiceParent | None = None
    lines: InvoiceLines | None = None
    amount_paid: int | None = None
    currency: str | None = None

    def subscription_id(self) -> str | None:
        """The subscription, wherever this API version puts it."""
        if self.subscription:
            return self.subscription
        details = self.parent.subscription_details if self.parent else None
        return details.subscription if details else None

    def period_end(self) -> int | None:
        """The end of the period the invoice pays: the latest end of its lines."""
        ends = [line.period.end for line in (self.lines.data if self.lines else []) if line.period]
        return max(ends) if ends else None


class SubscriptionItem(msgspec.Struct):
    """One item of a subscription."""

    current_period_end: int | None = None


class SubscriptionItems(msgspec.Struct):
    """The subscription's items."""

    data: list[SubscriptionItem] = msgspec.field(default_factory=list)


class Subscription(msgspec.Struct, tag_field="object", tag="subscription"):
    """A ``subscription``."""

    id: str
    customer: str | None = None
    cancel_at_period_end: bool = False
    current_period_end: int | None = None
    items: SubscriptionItems | None = None

    def period_end(self) -> int | None:
        """The current period's end, wherever this API version puts it."""
        if self.current_period_end is not None:
            return self.current_period_end
        ends = [i.current_period_end for i in (self.items.data if self.items else [])]
        known = [end for end in ends if end is not None]
        return max(known) if known else None


class Charge(msgspec.Struct, tag_field="object", tag="charge"):
    """A ``charge``."""

    id: str
    amount: int
    amount_refunded: int = 0
    currency: str | None = None
    payment_intent: str | None = None
    customer: str | None = None


class Dispute(msgspec.Struct, tag_field="object", tag="dispute"):
    """A ``dispute``."""

    id: str
    charge: str | None = None
    payment_intent: str | None = None
    amount: int | None = None
    currency: str | None = None


StripeObject = CheckoutSession | Invoice | Subscription | Charge | Dispute


class TypedData(msgspec.Struct):
    """``data`` of an event about one of the objects read, told apart by ``object``."""

    object: StripeObject


class TypedEvent(msgspec.Struct):
    """A Stripe event decoded in one pass (the hot path)."""

    id: str
    type: str
    created: int
    data: TypedData


TYPED_EVENT = msgspec.json.Decoder(TypedEvent)
EVENT = msgspec.json.Decoder(Event)
CHECKOUT_SESSION = msgspec.json.Decoder(CheckoutSession)
INVOICE = msgspec.json.Decoder(Invoice)
SUBSCRIPTION = msgspec.json.Decoder(Subscription)
CHARGE = msgspec.json.Decoder(Charge)
DISPUTE = msgspec.json.Decoder(Dispute)
