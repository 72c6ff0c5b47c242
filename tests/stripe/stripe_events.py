"""Real-shaped Stripe events, signed with the SDK's own signature helper."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

import stripe

WEBHOOK_SECRET = "whsec_test_current_0123456789abcdef"
OLD_WEBHOOK_SECRET = "whsec_test_previous_fedcba9876543210"
API_VERSION = "2025-03-31.basil"
_ids = itertools.count(1)


def ts(at: datetime) -> int:
    return int(at.timestamp())


def event(
    type_: str, obj: dict[str, Any], created: datetime, *, api_version: str = API_VERSION
) -> dict[str, Any]:
    n = next(_ids)
    return {
        "id": f"evt_1Fake{n:08d}",
        "object": "event",
        "api_version": api_version,
        "created": ts(created),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def body_of(evt: dict[str, Any]) -> bytes:
    return json.dumps(evt, indent=2).encode()


def sign(body: bytes, at: datetime, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, ts(at))
    return {"Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8"}


def session_object(session: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A checkout.session as it appears in events (from the fake server's record)."""
    return {**session, **changes}


def invoice(
    *,
    subscription: str,
    customer: str,
    period_start: datetime,
    period_end: datetime,
    billing_reason: str = "subscription_cycle",
    paid: bool = True,
    amount: int = 990,
    legacy: bool = False,
) -> dict[str, Any]:
    """An invoice in the 2025-03-31.basil shape, or the older one with ``legacy``."""
    n = next(_ids)
    line: dict[str, Any] = {
        "id": f"il_1Fake{n:08d}",
        "object": "line_item",
        "amount": amount,
        "currency": "usd",
        "period": {"end": ts(period_end), "start": ts(period_start)},
        "quantity": 1,
    }
    obj: dict[str, Any] = {
        "id": f"in_1Fake{n:08d}",
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "attempt_count": 1,
        "billing_reason": billing_reason,
        "currency": "usd",
        "customer": customer,
        "lines": {
            "object": "list",
            "data": [line],
            "has_more": False,
            "total_count": 1,
            "url": "/v1/invoices/x/lines",
        },
        "paid": paid,
        "period_end": ts(period_start),
        "period_start": ts(period_start),
        "status": "paid" if paid else "open",
    }
    if legacy:
        obj["subscription"] = subscription
        line["type"] = "subscription"
    else:
        obj["parent"] = {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription},
        }
    return obj


def subscription(
    *,
    sub_id: str,
    customer: str,
    period_end: datetime,
    cancel_at_period_end: bool = False,
    status: str = "active",
    legacy: bool = False,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": sub_id,
        "object": "subscription",
        "cancel_at_period_end": cancel_at_period_end,
        "customer": customer,
        "status": status,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_Fake",
                    "object": "subscription_item",
                    "current_period_end": ts(period_end),
                }
            ],
        },
    }
    if legacy:
        obj["current_period_end"] = ts(period_end)
        del obj["items"]["data"][0]["current_period_end"]
    return obj


def charge(
    *, payment_intent: str, amount: int, refunded: int, customer: str | None = None
) -> dict[str, Any]:
    n = next(_ids)
    return {
        "id": f"ch_1Fake{n:08d}",
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": refunded,
        "currency": "usd",
        "customer": customer,
        "paid": True,
        "payment_intent": payment_intent,
        "refunded": refunded == amount,
        "status": "succeeded",
    }


def dispute(*, payment_intent: str, amount: int) -> dict[str, Any]:
    n = next(_ids)
    return {
        "id": f"du_1Fake{n:08d}",
        "object": "dispute",
        "amount": amount,
        "charge": f"ch_1Fake{n:08d}",
        "currency": "usd",
        "payment_intent": payment_intent,
        "reason": "fraudulent",
        "status": "needs_response",
    }
