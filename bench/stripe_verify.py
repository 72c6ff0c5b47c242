"""Micro-measurement: StripeGateway.verify_webhook vs stripe.Webhook.construct_event.

Both verify the same signed ``checkout.session.completed`` delivery (a full,
real-shaped event of about 3 KB); ours also maps it to a PaymentEvent.
Run: ``.venv/bin/python bench/stripe_verify.py``. Not a test: timings vary.
"""

from __future__ import annotations

import json
import time
import timeit

import stripe

from accessgate.adapters.stripe import StripeGateway

SECRET = "whsec_bench_0123456789abcdef0123456789abcdef"


ORDER_ID = "ord_3f2a9c0d1e2b3a4c5d6e7f80"
SESSION_ID = "cs_test_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6"
EVENT_ID = "evt_1PqRsTuVwXyZ0123456789ab"


def payload(
    order_id: str = ORDER_ID,
    session_id: str = SESSION_ID,
    event_id: str = EVENT_ID,
    amount: int = 1990,
    clickid: str = "a1b2c3d4e5",
    payment_intent: str = "pi_3PqRsTuVwXyZ0123456789ab",
) -> bytes:
    """A real-shaped, pretty-printed ``checkout.session.completed`` delivery body."""
    now = int(time.time())
    session = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": True},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": amount,
        "amount_total": amount,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": "https://shop.example/pay?cancelled=1",
        "client_reference_id": order_id,
        "client_secret": None,
        "collected_information": {"shipping_details": None},
        "consent": None,
        "consent_collection": None,
        "created": now - 60,
        "currency": "usd",
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": "cus_QwErTyUiOp1234",
        "customer_creation": "always",
        "customer_details": {
            "address": {
                "city": None,
                "country": "DE",
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": "buyer@example.com",
            "name": "Jane Buyer",
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
        "customer_email": "buyer@example.com",
        "discounts": [],
        "expires_at": now + 86340,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": "en",
        "metadata": {
            "order_id": order_id,
            "clickid": clickid,
            "locale": "en",
            "telegram_chat_id": "123456789",
        },
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": {"id": "pmc_1AbCdEf", "parent": None},
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card", "link"],
        "payment_status": "paid",
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "complete",
        "submit_type": None,
        "subscription": None,
        "success_url": "https://shop.example/pay/success?session_id={CHECKOUT_SESSION_ID}",
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": None,
        "wallet_options": None,
    }
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": now - 2,
        "data": {"object": session},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
    }
    return json.dumps(event, indent=2).encode()


def measure(rounds: int = 5) -> dict[str, float]:
    """Best-of-``rounds`` seconds per event of both, and the payload size."""
    body = payload()
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
    headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
    gateway = StripeGateway(
        secret_key="sk_test_bench",
        webhook_secrets=[SECRET],
        price_one_time_basic="price_a",
        price_sub_monthly="price_b",
        public_base_url="https://shop.example",
    )
    [event] = gateway.verify_delivery(body, headers)
    assert event.order_id == ORDER_ID
    assert stripe.Webhook.construct_event(body, header, SECRET).id == event.event_id

    def ours() -> object:
        return gateway.verify_delivery(body, headers)

    def sdk() -> object:
        return stripe.Webhook.construct_event(body, header, SECRET)

    results = {"payload_bytes": float(len(body))}
    for name, fn, number in (("verify_webhook", ours, 20000), ("construct_event", sdk, 2000)):
        results[name] = min(timeit.repeat(fn, number=number, repeat=rounds)) / number
    return results


def main() -> None:
    results = measure()
    for name in ("verify_webhook", "construct_event"):
        print(f"{name:16s} {results[name] * 1e6:9.1f} us/event")
    ratio = results["construct_event"] / results["verify_webhook"]
    print(f"payload {results['payload_bytes']:.0f} bytes; verify_webhook is {ratio:.0f}x faster")


if __name__ == "__main__":
    main()
