"""One kit per provider: its gateway and how to make genuine and forged deliveries.

The contract suite (``test_contract.py``) runs against every kit of
``conftest.py``. A new provider joins the suite with one kit and one fixture:
the kit opens checkouts with the real gateway and signs deliveries exactly as
the provider would (its own wire format, its own secret), so the suite checks
the provider's verification, parsing and answer, not a copy of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import stripe

from accessgate import plugins
from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.adapters.memory.payment_gateway import WireEvent as MemoryWire
from accessgate.adapters.sandbox.gateway import SandboxPaymentGateway
from accessgate.adapters.sandbox.wire import WireEvent as SandboxWire
from accessgate.domain.model.payment_event import PaymentEventKind
from accessgate.domain.model.values import Money
from accessgate.ports.payment_gateway import WebhookDelivery, WebhookReply, WebhookRequest
from accessgate.ports.payment_providers import ProviderContext

CLIENT_IP = "127.0.0.1"
RECEIPT = WebhookReply()  # accessgate's JSON receipt


@dataclass(frozen=True)
class Ref:
    """What a completion names: the order, its checkout session and the money paid."""

    order_id: str
    session_id: str
    paid: Money


class Kit(Protocol):
    """What the contract suite needs of a provider."""

    gateway: Any
    clock: SettableClock
    reply: WebhookReply
    tolerance: timedelta | None  # ``None``: the provider's deliveries carry no time

    def completion(self, ref: Ref, event_id: str, age: timedelta = timedelta(0)) -> WebhookRequest:
        """A genuine delivery of a paid checkout, signed ``age`` ago."""
        ...

    def forged(self, ref: Ref, event_id: str) -> WebhookRequest:
        """The same delivery signed with a secret that is not the provider's."""
        ...


def request_of(delivery: WebhookDelivery | tuple[bytes, dict[str, str]]) -> WebhookRequest:
    body, headers = (
        (delivery.body, delivery.headers) if isinstance(delivery, WebhookDelivery) else delivery
    )
    return WebhookRequest(
        body=body, headers={k.lower(): v for k, v in headers.items()}, client_ip=CLIENT_IP
    )


def _ts(clock: SettableClock, age: timedelta) -> int:
    return int((clock.now() - age).timestamp())


class MemoryKit:
    """The memory gateway (``Accessgate-Signature``)."""

    reply = RECEIPT
    tolerance = timedelta(seconds=300)

    def __init__(self, clock: SettableClock) -> None:
        self.clock = clock
        self.gateway = MemoryPaymentGateway(secret=b"memory-contract-secret", clock=clock)
        self._stranger = MemoryPaymentGateway(secret=b"not-the-secret", clock=clock)

    def _wire(self, ref: Ref, event_id: str, age: timedelta) -> MemoryWire:
        return MemoryWire(
            id=event_id,
            type=PaymentEventKind.CHECKOUT_COMPLETED,
            created=_ts(self.clock, age),
            order_id=ref.order_id,
            session_id=ref.session_id,
            amount=ref.paid.amount,
            currency=ref.paid.currency,
        )

    def completion(self, ref: Ref, event_id: str, age: timedelta = timedelta(0)) -> WebhookRequest:
        wire = self._wire(ref, event_id, age)
        return request_of(self.gateway.webhook(wire, _ts(self.clock, age)))

    def forged(self, ref: Ref, event_id: str) -> WebhookRequest:
        return request_of(self._stranger.webhook(self._wire(ref, event_id, timedelta(0))))


class SandboxKit:
    """The sandbox provider (its checkout page signs with ``SANDBOX_WEBHOOK_SECRET``)."""

    reply = RECEIPT
    tolerance = timedelta(seconds=300)

    def __init__(self, clock: SettableClock) -> None:
        self.clock = clock
        base = "https://shop.example"
        self.gateway = SandboxPaymentGateway(secret=b"sb-secret", clock=clock, public_base_url=base)
        self._stranger = SandboxPaymentGateway(secret=b"other", clock=clock, public_base_url=base)

    def _wire(self, ref: Ref, event_id: str, age: timedelta) -> SandboxWire:
        return SandboxWire(
            id=event_id,
            type=PaymentEventKind.CHECKOUT_COMPLETED,
            created=_ts(self.clock, age),
            order_id=ref.order_id,
            session_id=ref.session_id,
            amount=ref.paid.amount,
            currency=ref.paid.currency,
        )

    def completion(self, ref: Ref, event_id: str, age: timedelta = timedelta(0)) -> WebhookRequest:
        wire = self._wire(ref, event_id, age)
        return request_of(self.gateway.delivery(wire, _ts(self.clock, age)))

    def forged(self, ref: Ref, event_id: str) -> WebhookRequest:
        return request_of(self._stranger.delivery(self._wire(ref, event_id, timedelta(0))))


class StripeKit:
    """Stripe over the local Stripe stand-in; events signed by the Stripe SDK itself."""

    reply = RECEIPT
    tolerance = timedelta(seconds=300)
    secret = "whsec_contract_0123456789"

    def __init__(self, clock: SettableClock, gateway: Any) -> None:
        self.clock = clock
        self.gateway = gateway

    def _signed(self, ref: Ref, event_id: str, age: timedelta, secret: str) -> WebhookRequest:
        created = _ts(self.clock, age)
        session = {
            "id": ref.session_id,
            "object": "checkout.session",
            "client_reference_id": ref.order_id,
            "metadata": {"order_id": ref.order_id},
            "payment_status": "paid",
            "status": "complete",
            "mode": "payment",
            "customer": "cus_contract",
            "payment_intent": f"pi_{event_id}",
            "amount_total": ref.paid.amount,
            "currency": ref.paid.currency.lower(),
            "created": created,
        }
        body = json.dumps(
            {
                "id": event_id,
                "object": "event",
                "type": "checkout.session.completed",
                "created": created,
                "data": {"object": session},
            },
            indent=2,
        ).encode()
        header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, created)
        return request_of((body, {"Stripe-Signature": header}))

    def completion(self, ref: Ref, event_id: str, age: timedelta = timedelta(0)) -> WebhookRequest:
        return self._signed(ref, event_id, age, self.secret)

    def forged(self, ref: Ref, event_id: str) -> WebhookRequest:
        return self._signed(ref, event_id, timedelta(0), "whsec_someone_else")


class AcmeKit:
    """ACME Pay, the plug-in outside accessgate, found through its entry point."""

    reply = WebhookReply(body=b"YES", media_type="text/plain")
    tolerance = timedelta(seconds=300)

    def __init__(self, clock: SettableClock) -> None:
        self.clock = clock
        plugin = plugins.load("acme")  # discovered, never imported by name
        group = plugins.read_group(plugin, {"ACME_SECRET_KEY": "acme-contract-secret"})
        context = ProviderContext(
            clock=clock, public_base_url="https://shop.example", webhook_url="unused"
        )
        self.gateway = plugin.build(group, context)

    def _note(
        self, ref: Ref, event_id: str, age: timedelta, secret: bytes | None
    ) -> WebhookRequest:
        return request_of(
            self.gateway.notification(
                event_id=event_id,
                invoice_id=ref.session_id,
                order_id=ref.order_id,
                amount=ref.paid.amount,
                currency=ref.paid.currency,
                sent_at=_ts(self.clock, age),
                secret=secret,
            )
        )

    def completion(self, ref: Ref, event_id: str, age: timedelta = timedelta(0)) -> WebhookRequest:
        return self._note(ref, event_id, age, None)

    def forged(self, ref: Ref, event_id: str) -> WebhookRequest:
        return self._note(ref, event_id, timedelta(0), b"not-the-secret")
