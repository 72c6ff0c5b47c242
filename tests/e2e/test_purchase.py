"""The whole purchase over real HTTP against ``accessgate serve`` with the sandbox provider."""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx

from accessgate.adapters.sandbox import SandboxPaymentGateway
from accessgate.adapters.system import SystemClock
from tests.e2e.server import Server

TELEGRAM_USER = 777000111
CODE_RE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


def internal(server: Server) -> dict[str, str]:
    return {"X-Internal-Token": server.env["INTERNAL_API_TOKEN"]}


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def mails_to(server: Server, email: str, needle: str) -> list[dict[str, object]]:
    return [
        r
        for r in server.records()
        if r["logger"] == "accessgate.mail"
        and f"To: {email}" in str(r["message"])
        and needle in str(r["message"])
    ]


def checkout(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post(
        "/api/payment/checkout-session",
        json={"mode": "one_time", "plan": "one_time_basic", "email": email, "clickid": "clk-1"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def wait_for_status(client: httpx.Client, session_id: str, wanted: str) -> dict[str, str]:
    body: dict[str, str] = {}
    for _ in range(100):  # bounded: 100 x 0.1 s
        body = client.get("/api/payment/session-status", params={"session_id": session_id}).json()
        if body.get("access_status") == wanted:
            return body
        time.sleep(0.1)
    raise AssertionError(f"session never reached {wanted}: {body}")


def test_purchase_activation_and_restore(server: Server) -> None:
    email = "buyer@example.com"
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        started = checkout(client, email)
        session_id = started["session_id"]
        assert started["checkout_url"] == f"{server.base_url}/sandbox/checkout/{session_id}"
        pending = client.get("/api/payment/session-status", params={"session_id": session_id})
        assert pending.json()["payment_status"] == "unpaid"

        page = client.get(started["checkout_url"])
        assert page.status_code == 200
        assert email in page.text
        assert "19.00 USD" in page.text
        assert f'action="/sandbox/checkout/{session_id}/pay"' in page.text

        paid = client.post(
            f"/sandbox/checkout/{session_id}/pay", headers={"Origin": server.base_url}
        )
        assert paid.status_code == 303
        assert paid.headers["location"].startswith(f"/pay/success?session_id={session_id}")

        status = wait_for_status(client, session_id, "token_issued")
        assert (status["payment_status"], status["fulfillment_status"]) == ("paid", "fulfilled")
        link = status["activation_link"]
        assert link.startswith(f"{server.base_url}/activate?token=")
        success = client.get(paid.headers["location"])
        assert 'data-status="paid"' in success.text
        assert link in success.text

        # The webhook came in through the same endpoint as any provider's.
        assert any(
            r["logger"] == "uvicorn.access" and "POST /webhook/sandbox" in r["message"]
            for r in server.records()
        )
        old_token = token_of(link)
        opened = client.get("/activate", params={"token": old_token})
        assert opened.status_code == 200
        request_id = opened.headers["x-request-id"]
        access_log = server.wait_for_records(
            lambda r: r["logger"] == "uvicorn.access" and r["request_id"] == request_id
        )
        assert "GET /activate?token=[REDACTED]" in access_log[0]["message"]

        activated = client.post(
            "/api/access/activate",
            json={"activation_token": old_token, "telegram_user_id": TELEGRAM_USER},
        )
        assert activated.status_code == 200, activated.text
        assert activated.json()["access_granted"] is True
        bot = client.post(
            "/api/bot/access/status",
            json={"telegram_user_id": TELEGRAM_USER},
            headers=internal(server),
        )
        assert bot.status_code == 200
        assert bot.json()["is_paid"] is True
        assert bot.json()["access_status"] == "active"

        requested = client.post("/api/auth/restore/request", json={"email": email})
        assert requested.status_code == 200, requested.text
        mail = server.wait_for_records(
            lambda r: (
                r["logger"] == "accessgate.mail"
                and f"To: {email}" in r["message"]
                and CODE_RE.search(r["message"]) is not None
            )
        )[-1]
        match = CODE_RE.search(str(mail["message"]))
        assert match is not None
        confirmed = client.post(
            "/api/auth/restore/confirm", json={"email": email, "otp": match.group(1)}
        )
        assert confirmed.status_code == 200, confirmed.text
        new_link = confirmed.json()["activation_link"]
        assert new_link != link

        refused = client.post(
            "/api/access/activate",
            json={"activation_token": old_token, "telegram_user_id": TELEGRAM_USER},
        )
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "TOKEN_INVALID"
        again = client.post(
            "/api/access/activate",
            json={"activation_token": token_of(new_link), "telegram_user_id": TELEGRAM_USER},
        )
        assert again.status_code == 200, again.text
        assert again.json()["access_status"] == "active"

    # No log record but the console mailer's carries a token, the code or the session id
    # (the session id shows the activation link until it is used).
    secrets = (old_token, token_of(new_link), match.group(1), session_id)
    leaked = [
        r
        for r in server.records()
        if r["logger"] != "accessgate.mail" and any(s in str(r) for s in secrets)
    ]
    assert leaked == []
    access = [str(r["message"]) for r in server.records() if r["logger"] == "uvicorn.access"]
    assert any("GET /activate?token=[REDACTED]" in m for m in access)
    assert any("GET /api/payment/session-status?session_id=[REDACTED]" in m for m in access)
    assert any("GET /pay/success?session_id=[REDACTED]" in m for m in access)


def test_twelve_duplicate_webhooks_fulfil_once(server: Server) -> None:
    email = "dupes@example.com"
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        started = checkout(client, email)
    # The test plays the provider: it signs with the server's sandbox secret.
    delivery = SandboxPaymentGateway(
        secret=server.env["SANDBOX_WEBHOOK_SECRET"].encode(),
        clock=SystemClock(),
        public_base_url=server.base_url,
    ).signed_event(
        outcome="pay",
        session_id=started["session_id"],
        order_id=started["order_id"],
        amount=1900,
        currency="USD",
        event_id="evt_e2e_duplicate",
    )

    async def deliver_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as client:
            return await asyncio.gather(
                *(
                    client.post("/webhook/sandbox", content=delivery.body, headers=delivery.headers)
                    for _ in range(12)
                )
            )

    responses = asyncio.run(deliver_all())
    assert [r.status_code for r in responses] == [200] * 12, [r.text for r in responses]
    outcomes = [o for r in responses for o in r.json()["outcomes"]]
    assert outcomes.count("fulfilled") == 1, outcomes
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        status = wait_for_status(client, started["session_id"], "token_issued")
    server.wait_for_records(
        lambda r: r["logger"] == "accessgate.mail" and f"To: {email}" in r["message"]
    )
    time.sleep(1.0)  # five poll intervals: room for a second email, which must not come
    assert len(mails_to(server, email, started["order_id"])) == 1
    assert status["activation_link"]
