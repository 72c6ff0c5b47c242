"""Every field the API accepts, at its longest, fits everything it is written into.

Walked through the HTTP app on SQLite and PostgreSQL with MobiSlon and Meta on:
checkout (JSON and the pay form), the sandbox's signed webhook, fulfilment,
the public relays, restore, activation, the bot API, and the outbox delivered
to local stand-ins of the tracker and the Graph API. Before the fix, a clickid
of 500 characters made the fulfilment's outbox key overflow its column on
PostgreSQL: the webhook answered 503 on every retry and the order stayed unpaid.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accessgate.adapters.sqlalchemy.tables import orders, outbox
from accessgate.domain.model.outbox import MAX_DEDUPE_KEY, OutboxStatus
from accessgate.domain.model.values import MAX_CLICKID, MAX_TELEGRAM_CHAT_ID, MAX_TELEGRAM_ID
from tests.relays.servers import StubServer, Tracker
from tests.storage.app_world import BASE_URL, INTERNAL_TOKEN, SqlApp, sql_app
from tests.storage.conftest import SQL_BACKENDS

# 64 + 1 + 189 = 254 characters, the longest address.
EMAIL = "b" * 64 + "@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 57 + ".com"
MAX = 512
DELIVERY_ROUNDS = 10


def clickid(letter: str) -> str:
    """The longest clickid, in two-byte characters (a column counts characters)."""
    return letter * MAX_CLICKID


def params(value: str = "в") -> dict[str, str]:
    """The most tracking parameters, each name and value at its longest."""
    return {f"{n:02d}".ljust(MAX, "k"): value * MAX for n in range(50)}


async def checkout_json(app: SqlApp, click: str) -> dict[str, Any]:
    response = await app.client.post(
        "/api/payment/checkout-session",
        params={"fbclid": "f" * MAX},
        json={
            "mode": "one_time",
            "plan": "one_time_basic",
            "email": EMAIL,
            "clickid": click,
            "locale": "ru",
            "telegram_chat_id": "@" + "c" * (MAX_TELEGRAM_CHAT_ID - 1),
        },
        headers={"User-Agent": "u" * 2000, "Cookie": "_fbc=fb.1.1700000000000." + "z" * 900},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def checkout_form(app: SqlApp, click: str) -> str:
    response = await app.client.post(
        "/pay",
        data={
            "plan": "sub_monthly",
            "email": EMAIL,
            "clickid": click,
            "telegram_chat_id": "-100" + "9" * (MAX_TELEGRAM_CHAT_ID - 4),
            "fbclid": "g" * MAX,
            "locale": "en",
        },
        headers={"Origin": BASE_URL, "User-Agent": "v" * MAX},
    )
    assert response.status_code == 303, response.text
    session_id: str = response.headers["location"].rsplit("/", 1)[-1]
    return session_id


async def pay(app: SqlApp, session_id: str) -> str:
    """Pay the session through the sandbox's signed webhook; return the activation token."""
    async with app.uow(read_only=True) as uow:
        order = await uow.orders.get_by_session_id(session_id)
    assert order is not None
    response = await app.pay(session_id, order.id, order.amount.amount, order.amount.currency)
    assert response.status_code == 200, response.text
    assert response.json()["outcomes"] == ["fulfilled"]
    status = await app.client.get("/api/payment/session-status", params={"session_id": session_id})
    assert status.status_code == 200, status.text
    assert status.json()["payment_status"] == "paid"
    link: str = status.json()["activation_link"]
    return link.rsplit("=", 1)[-1]


async def relays(app: SqlApp, click: str) -> None:
    """The public relays with every field at its longest."""
    post = await app.client.post(
        "/api/tracking/mobi-slon-event",
        json={
            "status": "transition_to_payment",
            "clickid": click,
            "session_id": "s" * MAX,
            "page_path": "/" + "p" * (MAX - 1),
            "tracking_params": params(),
        },
    )
    assert post.json() == {"status": "queued"}, post.text
    beacon = await app.client.get(
        "/api/tracking/mobi-slon-event",
        params={
            "status": "block7_completed",
            "clickid": click,
            "session_id": "s" * MAX,
            "page_path": "/" + "p" * (MAX - 1),
        }
        | params("v"),  # ASCII: the URL stays under the client's 64 KiB
    )
    assert beacon.status_code == 200, beacon.text
    meta = await app.client.get(
        "/api/tracking/meta-event",
        params={"status": "L" * 128, "fbclid": "f" * MAX, "ip": "i" * MAX, "ua": "u" * MAX},
    )
    assert meta.json() == {"status": "queued"}, meta.text


async def account(app: SqlApp, token: str) -> None:
    """Activation, the bot API, restore and the portal with their longest values."""
    activated = await app.client.post(
        "/api/access/activate",
        json={"activation_token": token, "telegram_user_id": MAX_TELEGRAM_ID},
    )
    assert activated.status_code == 200, activated.text
    status = await app.client.post(
        "/api/bot/access/status",
        json={"telegram_user_id": MAX_TELEGRAM_ID},
        headers={"X-Internal-Token": INTERNAL_TOKEN},
    )
    assert status.json()["is_paid"] is True, status.text
    requested = await app.client.post("/api/auth/restore/request", json={"email": EMAIL})
    assert requested.status_code == 200, requested.text
    confirm = await app.client.post(
        "/api/auth/restore/confirm",
        json={"email": EMAIL, "otp": "9" * 16, "telegram_user_id": MAX_TELEGRAM_ID},
    )
    assert confirm.status_code == 400, confirm.text
    portal = await app.client.post("/api/payment/customer-portal", json={"email": EMAIL})
    assert portal.status_code < 500, portal.text


async def deliver_all(app: SqlApp) -> None:
    """Run the outbox worker until nothing is due (bounded)."""
    worker = app.core.deliver_outbox()
    for _ in range(DELIVERY_ROUNDS):
        if (await worker.execute()).claimed == 0:
            return
    raise AssertionError("the outbox did not drain")


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_every_field_at_its_longest_checkout_to_delivery(
    backend: str, tmp_path: Path, schema: str | None, tracker: Tracker, graph: StubServer
) -> None:
    async with sql_app(
        backend,
        tmp_path=tmp_path,
        schema=schema,
        tracker_url=tracker.server.base_url,
        graph_url=graph.base_url,
    ) as app:
        first, second = clickid("ж"), clickid("ё")
        started = await checkout_json(app, first)
        await relays(app, first)
        token = await pay(app, started["session_id"])
        await pay(app, await checkout_form(app, second))
        await account(app, token)
        await deliver_all(app)

        async with app.uow.engine.connect() as conn:
            rows = (await conn.execute(select(outbox.c.dedupe_key, outbox.c.status))).all()
            kept = (await conn.execute(select(orders.c.clickid, orders.c.user_agent))).all()
        assert rows
        assert all(len(key) <= MAX_DEDUPE_KEY for key, _ in rows)
        assert Counter(status for _, status in rows) == {OutboxStatus.DELIVERED: len(rows)}
        assert sorted(kept) == [(first, "u" * MAX), (second, "v" * MAX)]

    assert tracker.counted == Counter(
        {
            (first, "transition_to_payment"): 1,
            (first, "block7_completed"): 1,
            (first, "pay_success"): 1,
            (second, "pay_success"): 1,
        }
    )
    sent = [event["event_name"] for request in graph.received for event in request.json["data"]]
    assert sorted(sent) == ["L" * 128, "Purchase", "Purchase"]
    assert len(app.mailer.sent) >= 2  # the two access emails (and the restore code)
