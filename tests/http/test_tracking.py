"""Tracking relays: MobiSlon POST and beacon, Meta event.

The events that count a payment (MobiSlon ``pay_success``, Meta ``Purchase``)
are refused by the public endpoints; only the fulfilment of a verified payment
writes them.
"""

from __future__ import annotations

import json
from typing import Any

from accessgate.domain.model.outbox import Channel

from .helpers import assert_envelope, client_for, make_settings, paid_order

MOBISLON = make_settings(
    mobislon_postback_url="https://tracker.example/index.php?cnv_id={clickid}&cnv_status={status}",
    meta_pixel_id="123",
    meta_access_token="meta-token",
)


def _outbox(core: object, channel: Channel) -> list[dict[str, str]]:
    store = core.uow().store  # type: ignore[attr-defined]
    return [m.payload for m in store.tables.outbox.values() if m.channel is channel]


async def test_mobislon_post_queues_once_per_clickid_and_status() -> None:
    async with client_for(MOBISLON) as (client, core):
        body = {
            "status": "start_quiz",
            "clickid": "clk-9",
            "session_id": "s1",
            "page_path": "/quiz",
            "tracking_params": {"utm_source": "fb"},
        }
        first = await client.post("/api/tracking/mobi-slon-event", json=body)
        assert first.status_code == 200
        assert first.json() == {"status": "queued"}
        again = await client.post("/api/tracking/mobi-slon-event", json=body)
        assert again.json() == {"status": "duplicate"}
        [payload] = _outbox(core, Channel.MOBISLON)
        assert payload["clickid"] == "clk-9"
        assert json.loads(payload["tracking_params"]) == {"utm_source": "fb"}


async def test_mobislon_validation() -> None:
    async with client_for(MOBISLON) as (client, _):
        cases = [
            ({"status": "bogus", "clickid": "c"}, "status"),
            ({"status": "start_quiz"}, "clickid"),
            (
                {"status": "start_quiz", "clickid": "c", "tracking_params": {"a": 1}},
                "tracking_params",
            ),
            ({"status": "start_quiz", "clickid": "c" * 600}, "clickid"),
            ({"status": "start_quiz", "clickid": "c", "extra": 1}, "extra"),
        ]
        for body, field in cases:
            response = await client.post("/api/tracking/mobi-slon-event", json=body)
            error = assert_envelope(response, 400, "VALIDATION_ERROR")
            assert error["details"]["field"] == field, response.text


async def test_mobislon_disabled_when_not_configured() -> None:
    async with client_for() as (client, _):
        response = await client.post(
            "/api/tracking/mobi-slon-event", json={"status": "start_quiz", "clickid": "c"}
        )
        assert response.json() == {"status": "disabled"}


async def test_mobislon_beacon_answers_a_transparent_gif() -> None:
    async with client_for(MOBISLON) as (client, core):
        response = await client.get(
            "/api/tracking/mobi-slon-event",
            params={"status": "block1_completed", "clickid": "c7", "page_path": "/b1", "utm": "x"},
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/gif"
        assert "no-store" in response.headers["cache-control"]
        assert response.content.startswith(b"GIF89a")
        assert len(response.content) == 42
        [payload] = _outbox(core, Channel.MOBISLON)
        assert payload["page_path"] == "/b1"
        assert json.loads(payload["tracking_params"]) == {"utm": "x"}
        bad = await client.get("/api/tracking/mobi-slon-event", params={"status": "nope"})
        assert_envelope(bad, 400, "VALIDATION_ERROR")


async def test_meta_event_defaults_ip_and_user_agent_to_the_caller() -> None:
    async with client_for(MOBISLON) as (client, core):
        response = await client.get(
            "/api/tracking/meta-event",
            params={"status": "ViewContent", "fbclid": "fbc1"},
            headers={"User-Agent": "agent/2"},
        )
        assert response.status_code == 200
        assert response.json() == {"status": "queued"}
        response = await client.get(
            "/api/tracking/meta-event",
            params={"status": "Lead", "ip": "203.0.113.9", "ua": "given/1"},
        )
        first, second = _outbox(core, Channel.META)
        assert (first["event_name"], first["client_ip"], first["user_agent"]) == (
            "ViewContent",
            "testclient",
            "agent/2",
        )
        assert first["fbclid"] == "fbc1"
        assert (second["client_ip"], second["user_agent"]) == ("203.0.113.9", "given/1")
        response = await client.get("/api/tracking/meta-event")
        assert_envelope(response, 400, "VALIDATION_ERROR")


async def test_public_relays_refuse_the_events_that_count_a_payment() -> None:
    async with client_for(MOBISLON) as (client, core):
        refused = [
            await client.post(
                "/api/tracking/mobi-slon-event", json={"status": "pay_success", "clickid": "c"}
            ),
            await client.post(
                "/api/tracking/mobi-slon-event", json={"status": " pay_success ", "clickid": "c"}
            ),
            await client.get(
                "/api/tracking/mobi-slon-event", params={"status": "pay_success", "clickid": "c"}
            ),
            *[
                await client.get("/api/tracking/meta-event", params={"status": name})
                for name in ("Purchase", "purchase", " PURCHASE ")
            ],
        ]
        for response in refused:
            error = assert_envelope(response, 400, "VALIDATION_ERROR")
            assert error["details"]["field"] == "status", response.text
        assert core.uow().store.tables.outbox == {}


async def test_the_paid_order_still_reports_pay_success_and_purchase() -> None:
    async with client_for(MOBISLON) as (client, core):
        await paid_order(client, core, clickid="clk-paid")
        [postback] = _outbox(core, Channel.MOBISLON)
        assert (postback["clickid"], postback["status"]) == ("clk-paid", "pay_success")
        [purchase] = _outbox(core, Channel.META)
        assert purchase["event_name"] == "Purchase"


async def test_openapi_no_longer_offers_pay_success_on_the_public_relay() -> None:
    async with client_for(MOBISLON) as (client, _):
        document: dict[str, Any] = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/tracking/mobi-slon-event"]
    body_ref = operation["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = document["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]
    post_enum = body["properties"]["status"]["enum"]
    [status] = [p for p in operation["get"]["parameters"] if p["name"] == "status"]
    get_enum = status["schema"]["enum"]
    for offered in (post_enum, get_enum):
        assert "pay_success" not in offered
        assert {"start_quiz", "transition_to_payment"} <= set(offered)
