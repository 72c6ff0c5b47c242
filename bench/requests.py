"""Request files for wrk: signed Stripe deliveries and reads, as raw HTTP/1.1 requests.

Each record is ``<length>\\n<raw request>`` (see ``replay.lua``). Deliveries are
signed here with the configured webhook secret and the current time, right before
the run that sends them, so the default 300 s signature tolerance holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import stripe
from bench.seed import PoolOrder
from bench.stripe_verify import payload

WEBHOOK_PATH = "/api/stripe/webhook"


def _raw(method: str, path: str, host: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def write(path: Path, requests: Iterable[bytes]) -> int:
    """Write the records; returns how many."""
    count = 0
    with path.open("wb") as out:
        for raw in requests:
            out.write(b"%d\n" % len(raw))
            out.write(raw)
            count += 1
    return count


def delivery(order: PoolOrder, secret: str, host: str, path: str = WEBHOOK_PATH) -> bytes:
    """One ``checkout.session.completed`` delivery for ``order``, signed now."""
    body = payload(
        order_id=order.order_id,
        session_id=order.session_id,
        event_id=order.event_id,
        amount=order.amount,
        clickid=order.clickid,
        payment_intent=order.payment_intent,
    )
    signature = stripe.WebhookSignature.generate_signature_header(body.decode(), secret)
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
    headers["User-Agent"] = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    return _raw("POST", path, host, headers, body)


def deliveries(path: Path, orders: list[PoolOrder], secret: str, host: str, url: str) -> int:
    """Write one signed delivery per order (the order of the list is the send order)."""
    return write(path, (delivery(o, secret, host, url) for o in orders))


def session_reads(path: Path, session_ids: list[str], host: str) -> int:
    """``GET /api/payment/session-status`` for each session."""
    return write(
        path,
        (
            _raw("GET", f"/api/payment/session-status?session_id={sid}", host, {})
            for sid in session_ids
        ),
    )


def bot_reads(path: Path, user_ids: list[int], host: str, token: str) -> int:
    """``POST /api/bot/access/status`` with ``X-Internal-Token`` for each Telegram user."""
    headers = {"Content-Type": "application/json", "X-Internal-Token": token}
    return write(
        path,
        (
            _raw(
                "POST",
                "/api/bot/access/status",
                host,
                headers,
                json.dumps({"telegram_user_id": uid}).encode(),
            )
            for uid in user_ids
        ),
    )
